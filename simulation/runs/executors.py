"""Where replications run: in this process, in local worker processes, or on Dask.

Every executor takes the same list of picklable tasks and yields ``(index, result)`` pairs
as they finish (a task that raised yields its exception). Results do not depend on the
executor: each task carries its own seed, and callers put results back in index order.

An executor that runs on machines which may disappear (Dask) also has an ``on_incident``
attribute: when set, it is called with a dict for each worker lost while tasks ran
(``worker``, ``time``, ``expected`` and ``tasks``, the indices of tasks that run again).
When no task can run any more it raises ``ExecutorStopped``; tasks already yielded stand.
"""

from __future__ import annotations

import os
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

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        """Run the tasks; yield (index, result or exception) as each finishes."""
        for i, (fn, args) in enumerate(tasks):
            try:
                yield i, fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported per task by the caller
                yield i, exc


class ProcessExecutor:
    """A pool of local worker processes; at most ``2 * workers`` tasks in flight."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        """Run the tasks; yield (index, result or exception) as each finishes."""
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            pending: dict = {}
            queue = iter(enumerate(tasks))
            try:
                while True:
                    while len(pending) < 2 * self.workers:
                        nxt = next(queue, None)
                        if nxt is None:
                            break
                        i, (fn, args) = nxt
                        pending[pool.submit(fn, *args)] = i
                    if not pending:
                        return
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in sorted(done, key=pending.get):
                        i = pending.pop(fut)
                        exc = fut.exception()
                        yield i, exc if exc is not None else fut.result()
            finally:
                for fut in pending:
                    fut.cancel()
