"""One run at a time per output folder: a lock file (``OUT/run.lock``, ``OUT/compare.lock``,
``OUT/sweep.lock``) names the run that writes it.

The lock file holds the pid, host, start time and command of its run. It is created
atomically (a hard link of a complete file, so it is never seen half-written) and removed
when the run ends. A lock left by a process that no longer runs on this host (killed,
crashed) is stale: the next run takes it over and says so. A lock from another host cannot
be checked from here, so it is refused with the way to clear it.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class LockError(Exception):
    """The output folder is being written by another run (or holds an unreadable lock)."""


def _process_start(pid: int) -> str | None:
    """The start time of a process in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(pid: int, start: str | None = None) -> bool:
    """Whether process ``pid`` of this host still runs (and is the one started at ``start``)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, run by another user
        return True
    except OSError:
        return False
    now = _process_start(pid)
    return start is None or now is None or now == start


def read_lock(out: str | Path, name: str) -> dict[str, Any] | None:
    """The lock file ``name`` of ``out`` (None if there is none; ``{}`` if unreadable)."""
    return _read(Path(out) / name)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        info = json.loads(text)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def held_by_live_run(info: dict[str, Any] | None) -> bool:
    """Whether a lock belongs to a run that may still be writing (another host: assumed)."""
    if info is None:
        return False
    if not info:  # unreadable: cannot tell, assume held
        return True
    if info.get("host") != platform.node():
        return True
    return process_alive(int(info.get("pid", -1)), info.get("process_start"))


def _describe(info: dict[str, Any]) -> str:
    return (f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started "
            f"{info.get('started', '?')}: {info.get('command', '?')}")


def _create(complete: Path, path: Path) -> None:
    """Create ``path`` with the text of ``complete``; FileExistsError if it exists."""
    try:
        os.link(complete, path)  # atomic, and never seen half-written
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: exclusive create, then write
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(complete.read_text(encoding="utf-8"))


class FolderLock:
    """The lock file ``name`` of one output folder, held by this process between ``acquire``
    and ``release``; ``what`` names the kind of run in messages ('sweep', 'run')."""

    def __init__(self, out: str | Path, name: str, what: str,
                 notify: Callable[[str], None] | None = None):
        self.out = Path(out)
        self.name, self.what = name, what
        self.path = self.out / name
        self.notify = notify or (lambda text: print(text, file=sys.stderr))
        self.info: dict[str, Any] | None = None
        self.took_over: dict[str, Any] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise LockError naming the run that holds it and what to do."""
        self.out.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": platform.node(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "process_start": _process_start(os.getpid()),
              "command": " ".join(sys.argv)}
        tmp = self.out / f".{self.name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(me, indent=2), encoding="utf-8")
        try:
            for _ in range(5):
                try:
                    _create(tmp, self.path)
                    self.info = me
                    return
                except FileExistsError:
                    pass
                other = read_lock(self.out, self.name)
                if other is None:  # released meanwhile: try again
                    continue
                if held_by_live_run(other):
                    raise LockError(self._refusal(other))
                self._take_over(other)
            raise LockError(f"{self.out}: could not take {self.path} (other runs keep taking "
                            "it); try again")
        finally:
            tmp.unlink(missing_ok=True)

    def _refusal(self, other: dict[str, Any]) -> str:
        if not other:
            return (f"{self.out} holds an unreadable lock file {self.path}; if no {self.what} is "
                    f"writing this folder, delete {self.path} and run again")
        if other.get("host") != platform.node():
            return (f"{self.out} is locked by a {self.what} on another machine ({_describe(other)}); "
                    f"wait for it to finish or stop it, or choose another --out. If that run "
                    f"is gone, delete {self.path} and run again")
        return (f"{self.out} is being written by another {self.what} ({_describe(other)}); wait for "
                "it to finish or stop it, or choose another --out")

    def _take_over(self, stale: dict[str, Any]) -> None:
        """Remove a dead run's lock, unless another run replaced it in the meantime."""
        grabbed = self.out / f".{self.name}.{os.getpid()}.stale"
        try:
            os.rename(self.path, grabbed)  # atomic: only one run grabs this file
        except FileNotFoundError:
            return
        if _read(grabbed) != stale:  # a live run's fresh lock: put it back
            try:
                os.link(grabbed, self.path)
            except FileExistsError:
                pass
            grabbed.unlink(missing_ok=True)
            return
        grabbed.unlink(missing_ok=True)
        self.took_over = stale
        self.notify(f"{self.out}: took over the lock of an earlier {self.what} that is no longer "
                    f"running ({_describe(stale)})")

    def release(self) -> None:
        """Remove the lock if this process holds it (idempotent)."""
        if self.info is None:
            return
        if read_lock(self.out, self.name) == self.info:
            self.path.unlink(missing_ok=True)
        self.info = None

