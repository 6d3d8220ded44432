"""The error every scenario problem becomes: sentences that name the field and the fix.

A leaf module (no pydantic, no YAML) so the command line can catch it without loading them.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario that cannot be run; ``problems`` holds (field path, message) pairs."""

    what = "the scenario"  # subclasses name their own kind of file

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        if len(problems) == 1:
            p, m = problems[0]
            lines = [f"{head}{p}: {m}" if p else f"{head}{m}"]
        else:
            lines = [f"{head}{len(problems)} problem(s) in {self.what}:"]
            lines += [f"  - {p}: {m}" if p else f"  - {m}" for p, m in problems]
        super().__init__("\n".join(lines))
