"""The run-directory policy: what a training run may do with the folder it writes to.

``prepare_run_dir(run_dir, resume, overwrite)`` is called once before a run starts writing
(by ``langpose.cli`` before ``fit``; a trainer may call it itself: a second call with the
same arguments finds nothing more to do). Its contract:

- **A run is never replaced silently.** A folder that already holds a run's results
  (``checkpoint.pt``, ``last.pt`` or ``metrics.jsonl``) is refused with ``RunDirError``, a
  one-line message naming the folder and the two choices: ``--resume`` (continue from
  ``last.pt``) or ``--overwrite`` (delete that run's files, then start afresh).
- ``resume=True`` with no ``last.pt``: logs a WARNING (logger ``langpose.rundir``) that the
  run starts fresh, unless the folder holds other results (``checkpoint.pt``/``metrics.jsonl``
  without ``last.pt``): those cannot be resumed, so that is refused too (``--overwrite``).
- ``overwrite=True`` deletes the previous run's files (``RUN_FILES`` + ``config.json``) and
  nothing else; ``resume`` and ``overwrite`` together are an error.
- **Stale temporaries are removed**: the ``.NAME.XXXXXXXX.tmp.EXT`` files of
  ``langpose.atomic`` (e.g. ``.checkpoint.k3j2x9q1.tmp.pt``) and the ``.write-test.*`` probes
  that a process killed mid-save (SIGKILL, power loss) left behind. Only this folder's top
  level is touched, and only names of those two shapes.
- **No empty run dir is left behind by a failed run.** The returned ``RunDir`` is a context
  manager: when the block raises (any exception, KeyboardInterrupt included) and the run
  saved no checkpoint (no ``last.pt``/``checkpoint.pt``), it removes what the run wrote
  (``config.json``, ``metrics.jsonl``, temporaries) and then the folders that
  ``prepare_run_dir`` found missing, if they are empty. A folder that existed before is
  kept; a run that saved ``last.pt`` is kept whole (``--resume`` continues it). The
  exception is never swallowed.
- Under ``torchrun`` every rank may call it with ``main=False`` except rank 0: the checks
  (and the refusal) run on every rank, the deletions, the warning and the cleanup on rank 0
  only.

Nothing is created by ``prepare_run_dir`` itself (the trainer creates the folder).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["RunDir", "RunDirError", "prepare_run_dir", "stale_temporaries", "RUN_FILES", "CONFIG_FILE"]

RUN_FILES: tuple[str, ...] = ("checkpoint.pt", "last.pt", "metrics.jsonl")
"""The results of a run: their presence means the folder holds a run."""
CONFIG_FILE = "config.json"
WEIGHT_FILES: tuple[str, ...] = ("last.pt", "checkpoint.pt")

# langpose.atomic: mkstemp(prefix=".{stem}.", suffix=".tmp{suffix}") -> ".{stem}.{8 random}.tmp{suffix}";
# langpose.train.check_run_dir: mkstemp(prefix=".write-test.") -> ".write-test.{8 random}"
_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp(\.[A-Za-z0-9]+)?$|^\.write-test\.[A-Za-z0-9_]{8}$")


class RunDirError(ValueError):
    """The run directory cannot be used as asked (it holds a run; conflicting options)."""


def stale_temporaries(run_dir) -> list[Path]:
    """The temp files of interrupted atomic writes in ``run_dir`` (top level only)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    return sorted(p for p in run_dir.iterdir() if _TEMP.match(p.name) and p.is_file())


@dataclass
class RunDir:
    """A prepared run directory; ``with`` it around the run to clean up after a failure."""

    path: Path
    resume: bool = False
    overwrite: bool = False
    main: bool = True
    created: list[Path] = field(default_factory=list)  # folders that did not exist, outermost first
    removed: list[Path] = field(default_factory=list)  # what prepare_run_dir deleted

    def has_checkpoint(self) -> bool:
        return any((self.path / name).is_file() for name in WEIGHT_FILES)

    def cleanup_failed(self) -> list[Path]:
        """After a failed run: remove what it wrote if it saved no checkpoint (see the module docstring).

        Returns the removed paths. Does nothing off the main rank or when a checkpoint exists.
        """
        if not self.main or self.has_checkpoint() or not self.path.is_dir():
            return []
        gone = []
        for p in [self.path / CONFIG_FILE, self.path / "metrics.jsonl", *stale_temporaries(self.path)]:
            if p.is_file():
                p.unlink(missing_ok=True)
                gone.append(p)
        for d in reversed(self.created):  # innermost first
            try:
                d.rmdir()  # only if empty
                gone.append(d)
            except OSError:
                break
        return gone

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            try:
                gone = self.cleanup_failed()
            except OSError as err:  # never hide the run's own error behind a cleanup error
                logger.warning("could not clean up %s after the failed run: %s", self.path, err)
            else:
                if gone:
                    logger.info("the run failed before its first checkpoint: removed %s",
                                ", ".join(str(p) for p in gone))
        return False


def _missing_folders(path: Path) -> list[Path]:
    """Folders from the first missing ancestor of ``path`` down to ``path`` (empty if ``path`` exists)."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    if p.exists() and not p.is_dir():
        what = "is a file" if p != path else "is a file, not a folder"
        raise RunDirError(f"run dir {path}: not writable ({p} {what})")
    return list(reversed(missing))


def prepare_run_dir(run_dir, resume: bool = False, overwrite: bool = False, *, main: bool = True) -> RunDir:
    """Apply the run-directory policy to ``run_dir`` before a run writes to it; see the module docstring.

    Args:
        run_dir: the run's output folder (need not exist).
        resume: the run continues from ``run_dir/last.pt`` (``--resume``).
        overwrite: the run may replace a run already in ``run_dir`` (``--overwrite``).
        main: this process writes (rank 0); other ranks only check.
    Returns:
        ``RunDir``; use it as a context manager around the run.
    Raises:
        RunDirError: the folder holds a run and neither ``resume`` nor ``overwrite`` was given,
            ``resume`` and ``overwrite`` were both given, or the path is not a folder.
    """
    path = Path(run_dir)
    if resume and overwrite:
        raise RunDirError(f"run dir {path}: --resume and --overwrite exclude each other (resume continues the run "
                          f"in it, overwrite deletes it)")
    if str(run_dir).strip() == "":
        raise RunDirError("run dir: empty path; give a folder, e.g. --run-dir runs/my_run")
    created = _missing_folders(path)
    rd = RunDir(path=path, resume=resume, overwrite=overwrite, main=main, created=created)
    if created:  # a new folder: nothing to check or clean
        if resume and main:
            logger.warning("--resume: %s does not exist, starting a fresh run", path / "last.pt")
        return rd
    if main:
        for tmp in stale_temporaries(path):
            try:
                tmp.unlink()
                rd.removed.append(tmp)
            except OSError as exc:
                logger.warning("could not remove the stale temporary file %s: %s", tmp, exc)
        if rd.removed:
            logger.warning("removed %d stale temporary file(s) left by an interrupted save in %s: %s",
                           len(rd.removed), path, ", ".join(p.name for p in rd.removed))
    results = [name for name in RUN_FILES if (path / name).exists()]
    has_last = (path / "last.pt").is_file()
    if results and overwrite:
        if main:
            for name in (*RUN_FILES, CONFIG_FILE):
                p = path / name
                if p.is_file():
                    p.unlink()
                    rd.removed.append(p)
            logger.warning("--overwrite: deleted the previous run in %s (%s)", path, ", ".join(results))
        return rd
    if results and not resume:
        raise RunDirError(f"run dir {path} already holds a run ({', '.join(results)}): pass --resume to continue "
                          f"it, or --overwrite to replace it (or choose another --run-dir)")
    if resume and not has_last:
        if results:
            raise RunDirError(f"run dir {path} holds {', '.join(results)} but no last.pt to resume from: pass "
                              f"--overwrite to replace that run (or choose another --run-dir)")
        if main:
            logger.warning("--resume: %s does not exist, starting a fresh run", path / "last.pt")
    return rd
