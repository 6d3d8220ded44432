"""One replication in SimPy: secretaries, lines, desks, the report pipeline, records.

Knows nothing of files, processes or executors; imports only ``scenario``.
"""
