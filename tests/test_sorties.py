"""Safety of outputs (issue 12): nothing the user owns is deleted, interrupted runs leave nothing behind.

Every case snapshots the folders involved (names and bytes) before the run
and compares after; fatal cases also check: exit 2, a French message, no
traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from territoire import destination, export

from .conftest import ESSONNE

TINY = "CPTS,Code INSEE\nCPTS Nord,91027\nCPTS Nord,91326\nCPTS Sud,91432\n"


def run(*args: object, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "territoire.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})})


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(res: subprocess.CompletedProcess, *words: str) -> None:
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and res.stderr.startswith("Erreur : ")
    for w in words:
        assert w in res.stderr, res.stderr


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "p.csv").write_text(TINY, encoding="utf-8")
    return tmp_path


# --- --sortie never deletes or overwrites what territoire did not write -----------------------

def test_output_folder_holding_the_input_is_refused(work):
    envoi = work / "envoi"
    envoi.mkdir()
    shutil.copy(work / "p.csv", envoi / "p.csv")
    (envoi / "notes.txt").write_text("mes notes", encoding="utf-8")
    before = snapshot(work)
    refused(run("analyse", "envoi/p.csv", "--sortie", "envoi", "--sans-carte", cwd=work), "fichier d'entrée")
    refused(run("planifier", "envoi/p.csv", "--sortie", "envoi", cwd=work), "fichier d'entrée")
    refused(run("analyse", "p.csv", "--population", "envoi/p.csv", "--sortie", "envoi", cwd=work))
    assert snapshot(work) == before


@pytest.mark.parametrize("command", ["analyse", "planifier"])
def test_existing_folder_not_written_by_territoire_is_refused(work, command):
    docs = work / "Documents"
    (docs / "sous-dossier").mkdir(parents=True)
    (docs / "rapport annuel.docx").write_bytes(b"PK\x03\x04 precious")
    (docs / "sous-dossier" / "photo.jpg").write_bytes(b"\xff\xd8")
    before = snapshot(work)
    refused(run(command, "p.csv", "--sortie", docs, "--sans-carte", cwd=work), "n'a pas", "nouveau dossier")
    refused(run(command, "../p.csv", "--sortie", ".", "--sans-carte", cwd=docs), "nouveau dossier")
    assert snapshot(work) == before


def test_results_folder_is_replaced_but_not_a_file_added_to_it(work):
    assert run("analyse", "p.csv", "--sortie", "res", "--sans-carte", cwd=work).returncode == 0
    assert destination.written_files(work / "res") == {p.name for p in (work / "res").iterdir()} - {".territoire"}
    assert run("planifier", "p.csv", "--sortie", "res", "--sans-carte", cwd=work).returncode == 0
    assert (work / "res" / "scenario.json").exists() and not (work / "res" / "synthese.json").exists()
    (work / "res" / "notes.txt").write_text("à garder", encoding="utf-8")
    before = snapshot(work)
    refused(run("analyse", "p.csv", "--sortie", "res", "--sans-carte", cwd=work), "notes.txt")
    assert snapshot(work) == before


def test_sortie_dot_in_an_empty_folder_writes_in_place_and_reruns(work):
    here = work / "ici"
    here.mkdir()
    for command in ("analyse", "planifier", "analyse"):
        res = run(command, "../p.csv", "--sortie", ".", "--sans-carte", cwd=here)
        assert res.returncode == 0, res.stderr
    names = {p.name for p in here.iterdir()}
    assert "synthese.json" in names and "scenario.json" not in names and ".territoire" in names
    assert sorted(p.name for p in work.iterdir()) == ["ici", "p.csv"]  # no lock or temporary folder left


def test_perimetres_sortie_rules(work):
    before = snapshot(work)
    refused(run("perimetres", "p.csv", "--sortie", "p.csv", cwd=work), "fichier d'entrée")
    refused(run("perimetres", "p.csv", "--sortie", "./sous/../p.csv", cwd=work), "fichier d'entrée")
    refused(run("perimetres", "p.csv", "--sortie", "p.txt", cwd=work), ".csv ou .xlsx")
    (work / "autre.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    before = snapshot(work)
    refused(run("perimetres", "p.csv", "--sortie", "autre.csv", cwd=work), "n'a pas été écrit par territoire")
    assert snapshot(work) == before
    for name in ("n.csv", "n.xlsx", "n.csv"):  # written, then replaced since it is ours
        res = run("perimetres", "p.csv", "--sortie", name, cwd=work)
        assert res.returncode == 0, res.stderr
    from territoire import read
    for name in ("n.csv", "n.xlsx"):
        table = read.read_perimeters(work / name).table
        assert sorted(zip(table["cpts"], table["code_commune"])) == [
            ("CPTS Nord", "91027"), ("CPTS Nord", "91326"), ("CPTS Sud", "91432")]
    assert export.is_perimeter_output(work / "n.xlsx") and not export.is_perimeter_output(work / "autre.csv")


def test_carte_writes_only_into_a_results_folder(work):
    folder = work / "a moi"
    folder.mkdir()
    for name in ("communes.csv", "cpts.csv"):
        (folder / name).write_text("x", encoding="utf-8")
    before = snapshot(work)
    refused(run("carte", folder, cwd=work), "pas un dossier de résultats")
    assert snapshot(work) == before


# --- the atomic install: rollback, recovery after a crash, stale temporary folders ------------

def _audit_folder(work: Path) -> Path:
    assert run("analyse", "p.csv", "--sortie", "res", "--sans-carte", cwd=work).returncode == 0
    return work / "res"


def test_failed_swap_rolls_back_to_previous_results(work, monkeypatch):
    res = _audit_folder(work)
    before = snapshot(work)
    real = os.replace
    calls = []

    def failing(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if Path(src).suffix == ".tmp" and Path(dst) == res:  # the new folder cannot be put in place
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(destination.os, "replace", failing)
    monkeypatch.chdir(work)
    with pytest.raises(OSError):
        export.write_results({"synthese.json": b"{}"}, res)
    assert [c for c in calls if c[1] == "res"]  # the rollback path ran
    assert snapshot(work) == before


def test_crash_between_the_renames_is_recovered_by_the_next_run(work):
    res = _audit_folder(work)
    previous = snapshot(res)
    # What a SIGKILL between the two renames leaves: the old results aside, no results folder.
    aside = work / ".res.territoire-abcd1234.ancien"
    aside.mkdir()
    os.replace(res, aside / "res")
    stale = work / ".res.territoire-wxyz9876.tmp"
    stale.mkdir()
    (stale / ".territoire").write_bytes(destination.marker_bytes([]))
    (stale / "cpts.csv").write_text("moitié", encoding="utf-8")
    foreign = work / ".res.territoire-qqqq0000.tmp"  # looks like ours, has no marker: not touched
    foreign.mkdir()
    with destination.locked(res):
        destination.recover(res)
    assert snapshot(res) == previous
    assert sorted(p.name for p in work.iterdir()) == [".res.territoire-qqqq0000.tmp", "p.csv", "res"]


def test_a_second_run_into_the_same_folder_says_so(work):
    res = _audit_folder(work)
    before = snapshot(work)
    with destination.locked(res):
        refused(run("analyse", "p.csv", "--sortie", "res", "--sans-carte", cwd=work), "un autre calcul")
        refused(run("carte", "res", cwd=work), "un autre calcul")
    assert snapshot(work) == before


@pytest.mark.lent
def test_concurrent_runs_leave_one_complete_folder_and_nothing_else(work):
    procs = [subprocess.Popen([sys.executable, "-m", "territoire.cli", cmd, "p.csv", "--sortie", "res", "--sans-carte"],
                              cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for cmd in ("analyse", "planifier", "analyse")]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert any(rc == 0 for rc, _ in outcomes)
    for rc, err in outcomes:
        assert rc == 0 or (rc == 2 and "un autre calcul" in err), err
    assert sorted(p.name for p in work.iterdir()) == ["p.csv", "res"]
    assert destination.written_files(work / "res") == {p.name for p in (work / "res").iterdir()} - {".territoire"}


def test_unwritable_places(work, monkeypatch):
    (work / "fichier").write_text("x", encoding="utf-8")
    before = snapshot(work)
    refused(run("analyse", "p.csv", "--sortie", "fichier/res", "--sans-carte", cwd=work), "impossible")
    refused(run("analyse", "p.csv", "--sortie", "fichier", "--sans-carte", cwd=work), "pas un dossier")
    assert snapshot(work) == before

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(destination.tempfile, "mkdtemp", denied)
    from territoire.errors import TerritoireError
    with pytest.raises(TerritoireError, match="impossible d'écrire"):
        export.write_results({"a.csv": b"x"}, work / "res")
    assert snapshot(work) == before


def test_unwritable_cache_falls_back_to_computing_with_a_warning(work):
    (work / "cache").write_text("not a folder", encoding="utf-8")
    res = run("analyse", "p.csv", "--sortie", "res", "--sans-carte", cwd=work,
              env={"TERRITOIRE_CACHE": str(work / "cache" / "territoire")})
    assert res.returncode == 0, res.stderr
    assert "Avertissement : le cache du graphe" in res.stderr and "Traceback" not in res.stderr


def test_cache_is_readable_by_other_users(tmp_path):
    env = {"TERRITOIRE_CACHE": str(tmp_path / "cache")}
    (tmp_path / "p.csv").write_text(TINY, encoding="utf-8")
    assert run("analyse", "p.csv", "--sortie", "res", "--sans-carte", cwd=tmp_path, env=env).returncode == 0
    files = list((tmp_path / "cache").iterdir())
    assert files and all(f.stat().st_mode & 0o044 == 0o044 for f in files)
    assert (tmp_path / "cache").stat().st_mode & 0o055 == 0o055


# --- interrupts ------------------------------------------------------------------------------

STAGES = ["import", "demarrage", "lecture", "analyse", "carte", "ecriture", "echange"]


@pytest.mark.parametrize("stage", STAGES)
def test_ctrl_c_at_each_stage(work, stage):
    res = _audit_folder(work)
    before = snapshot(work)
    out = run("analyse", ESSONNE, "--sortie", "res", cwd=work, env={"TERRITOIRE_TEST_INTERRUPTION": stage})
    assert out.returncode == 130, out.stderr
    assert out.stderr.strip().startswith("Interrompu par Ctrl-C") and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert snapshot(work) == before and res.exists()


@pytest.mark.parametrize("sig", [s for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s)])
def test_sigterm_and_sighup_while_writing_remove_temporary_files(work, sig):
    before = snapshot(work)
    out = run("analyse", "p.csv", "--sortie", "res", cwd=work, env={"TERRITOIRE_TEST_INTERRUPTION": f"ecriture:{sig}"})
    assert out.returncode == 128 + getattr(signal, sig) and sig in out.stderr and "Traceback" not in out.stderr
    assert snapshot(work) == before and sorted(p.name for p in work.iterdir()) == ["p.csv"]


def _interpreter_startup() -> float:
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t)
    return sorted(times)[1]


@pytest.mark.lent
def test_ctrl_c_sweep_of_delays(work):
    """A real SIGINT at increasing delays, from the loading of the command to the end of the run.

    The sweep starts once the interpreter itself has started (``python -c pass``): before that, Python
    runs its own start-up (site hooks of the environment) and no program can answer a signal.
    """
    assert run("--version", cwd=work).returncode == 0  # bytecode cached, as on a machine in use
    start = _interpreter_startup()
    for delay in [start + d for d in (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1.6, 2.4, 3.5)]:
        proc = subprocess.Popen([sys.executable, "-m", "territoire.cli", "analyse", "p.csv", "--sortie", "res"],
                                cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
        # A traceback may only come from Python's own start-up, never from a frame of ours.
        assert not re.search(r"[/\\]territoire[/\\]\w+\.py", err), (delay, err)
        # Killed before Python set its handler (-2, silent), stopped cleanly (130), or already done (0);
        # otherwise Python's own start-up (its site module) was interrupted, before any line of ours ran.
        assert proc.returncode in (-signal.SIGINT, 130, 0) or (
            "KeyboardInterrupt" in err and "<frozen" in err), (delay, proc.returncode, err)
        if proc.returncode == 130:
            assert err.startswith("Interrompu par Ctrl-C") and len(err.strip().splitlines()) == 1, err
        names = sorted(p.name for p in work.iterdir())
        assert names in (["p.csv"], ["p.csv", "res"]), (delay, names)
        if (work / "res").exists():  # complete, never half-written
            assert destination.written_files(work / "res") == {p.name for p in (work / "res").iterdir()} - {
                ".territoire"}
            shutil.rmtree(work / "res")


def test_hostile_text_on_the_terminal(work):
    pd.DataFrame({"CPTS": ["CPTS \x1b[2J\x1b[31mEffacé\x1b]0;titre\x07", "CPTS \u202egnp.exe"],
                  "Code INSEE": ["91027", "91326"]}).to_csv(work / "h.csv", index=False)
    for args in (("perimetres", "h.csv"), ("analyse", "h.csv", "--sortie", "r", "--sans-carte"),
                 ("planifier", "h.csv", "--sortie", "p", "--sans-carte")):
        out = run(*args, cwd=work)
        assert out.returncode == 0, out.stderr
        for text in (out.stdout, out.stderr):
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


def test_a_forged_marker_cannot_point_outside_the_folder(work):
    (work / "precieux.txt").write_text("à garder", encoding="utf-8")
    here = work / "ici"
    here.mkdir()
    (here / ".territoire").write_text('{"outil": "territoire", "fichiers": ["../precieux.txt", "/etc/hosts"]}',
                                      encoding="utf-8")
    assert destination.written_files(here) == set()
    res = run("analyse", "../p.csv", "--sortie", ".", "--sans-carte", cwd=here)
    assert res.returncode == 0, res.stderr
    assert (work / "precieux.txt").read_text(encoding="utf-8") == "à garder"


def test_a_failed_run_removes_the_folders_it_created(work):
    (work / "vide.csv").write_text("CPTS,Code INSEE\n", encoding="utf-8")
    before = snapshot(work)
    out = run("analyse", "p.csv", "--sortie", "a/b/c", "--sans-carte", cwd=work,
              env={"TERRITOIRE_TEST_INTERRUPTION": "ecriture"})
    assert out.returncode == 130
    assert snapshot(work) == before and sorted(p.name for p in work.iterdir()) == ["p.csv", "vide.csv"]
