"""Where results go: the rules that keep the user's files safe, and the atomic install.

The rules (README, "Robustesse"):

* territoire writes a results folder only where it may: a folder that does
  not exist yet, an empty folder, or a folder it wrote before (it holds the
  marker file :data:`MARKER`, which lists the files written). A folder holding
  anything else is refused and left untouched: nothing the tool did not write
  is ever deleted or overwritten.
* An output is never an input, nor a folder holding one.
* A results folder is built aside (``.NAME.territoire-XXXXXXXX.tmp``) and put
  in place only when complete; the previous results are swapped out and
  removed. Signals are held during the swap; if the swap fails, the previous
  results are put back. A later run removes the temporary folders an
  interrupted run left (only those carrying the marker, while it holds the
  lock) and puts back previous results a crash left aside.
* One run at a time writes a given folder: a lock file next to it
  (``.NAME.territoire-verrou``, removed at the end) makes a second run stop
  with a message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .errors import TerritoireError

#: Marker file of a results folder written by territoire.
MARKER = ".territoire"
_TAG = "territoire"


def marker_bytes(files: Sequence[str]) -> bytes:
    """Content of the marker: the tool and the files it wrote (deterministic)."""
    doc = {"outil": _TAG, "version": __version__, "fichiers": sorted(set(files) - {MARKER})}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def written_files(folder: Path) -> set[str] | None:
    """Files territoire wrote in ``folder`` according to its marker; ``None`` when there is no valid marker."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("outil") != _TAG or not isinstance(doc.get("fichiers"), list):
        return None
    # Plain names only: a forged marker cannot point outside the folder.
    return {f for f in doc["fichiers"] if isinstance(f, str) and f not in ("", ".", "..", MARKER)
            and "/" not in f and "\\" not in f and "\0" not in f}


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_folder(dest: Path, inputs: Sequence[str | Path] = (), *, must_exist: bool = False) -> None:
    """Refuse a results folder territoire may not write (see the module's rules)."""
    shown = str(dest)
    if dest.is_symlink():
        raise TerritoireError(f"le dossier de sortie « {shown} » est un lien symbolique : indiquez un "
                              "dossier réel.")
    full = dest.resolve()
    for item in inputs:
        if item is not None and _inside(Path(item).resolve(), full):
            raise TerritoireError(f"le fichier d'entrée « {item} » est dans le dossier de sortie « {shown} » : "
                                  "les résultats ne s'écrivent jamais là où sont les données. Indiquez un "
                                  "autre dossier de sortie (par exemple --sortie resultats).")
    if not dest.exists():
        if must_exist:
            raise TerritoireError(f"le dossier « {shown} » n'existe pas.")
        return
    if not dest.is_dir():
        raise TerritoireError(f"« {shown} » existe et n'est pas un dossier : il n'est pas modifié. Indiquez "
                              "un nouveau dossier de sortie.")
    entries = sorted(p.name for p in dest.iterdir())
    if not entries:
        return
    ours = written_files(dest)
    if ours is None:
        raise TerritoireError(f"le dossier « {shown} » existe et contient des fichiers que territoire n'a pas "
                              f"écrits ({_some(entries)}) : il n'est pas modifié. Indiquez un nouveau dossier "
                              "de sortie (par exemple --sortie resultats).")
    foreign = [e for e in entries if e != MARKER and e not in ours]
    if foreign:
        raise TerritoireError(f"le dossier de résultats « {shown} » contient des fichiers que territoire n'a "
                              f"pas écrits ({_some(foreign)}) : il n'est pas remplacé. Déplacez-les, ou "
                              "indiquez un nouveau dossier de sortie.")


def _some(names: list[str], n: int = 3) -> str:
    return ", ".join(names[:n]) + (f" et {len(names) - n} autre(s)" if len(names) > n else "")


def check_file(dest: Path, inputs: Sequence[str | Path], suffixes: Sequence[str],
               is_ours: Callable[[Path], bool]) -> None:
    """Refuse an output file that is an input, has another format, or is a file territoire did not write."""
    if dest.suffix.lower() not in suffixes:
        raise TerritoireError(f"« {dest} » : extension {dest.suffix or '(aucune)'} non prise en charge pour la "
                              f"sortie ; utilisez {' ou '.join(suffixes)}.")
    for item in inputs:
        if item is not None and dest.resolve() == Path(item).resolve():
            raise TerritoireError(f"« {dest} » est le fichier d'entrée : il n'est jamais écrasé. Indiquez un "
                                  "autre fichier de sortie.")
    if dest.is_symlink() or (dest.exists() and not dest.is_file()):
        raise TerritoireError(f"« {dest} » existe et n'est pas un fichier ordinaire : il n'est pas modifié.")
    if dest.exists() and not is_ours(dest):
        raise TerritoireError(f"« {dest} » existe et n'a pas été écrit par territoire : il n'est pas écrasé. "
                              "Indiquez un nouveau fichier de sortie.")


# --- lock ----------------------------------------------------------------------------------

def _lock_path(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.territoire-verrou"


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _absolute(path: str | Path) -> Path:
    """``path`` made absolute without following links (``.`` gets a name and a parent)."""
    return Path(os.path.abspath(path))


@contextmanager
def locked(dest: Path) -> Iterator[None]:
    """Hold the lock of ``dest`` (one writing run at a time); the lock file is removed at the end."""
    path = _lock_path(_absolute(dest))
    for _ in range(5):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TerritoireError(f"impossible d'écrire dans le dossier {dest.parent} ({exc.strerror}).") from None
        if not _try_lock(fd):
            os.close(fd)
            raise TerritoireError(f"un autre calcul de territoire écrit déjà dans « {dest} » : attendez qu'il "
                                  "se termine, ou indiquez un autre dossier de sortie.")
        try:  # the file may have been removed by the run that held it: lock the current one
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    else:  # pragma: no cover - five removals in a row
        raise TerritoireError(f"verrou de « {dest} » impossible à prendre.")
    try:
        yield
    finally:
        Path(path).unlink(missing_ok=True)
        os.close(fd)


# --- temporary folders and install -----------------------------------------------------------

def _leftovers(dest: Path) -> list[Path]:
    pattern = re.compile(rf"^\.{re.escape(dest.name)}\.territoire-[a-z0-9_]{{8}}\.(tmp|ancien)$")
    if not dest.parent.is_dir():
        return []
    return sorted(p for p in dest.parent.iterdir()
                  if pattern.match(p.name) and p.is_dir() and not p.is_symlink()
                  and written_files(p if p.suffix == ".tmp" else p / dest.name) is not None)


def recover(dest: Path) -> None:
    """With the lock held: put back results a crash left aside, remove stale temporary folders."""
    for p in _leftovers(dest):
        if p.suffix == ".ancien" and not dest.exists() and (p / dest.name).is_dir():
            os.replace(p / dest.name, dest)
        shutil.rmtree(p, ignore_errors=True)


def _new_temporary(dest: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=f".{dest.name}.territoire-", suffix=".tmp", dir=dest.parent))
    except OSError as exc:
        raise TerritoireError(f"impossible d'écrire dans le dossier {dest.parent} ({exc.strerror}).") from None


_HELD = tuple(getattr(signal, s) for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGINT/SIGTERM/SIGHUP during a few renames (delivered right after)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks; the window is a few renames
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def install(tmp: Path, dest: Path) -> None:
    """Put the complete folder ``tmp`` in place of ``dest`` (previous results swapped out, or rolled back)."""
    os.chmod(tmp, 0o755)  # mkdtemp makes folders private; results are meant to be shared
    with _signals_held():
        if not dest.exists():
            os.replace(tmp, dest)
            return
        if _inside(Path.cwd().resolve(), dest.resolve()):
            _install_in_place(tmp, dest)
            return
        aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.territoire-", suffix=".ancien", dir=dest.parent))
        os.replace(dest, aside / dest.name)
        try:
            os.replace(tmp, dest)
        except BaseException:
            os.replace(aside / dest.name, dest)  # roll back: the previous results stay in place
            aside.rmdir()
            raise
    shutil.rmtree(aside, ignore_errors=True)


def _install_in_place(tmp: Path, dest: Path) -> None:
    """The results folder is the current folder (``--sortie .``): move the files in, one by one.

    Swapping the folder itself would pull it from under the user's shell.
    """
    old = written_files(dest) or set()
    new = sorted(p.name for p in tmp.iterdir())
    for name in new:
        if name != MARKER:
            os.replace(tmp / name, dest / name)
    for name in sorted(old - set(new)):
        (dest / name).unlink(missing_ok=True)
    os.replace(tmp / MARKER, dest / MARKER)
    tmp.rmdir()


@contextmanager
def results_folder(dest: str | Path, inputs: Sequence[str | Path] = ()) -> Iterator[Path]:
    """Build a results folder aside and install it at ``dest`` when the block ends without error.

    Yields the temporary folder to write into; it already carries the marker,
    so that a later run can recognise and remove it if this one is killed.
    On error or interruption the temporary folder is removed and ``dest`` is
    unchanged. The caller writes the final marker (:func:`marker_bytes`).
    """
    shown = Path(dest)
    check_folder(shown, inputs)
    dest = _absolute(shown)
    created = [p for p in reversed(dest.parents) if not p.exists()]
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TerritoireError(f"impossible de créer le dossier {dest.parent} ({exc.strerror}).") from None
    try:
        with _locked_results(dest, shown, inputs) as tmp:
            yield tmp
    except BaseException:
        for p in reversed(created):  # the folders this run created for nothing
            try:
                p.rmdir()
            except OSError:
                break
        raise


@contextmanager
def _locked_results(dest: Path, shown: Path, inputs: Sequence[str | Path]) -> Iterator[Path]:
    with locked(dest):
        recover(dest)
        check_folder(shown, inputs)  # again: recovery may have put previous results back
        tmp = _new_temporary(dest)
        try:
            (tmp / MARKER).write_bytes(marker_bytes([]))
            yield tmp
            install(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
