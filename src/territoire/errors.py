"""User-facing errors and warnings (messages in French)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class TerritoireError(Exception):
    """A problem with the user's input: the message says what and where, in French."""

    def __init__(self, message: str, fichier: str | Path | None = None) -> None:
        self.fichier = str(fichier) if fichier is not None else None
        prefix = f"{Path(self.fichier).name} : " if self.fichier else ""
        super().__init__(prefix + message)


@dataclass
class Journal:
    """What a reading or an analysis did and found, for the user.

    ``infos`` are harmonisations, repairs and choices; ``avertissements`` are
    problems that did not stop the run.
    """

    infos: list[str] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)

    def info(self, text: str) -> None:
        self.infos.append(text)

    def warn(self, text: str) -> None:
        self.avertissements.append(text)

    def extend(self, other: "Journal") -> None:
        self.infos.extend(other.infos)
        self.avertissements.extend(other.avertissements)
