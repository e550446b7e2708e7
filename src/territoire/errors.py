"""User-facing errors and warnings (messages in French)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class TerritoireError(Exception):
    """A problem with the user's input: the message says what and where, in French."""

    def __init__(self, message: str, fichier: str | Path | None = None) -> None:
        self.fichier = str(fichier) if fichier is not None else None
        prefix = f"{Path(self.fichier).name} : " if self.fichier else ""
        super().__init__(prefix + message)


class TerritoireWarning(UserWarning):
    """A problem the library worked around (message in French); the CLI prints it as a warning."""


class Interruption(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM, SIGHUP): cleaned up like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)


@dataclass
class Journal:
    """What a reading or an analysis did and found, for the user.

    ``infos`` are harmonisations, repairs and choices; ``avertissements`` are
    problems that did not stop the run.
    """

    infos: list[str] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)

    def info(self, text: str) -> None:
        """Record a harmonisation, repair or choice."""
        self.infos.append(text)

    def warn(self, text: str) -> None:
        """Record a problem that did not stop the run."""
        self.avertissements.append(text)

    def extend(self, other: Journal) -> None:
        """Add the lines of another journal."""
        self.infos.extend(other.infos)
        self.avertissements.extend(other.avertissements)


#: The terminal shows this many warnings; the full list is in the JSON and the workbook.
MAX_WARNINGS_SHOWN = 15
#: Words of the warnings that mean data left out of the figures: shown first.
_SERIOUS = ("ignorée", "inconnu", "illisible", "absente", "manquant", "non reconnu", "hors du")


def severity(line: str) -> int:
    """0 for a warning about data left out of the figures (shown first), 1 for the others."""
    return 0 if any(w in line for w in _SERIOUS) else 1


#: Called with the stage name at each checkpoint (the progress lines of :func:`territoire.console.progress`).
on_checkpoint: list[Callable[[str], None]] = []


def checkpoint(stage: str) -> None:
    """The end of a stage of a run: progress lines, and a test hook.

    ``TERRITOIRE_TEST_INTERRUPTION=stage[:SIGNAL]`` sends that signal (SIGINT by
    default) here: the robustness tests interrupt a run at each named stage this way.
    """
    for report in on_checkpoint:
        report(stage)
    wanted = os.environ.get("TERRITOIRE_TEST_INTERRUPTION")
    if not wanted:
        return
    name, _, sig = wanted.partition(":")
    if name == stage:
        import signal
        import time

        os.kill(os.getpid(), getattr(signal, sig or "SIGINT"))
        time.sleep(1)  # the handler runs at the next bytecode; never reached past it
