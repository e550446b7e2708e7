"""The terminal session of one command: inert output, signals as clean interruptions, warnings in French.

Used by :func:`territoire.cli.main`; everything it changes is restored when
the command ends, so calling ``main`` from Python changes nothing for the
caller.
"""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import escaping
from .errors import Interruption, TerritoireWarning


class _Terminal:
    """A text stream that prints input text inertly.

    Escape sequences and control characters are removed, characters the
    console cannot encode replaced (a cp1252 console never makes the run fail).
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        safe = escaping.terminal_text(text)
        try:
            self._stream.write(safe)
        except UnicodeEncodeError:
            enc = getattr(self._stream, "encoding", None) or "ascii"
            # French typography a cp1252 console lacks: the nearest it has, then "?" for the rest.
            safe = safe.translate(_NEAREST)
            self._stream.write(safe.encode(enc, errors="replace").decode(enc))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


#: Narrow no-break space, arrows and the like, for consoles without them (Windows cp1252).
_NEAREST = str.maketrans({"\u202f": "\u00a0", "→": "->", "←": "<-", "≤": "<=", "≥": ">=", "…": "...",
                          "\u2009": " ", "⅓": "1/3"})

SIGNAL_NAMES = {getattr(signal, n): n for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}


def _raise_interruption(signum: int, frame: object) -> None:
    raise Interruption(signum)


@contextmanager
def session() -> Iterator[None]:
    """For one run: inert terminal output, SIGTERM/SIGHUP cleaned up like Ctrl-C, library warnings in French.

    Everything is restored afterwards: calling :func:`main` from Python changes nothing for the caller.
    """
    saved_streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Terminal(sys.stdout), _Terminal(sys.stderr)
    saved_handlers = {}
    for signum in SIGNAL_NAMES:
        if signum != signal.SIGINT:
            try:
                saved_handlers[signum] = signal.signal(signum, _raise_interruption)
            except ValueError:  # not the main thread: signals stay as they are
                pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", TerritoireWarning)
            warnings.showwarning = _show_warning
            yield
    finally:
        for signum, handler in saved_handlers.items():
            signal.signal(signum, handler)
        sys.stdout, sys.stderr = saved_streams


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    if issubclass(category, TerritoireWarning):
        print(f"Avertissement : {message}", file=sys.stderr)




#: What starts after each checkpoint of a run (see :func:`territoire.errors.checkpoint`).
NEXT_STEP = {"demarrage": "lecture des fichiers", "lecture": "analyse du territoire",
             "analyse": "carte, rapport et couches SIG", "carte": "écriture des résultats"}


@contextmanager
def progress(enabled: bool, sans_carte: bool = False) -> Iterator[None]:
    """Progress lines on stderr at each stage of a run (elapsed seconds, then what starts).

    Only for a person watching: off when stderr is not a terminal or with ``--quiet``.
    """
    from . import errors

    if not enabled:
        yield
        return
    import time

    start = time.monotonic()

    def report(stage: str) -> None:
        step = "écriture des résultats" if stage == "analyse" and sans_carte else NEXT_STEP.get(stage)
        if step:
            elapsed = f"{time.monotonic() - start:.1f}".replace(".", ",")
            print(f"[{elapsed} s] {step}…", file=sys.stderr, flush=True)

    errors.on_checkpoint.append(report)
    try:
        yield
    finally:
        errors.on_checkpoint.remove(report)
