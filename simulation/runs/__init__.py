"""Replications on an executor (serial, processes, Dask), written to Parquet.

Knows nothing of HTML; imports ``engine``, ``analysis`` and ``scenario``.
"""
