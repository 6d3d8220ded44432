"""Where replications run: in this process, in local worker processes, or on Dask.

Every executor takes the same list of picklable tasks and yields ``(index, result)`` pairs
as they finish (a task that raised yields its exception). Results do not depend on the
executor: each task carries its own seed, and callers put results back in index order.

An executor that runs on machines which may disappear (Dask) also has an ``on_incident``
attribute: when set, it is called with a dict for each worker lost while tasks ran
(``worker``, ``time``, ``expected`` and ``tasks``, the indices of tasks that run again).
When no task can run any more it raises ``ExecutorStopped``; tasks already yielded stand.

An executor may also have ``shared_disk`` (taken as False when absent): its tasks run on
this machine, so they may write into the caller's output folder (a replication then
streams its event tables straight there instead of handing bytes back).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

Task = tuple[Callable[..., Any], tuple]


class ExecutorStopped(RuntimeError):
    """The executor cannot run tasks any more (no worker left, scheduler unreachable)."""


class Executor(Protocol):
    """Runs tasks and yields (index, result or exception) as each finishes."""

    name: str

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]: ...


class SerialExecutor:
    """One task after the other in this process (debuggable, no pickling)."""

    name = "serial"
    shared_disk = True

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        """Run the tasks; yield (index, result or exception) as each finishes."""
        for i, (fn, args) in enumerate(tasks):
            try:
                yield i, fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported per task by the caller
                yield i, exc


class ProcessExecutor:
    """A pool of local worker processes; at most ``2 * workers`` tasks in flight.

    No worker outlives this process: each dies with it, even when it is killed with
    SIGKILL (``die_with_parent``), and a run stopped early (Ctrl-C, SIGTERM, an error)
    ends its workers at once instead of waiting for the replications they hold.
    """

    name = "processes"
    shared_disk = True

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        """Run the tasks; yield (index, result or exception) as each finishes."""
        pool = ProcessPoolExecutor(max_workers=self.workers, initializer=die_with_parent,
                                   initargs=(os.getpid(),))
        pending: dict = {}
        finished = False
        try:
            queue = iter(enumerate(tasks))
            while True:
                while len(pending) < 2 * self.workers:
                    nxt = next(queue, None)
                    if nxt is None:
                        break
                    i, (fn, args) = nxt
                    pending[pool.submit(fn, *args)] = i
                if not pending:
                    finished = True
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=pending.get):
                    i = pending.pop(fut)
                    exc = fut.exception()
                    yield i, exc if exc is not None else fut.result()
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:
                _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the workers now (their replications are abandoned)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        if process.is_alive():
            process.terminate()
    for process in workers:
        process.join(timeout=5)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when its parent process ends, however it ends.

    On Linux the kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``,
    tied to the thread that started the pool, which waits in ``run`` until the pool ends);
    elsewhere, and as a fallback, a thread exits when the parent pid changes. Ctrl-C is
    the parent's to handle: it stops the run and then its workers.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the worker got here
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="secsim-parent-watch",
                     daemon=True).start()


def _watch_parent(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)
