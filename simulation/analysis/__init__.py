"""Pure functions over event tables: KPIs, confidence intervals, comparisons, theory.

No SimPy, no files; imports only ``scenario``.
"""
