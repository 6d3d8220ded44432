"""Choose an executor by name: the one place that knows every kind, Dask included."""

from __future__ import annotations

from simulation.runs.executors import Executor, ProcessExecutor, SerialExecutor


def make_executor(kind: str = "processes", workers: int | None = None, **options) -> Executor:
    """An executor by name: 'serial', 'processes' or 'dask' (see ``dask_executor``)."""
    if kind == "serial" or (kind == "processes" and workers == 1):
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        from simulation.runs.dask_executor import DaskExecutor

        return DaskExecutor(workers=workers, **options)
    raise ValueError(f"unknown executor '{kind}'; use serial, processes or dask")
