"""Running tasks on Dask distributed: an existing cluster (``scheduler``) or a local one.

Same interface as the executors in ``executors.py``: ``run(tasks)`` yields
``(index, result or exception)`` as tasks finish. At most ``in_flight`` tasks are
submitted at once, so a sweep of any size keeps the scheduler's memory flat. Dask is
imported only here and only when used (the ``dask`` extra of the package).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from simulation.runs.executors import Task

INSTALL_HINT = "install it with: pip install -e '.[dask]'  (or pip install 'dask[distributed]')"


class DaskUnavailable(RuntimeError):
    """Dask is not installed, or the scheduler cannot be reached or used."""


def import_distributed():
    """The ``distributed`` module, or a DaskUnavailable saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise DaskUnavailable(f"Dask distributed is not installed ({exc}); {INSTALL_HINT}") \
            from None
    return distributed


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Start processes with SIGINT ignored: Ctrl-C stops the sweep in this process, which
    then shuts the local cluster down, instead of every worker printing a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_version() -> str:
    """Run on each worker: the secsim version it imports (checks it is installed there)."""
    from simulation.version import __version__

    return __version__


class DaskExecutor:
    """Tasks on a Dask cluster: ``scheduler='tcp://host:8786'`` or a LocalCluster of
    ``workers`` single-threaded processes (default: one per core)."""

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 in_flight: int | None = None, connect_timeout: float = 20.0,
                 quiet: bool = True):
        import_distributed()  # fail now, before any work, if Dask is missing
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.scheduler = scheduler
        self.in_flight = in_flight
        self.connect_timeout = connect_timeout
        self.quiet = quiet
        if scheduler:
            self.name = f"dask ({scheduler})"
        else:
            self.name = f"dask (local, {workers or os.cpu_count() or 1} workers)"

    def check(self) -> None:
        """Connect to the scheduler (if any) and check its workers, before any work."""
        if self.scheduler:
            client, _ = self._connect()
            client.close()

    def _connect(self):
        distributed = import_distributed()
        cluster = None
        if self.scheduler:
            try:
                client = distributed.Client(self.scheduler, timeout=self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise DaskUnavailable(
                    f"cannot reach the Dask scheduler at {self.scheduler} ({exc}); check the "
                    "address and that 'dask scheduler' and workers run there") from None
            self._check_workers(client)
        else:
            level = logging.ERROR if self.quiet else logging.WARNING
            with _workers_ignore_ctrl_c():
                cluster = distributed.LocalCluster(
                    n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1,
                    processes=True, dashboard_address=":0", silence_logs=level)
            client = distributed.Client(cluster)
        return client, cluster

    def _check_workers(self, client) -> None:
        from simulation.version import __version__

        try:
            versions = client.run(_worker_version)
        except Exception as exc:  # noqa: BLE001 - a worker without secsim raises ImportError
            raise DaskUnavailable(
                f"the Dask workers at {self.scheduler} cannot import secsim ({exc}); install "
                "this project (same version) on every worker") from None
        other = {w: v for w, v in versions.items() if v != __version__}
        if other:
            raise DaskUnavailable(f"Dask workers run secsim {sorted(set(other.values()))}, this "
                                  f"is {__version__}; install the same version everywhere")

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[int, Any]]:
        distributed = import_distributed()
        client, cluster = self._connect()
        pending: dict[Any, int] = {}
        try:
            slots = max(1, sum(client.nthreads().values()))
            limit = self.in_flight or 2 * slots
            queue = iter(enumerate(tasks))
            finished = distributed.as_completed(loop=client.loop)

            def submit_more() -> None:
                while len(pending) < limit:
                    nxt = next(queue, None)
                    if nxt is None:
                        return
                    i, (fn, args) = nxt
                    future = client.submit(fn, *args, pure=False)
                    pending[future] = i
                    finished.add(future)

            submit_more()
            for future in finished:
                i = pending.pop(future)
                if future.status == "finished":
                    outcome: Any = future.result()
                else:
                    try:
                        outcome = future.exception()
                    except Exception as exc:  # noqa: BLE001 - e.g. CancelledError
                        outcome = exc
                future.release()
                yield i, outcome
                submit_more()
        finally:
            if pending:
                client.cancel(list(pending))
            client.close()
            if cluster is not None:
                cluster.close()
