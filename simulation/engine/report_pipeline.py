"""The report pipeline: dictated -> typed (secretary) -> validated (doctor) -> sent.

With back-end voice recognition the secretary proofreads a draft (a share of the typing
time); with front-end recognition the doctor corrects and sends the report himself, so no
secretary touches it. ``adoption`` is the share of dictations using recognition.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.arrivals import batch_arrivals, profile_arrivals
from simulation.engine.context import Context, ScheduledArrivals
from simulation.engine.work import Report, WorkItem
from simulation.scenario.schema import DictationStream

SECRETARY, BACK_END, FRONT_END = "secretary", "back_end", "front_end"


class ReportPipeline(ScheduledArrivals):
    """All reports of one dictation stream."""

    def __init__(self, ctx: Context, department: str, name: str, stream: DictationStream):
        self.ctx = ctx
        self.department = department
        self.name = name
        self.stream = stream
        rng = lambda purpose: ctx.streams.get(department, name, purpose)  # noqa: E731
        cal = ctx.calendar
        parts = [batch_arrivals(b, cal, rng(f"batch{i}")) for i, b in enumerate(stream.batches)]
        if stream.arrivals is not None:
            parts.append(profile_arrivals(stream.arrivals, cal, rng("arrivals")))
        self.times = np.sort(np.concatenate(parts)) if parts else np.empty(0)
        n = len(self.times)
        vr = stream.voice_recognition
        uses_vr = rng("voice_recognition").random(n) < vr.adoption
        self.modes = np.where(uses_vr & (vr.mode != "none"),
                              vr.mode if vr.mode != "none" else SECRETARY, SECRETARY)
        typing = stream.typing.sample(rng("typing"), n)
        self.typing = np.where(self.modes == BACK_END, typing * vr.proofreading_factor, typing)
        validation = stream.validation_delay.sample(rng("validation"), n)
        self.validation = np.where(self.modes == FRONT_END, validation * vr.validation_factor,
                                   validation)
        self.sending = stream.sending.sample(rng("sending"), n)

    def arrive(self, i: int) -> None:
        """Dictation ``i``: its report goes to typing, or to the doctor (front-end)."""
        ctx = self.ctx
        report = Report(ctx.next_id(), self.department, self.name, str(self.modes[i]),
                        ctx.env.now, self.stream.target_days)
        ctx.recorder.reports.append(report)
        if report.mode == FRONT_END:
            self._after(float(self.validation[i]), lambda: self._doctor_sends(report))
            return
        work = float(self.typing[i])
        session = self.stream.typing_session
        sittings = 1 if session is None else max(1, round(work / session))
        report.sittings_left = sittings
        for _ in range(sittings):
            ctx.new_task("typing", self.department, self.name, self.stream.audit_category,
                         False, work / sittings, ref=report,
                         on_done=lambda item, now: self._sitting_done(report, i))

    def _sitting_done(self, report: Report, i: int) -> None:
        report.sittings_left -= 1
        if report.sittings_left == 0:
            self._typed(report, i)

    def _after(self, delay: float, then) -> None:
        self.ctx.env.timeout(delay).callbacks.append(lambda _ev: then())

    def _typed(self, report: Report, i: int) -> None:
        report.typed = self.ctx.env.now
        self._after(float(self.validation[i]), lambda: self._validated(report, i))

    def _validated(self, report: Report, i: int) -> None:
        report.validated = self.ctx.env.now
        self.ctx.new_task("sending", self.department, self.name, self.stream.audit_category,
                          False, float(self.sending[i]), on_done=self._sent, ref=report)

    def _sent(self, item: WorkItem, now: float) -> None:
        item.ref.sent = now

    def _doctor_sends(self, report: Report) -> None:
        report.validated = report.sent = self.ctx.env.now
