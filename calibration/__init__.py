"""Calibration of scenarios on audits of secretariats (``secsim calibrate``).

Audit files live in ``calibration/audits/``; see docs/calibration.md for the method.
"""
