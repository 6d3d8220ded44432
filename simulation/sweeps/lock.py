"""``OUT/sweep.lock``: one sweep at a time per output folder (the lock itself is
``runs.lock.FolderLock``, shared with ``secsim run`` and ``compare``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulation.runs.lock import FolderLock, LockError, held_by_live_run, process_alive
from simulation.runs.lock import read_lock as _read_lock

__all__ = ["LOCK", "LockError", "SweepLock", "held_by_live_run", "process_alive", "read_lock"]

LOCK = "sweep.lock"


class SweepLock(FolderLock):
    """The sweep lock of one output folder."""

    def __init__(self, out: str | Path, notify: Callable[[str], None] | None = None):
        super().__init__(out, LOCK, "sweep", notify)


def read_lock(out: str | Path) -> dict[str, Any] | None:
    """The sweep lock of ``out`` (None if there is none; ``{}`` if it cannot be read)."""
    return _read_lock(out, LOCK)
