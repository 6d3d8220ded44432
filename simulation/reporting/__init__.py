"""Terminal tables and the self-contained HTML report: reads results, never runs a model.
"""
