"""Running tasks on Dask distributed: an existing cluster (``scheduler``) or a local one.

Same interface as the executors in ``executors.py``: ``run(tasks)`` yields
``(index, result or exception)`` as tasks finish. At most ``in_flight`` tasks are
submitted at once, so a sweep of any size keeps the scheduler's memory flat. Dask is
imported only here and only when used (the ``dask`` extra of the package).

Nothing that goes wrong on the cluster is silent: a worker lost while tasks ran is told
on stderr (``notify``) and handed to ``on_incident`` with the tasks that run again, and a
cluster left without any worker for ``worker_timeout`` seconds stops the run with
``NoWorkers`` (a message naming the scheduler) instead of waiting for ever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from simulation.runs.executors import ExecutorStopped, Task

INSTALL_HINT = "install it with: pip install -e '.[dask]'  (or pip install 'dask[distributed]')"


class DaskUnavailable(ExecutorStopped):
    """Dask is not installed, or the scheduler cannot be reached or used."""


class NoWorkers(DaskUnavailable):
    """No worker was alive on the cluster for ``worker_timeout`` seconds."""


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
    ``workers`` single-threaded processes (default: one per core).

    ``worker_timeout``: seconds to wait while no worker is alive before stopping with
    ``NoWorkers``; ``notify(text)``: where messages go (default: stderr);
    ``on_incident(record)``: called for each lost worker (see ``executors``).
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 in_flight: int | None = None, connect_timeout: float = 20.0,
                 quiet: bool = True, worker_timeout: float = 120.0,
                 notify: Callable[[str], None] | None = None, poll: float = 1.0):
        import_distributed()  # fail now, before any work, if Dask is missing
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if worker_timeout <= 0:
            raise ValueError("worker_timeout must be positive")
        self.workers = workers
        self.scheduler = scheduler
        self.in_flight = in_flight
        self.connect_timeout = connect_timeout
        self.quiet = quiet
        self.worker_timeout = worker_timeout
        self.notify = notify or _to_stderr
        self.poll = poll
        self.on_incident: Callable[[dict[str, Any]], None] | None = None
        self.incidents: list[dict[str, Any]] = []  # lost workers of the last run
        self._held: tuple[Any, Any] | None = None  # (client, cluster) kept by ``session``
        # A local cluster's workers share this machine's disk; a remote one's may not.
        self.shared_disk = scheduler is None
        if scheduler:
            self.name = f"dask ({scheduler})"
        else:
            self.name = f"dask (local, {workers or os.cpu_count() or 1} workers)"

    @property
    def where(self) -> str:
        """The cluster, for messages."""
        return f"the Dask scheduler {self.scheduler}" if self.scheduler \
            else "the local Dask cluster"

    def check(self) -> None:
        """Connect to the scheduler (if any) and check its workers, before any work."""
        if self.scheduler:
            client, _ = self._connect()
            client.close()

    @contextlib.contextmanager
    def session(self) -> Iterator[DaskExecutor]:
        """Keep one client (and local cluster) open across several ``run`` calls, e.g. the
        optimiser's batches: starting a local cluster costs seconds each time."""
        if self._held is not None:  # already in a session: nested use shares it
            yield self
            return
        self._held = self._connect()
        try:
            yield self
        finally:
            client, cluster = self._held
            self._held = None
            _close(client, cluster)

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
        owned = self._held is None
        client, cluster = self._connect() if owned else self._held
        self.incidents = []
        watch = _WorkerWatch(self, client)
        pending: dict[Any, int] = {}
        keys: dict[str, int] = {}  # key of each pending future -> task index
        try:
            queue_ = iter(enumerate(tasks))
            limit = self.in_flight or 2 * max(1, watch.threads())

            def submit_more() -> None:
                while len(pending) < limit:
                    nxt = next(queue_, None)
                    if nxt is None:
                        return
                    i, (fn, args) = nxt
                    future = client.submit(fn, *args, pure=False)
                    pending[future] = i
                    keys[future.key] = i

            submit_more()
            while pending:
                try:
                    done, _ = distributed.wait(list(pending), timeout=self.poll,
                                               return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                except Exception as exc:  # noqa: BLE001 - e.g. FuturesCancelledError
                    raise self._lost(exc) from None
                for record in watch.lost_workers(keys):
                    self._report(record)
                if not done:  # quiet for a while: is any worker left? (stops after the timeout)
                    threads = watch.threads()
                    if threads and not self.in_flight:
                        limit = max(limit, 2 * threads)
                        submit_more()
                    continue
                for future in sorted(done, key=pending.get):
                    i = pending.pop(future)
                    keys.pop(future.key, None)
                    yield i, self._outcome(future)
                submit_more()
        finally:
            watch.close()
            with contextlib.suppress(Exception):  # the scheduler may be gone
                if pending:
                    client.cancel(list(pending))
            if owned:
                _close(client, cluster)

    def _lost(self, exc: BaseException) -> DaskUnavailable:
        text = str(exc).strip()
        why = ("connection lost" if "connection" in text.lower()
               else text.splitlines()[0] if text else type(exc).__name__)
        return DaskUnavailable(
            f"lost {self.where} ({why}); the tasks it held were dropped. Check that the "
            "scheduler runs and can be reached, then resume")

    def _outcome(self, future) -> Any:
        """A finished future's result or exception (then released on the cluster)."""
        if future.status == "cancelled":
            raise self._lost(RuntimeError("cancelled"))
        if future.status == "finished":
            outcome: Any = future.result()
        else:
            try:
                outcome = future.exception()
            except Exception as exc:  # noqa: BLE001 - e.g. CancelledError
                outcome = exc
        future.release()
        return outcome

    def _report(self, record: dict[str, Any]) -> None:
        self.incidents.append(record)
        n = len(record["tasks"])
        what = "left the cluster" if record["expected"] else "was lost"
        again = (f"{n} task(s) it held will run again on another worker" if n
                 else "it held none of this run's tasks")
        self.notify(f"Dask worker {record['worker']} {what} at {record['time'][11:]}: {again}")
        if self.on_incident is not None:
            self.on_incident(record)


def _close(client, cluster) -> None:
    """Close a client and the local cluster it started, if any."""
    with contextlib.suppress(Exception):  # the scheduler may be gone
        client.close()
    if cluster is not None:
        cluster.close()


class _WorkerWatch:
    """The cluster's workers during one run: lost ones from the scheduler's events, and a
    clock that stops the run when none has been alive for ``worker_timeout`` seconds."""

    def __init__(self, executor: DaskExecutor, client):
        self.executor, self.client = executor, client
        self.address = executor.scheduler or client.scheduler.address
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.empty_since: float | None = None
        # The handler runs in the client's event-loop thread: it only queues the event.
        client.subscribe_topic("all", self.events.put)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic("all")

    def lost_workers(self, keys: dict[str, int]) -> list[dict[str, Any]]:
        """Workers removed since the last call, with the indices of the tasks they held."""
        found = []
        while True:
            try:
                stamp, msg = self.events.get_nowait()
            except queue.Empty:
                return found
            if not isinstance(msg, dict) or msg.get("action") != "remove-worker":
                continue
            held = {*msg.get("processing-tasks", ()), *msg.get("lost-computed-tasks", ())}
            found.append({
                "worker": str(msg.get("worker", "?")),
                "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(stamp)),
                "expected": bool(msg.get("expected", False)),
                "tasks": sorted(keys[k] for k in held if k in keys)})

    def threads(self) -> int:
        """Threads of the workers alive now; NoWorkers once none was for the timeout."""
        executor = self.executor
        try:
            threads = sum(self.client.nthreads().values())
        except Exception as exc:  # noqa: BLE001 - comm errors of any kind
            raise executor._lost(exc) from None
        if threads:
            if self.empty_since is not None:
                executor.notify(f"Dask workers are back at {self.address}; carrying on")
                self.empty_since = None
            return threads
        now = time.monotonic()
        if self.empty_since is None:
            self.empty_since = now
            executor.notify(f"no Dask worker alive at {self.address}: waiting up to "
                            f"{executor.worker_timeout:g} s for one (start workers with: "
                            f"dask worker {self.address})")
        elif now - self.empty_since >= executor.worker_timeout:
            raise NoWorkers(
                f"no Dask worker alive at {self.address} for {executor.worker_timeout:g} s, "
                f"so the run stopped; start workers (dask worker {self.address}) or find out "
                "why they stopped (their logs, memory limits), then resume")
        return 0


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
