"""Shared fixtures: the Essonne example of December 2019 (seed 002)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

# Keep the adjacency cache of the test run out of the user's cache.
os.environ.setdefault("TERRITOIRE_CACHE", tempfile.mkdtemp(prefix="territoire-cache-"))

ROOT = Path(__file__).resolve().parents[1]
EXEMPLES = ROOT / "data" / "exemples"
ESSONNE = EXEMPLES / "essonne_2019_perimetres.csv"
ESSONNE_POP = EXEMPLES / "essonne_2017_population_totale.csv"
DONNEES = Path(__file__).resolve().parent / "donnees"

#: Totals of the seed's tables ("population totale", December 2017 publication).
ESSONNE_TOTALS = {
    "Projet Hygie (CPTS Nord Essonne)": 138_231,
    "Projet APES (CPTS Centre Essonne)": 141_664,
    "Projet Cœur Santé Orge Yvette": 93_122,
    "Projet AMSAVI (Espace Vie)": 101_064,
    "Projet Santé Seine Essonne (Espace Vie)": 163_633,
}


@pytest.fixture(scope="session")
def essonne_audit():
    from territoire import analyse, read

    return analyse.analyse(read.read_perimeters(ESSONNE), read.read_population(ESSONNE_POP))


from .navigateur import navigateur  # noqa: E402,F401  (the browser fixture of the map tests)


def cli_en_processus(*args: object) -> subprocess.CompletedProcess:
    """Run ``territoire ARGS`` in this process (``cli.main``): what a subprocess would print and return.

    Much faster than a new interpreter; the end-to-end tests that need a real process (signals,
    start-up, working folder, environment) keep running ``python -m territoire.cli``.
    """
    import contextlib
    import io

    from territoire import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["territoire", *map(str, args)], code, out.getvalue(), err.getvalue())
