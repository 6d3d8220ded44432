"""Errors users can fix, printed by the CLI as one sentence without a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """A command-line mistake the user can fix (bad option, missing folder...)."""
