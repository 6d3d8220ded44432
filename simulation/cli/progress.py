"""The one progress bar of every command (run, compare, sweep, calibrate), drawn by tqdm.

It always writes to stderr, so ``--json`` on stdout stays clean. On a terminal it is a live
bar; in a log file (CI, batch queues) it prints a plain line about every 10% instead of
carriage returns.
"""

from __future__ import annotations

import sys
from typing import TextIO


class _Lines:
    """A stream that turns tqdm's in-place redraws into one line each (for log files)."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text and text != self.last:  # closing the bar redraws its last state
            self.stream.write(text + "\n")
            self.last = text

    def flush(self) -> None:
        self.stream.flush()


class Progress:
    """Counts finished items (replications, sweep tasks, fit evaluations) with an ETA.

    ``start(total, skipped)`` sets the work (``skipped`` = already done, e.g. on resume);
    ``step(ok)`` counts one finished item; ``note(text)`` shows a status after the bar;
    ``write(text)`` prints a message line;
    ``finish()`` ends the bar. With ``enabled=False`` only ``write`` prints.
    """

    def __init__(self, label: str, total: int = 0, enabled: bool = True,
                 stream: TextIO | None = None):
        self.label, self.enabled = label, enabled
        self.stream = stream or sys.stderr
        self.failed = 0
        self.bar = None
        if total:
            self.start(total)

    def start(self, total: int, skipped: int = 0) -> None:
        """Announce ``total`` items, ``skipped`` of them done before (resume)."""
        if not self.enabled:
            return
        from tqdm import tqdm

        tty = self.stream.isatty()
        self.bar = tqdm(total=total, initial=skipped, desc=self.label, unit="",
                        file=self.stream if tty else _Lines(self.stream),
                        dynamic_ncols=tty, ncols=None if tty else 100, ascii=not tty,
                        mininterval=0.2 if tty else 0.0,
                        # tqdm's monitor would lower miniters to 1 after 10 s without a
                        # redraw: a log would get a line per item instead of per 10%.
                        maxinterval=10.0 if tty else float("inf"),
                        miniters=None if tty else max(1, (total - skipped) // 10),
                        leave=True)
        if skipped:
            self.bar.write(f"{self.label}: {skipped}/{total} already done, resuming",
                           file=self.stream)

    def step(self, ok: bool = True) -> None:
        """Count one more finished item (``ok`` False: it failed)."""
        if self.bar is None:
            return
        if not ok:
            self.failed += 1
            self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
        self.bar.update(1)

    def note(self, text: str) -> None:
        """Show a short status after the bar (e.g. the current cost of a fit)."""
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)

    def write(self, text: str) -> None:
        """Print a message line on stderr above the bar (printed with ``-q`` too)."""
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def finish(self) -> None:
        """End the bar (its last state stays on screen)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
