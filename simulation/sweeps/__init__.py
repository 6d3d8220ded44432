"""Sweeps: spec and design points, running them on an executor, the output store, the page.
"""
