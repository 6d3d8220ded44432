"""The report pipeline: dictated -> typed (secretary) -> signed (doctor) -> sent (secretary).

Sign-off is either a pure delay (``validation_delay``, no capacity: the department declares
no doctors) or a queue that the department's doctors work through in sittings
(``engine.doctors.SignOff``). With back-end voice recognition the secretary proofreads a
draft (a share of the typing time). With front-end recognition the doctor corrects his own
draft: with doctors declared this costs him ``front_end.extra_minutes`` (in his next
sitting or right after dictating) and a secretary only sends the report; without doctors
he signs and sends it himself after the (scaled) delay. ``adoption`` is the share of
dictations using recognition. Every per-report draw is made up front, indexed by the
report's rank in its stream, so a report is the same report in every scenario.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.arrivals import batch_arrivals, profile_arrivals
from simulation.engine.context import Context, ScheduledArrivals
from simulation.engine.doctors import SignOff
from simulation.engine.draws import resumption_rows
from simulation.engine.work import Report, WorkItem
from simulation.scenario.schema import DictationStream

SECRETARY, BACK_END, FRONT_END = "secretary", "back_end", "front_end"

MAX_SITTINGS = 100  # typing sittings of one report (see DictationStream.typing_session)


class ReportPipeline(ScheduledArrivals):
    """All reports of one dictation stream."""

    def __init__(self, ctx: Context, department: str, name: str, stream: DictationStream,
                 signoff: SignOff | None = None):
        self.ctx = ctx
        self.department = department
        self.name = name
        self.stream = stream
        self.signoff = signoff
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
        self.sending = stream.sending.sample(rng("sending"), n)
        # Sending and corrections happen in an order that depends on staffing: their
        # resumption costs are drawn per report so they stay paired across scenarios.
        cost = ctx.policy.resumption_cost
        self.sending_resume = resumption_rows(cost, rng("sending_resumption"), n)
        self.rework_resume = resumption_rows(cost, rng("rework_resumption"), n)
        if signoff is None:
            validation = stream.validation_delay.sample(rng("validation"), n)
            self.validation = np.where(self.modes == FRONT_END,
                                       validation * vr.validation_factor, validation)
        else:
            spec = signoff.spec
            self.doctor = rng("doctor").integers(len(signoff.names), size=n)
            self.doctor_time = spec.time_per_report.sample(rng("doctor_time"), n)
            self.front_end_extra = spec.front_end.extra_minutes.sample(rng("front_end"), n)
            self.rework = rng("rework").random(n) < spec.rework.share
            self.rework_typing = spec.rework.typing.sample(rng("rework_typing"), n)

    def arrive(self, i: int) -> None:
        """Dictation ``i``: its report goes to typing, or to the doctor (front-end)."""
        ctx = self.ctx
        doctor = self.signoff.names[self.doctor[i]] if self.signoff is not None else ""
        report = Report(ctx.next_id(), self.department, self.name, str(self.modes[i]),
                        ctx.env.now, self.stream.target_days, doctor, i)
        ctx.recorder.reports.append(report)
        if report.mode == FRONT_END:
            self._front_end(report, i)
            return
        work = float(self.typing[i])
        session = self.stream.typing_session
        # Capped: a far-tail typing time must not become thousands of tasks (a hang).
        sittings = 1 if session is None else min(MAX_SITTINGS, max(1, round(work / session)))
        report.sittings_left = sittings
        for k in range(sittings):
            ctx.new_task("typing", self.department, self.name, self.stream.audit_category,
                         False, work / sittings, ref=report,
                         on_done=lambda item, now: self._sitting_done(report, i),
                         on_start=self._typing_started,
                         key=f"{self._key(i)}:typing" + (f"{k + 1}" if sittings > 1 else ""))

    def _front_end(self, report: Report, i: int) -> None:
        if self.signoff is None:
            self._after(float(self.validation[i]), lambda: self._doctor_sends(report))
            return
        extra = float(self.front_end_extra[i])
        if self.signoff.spec.front_end.when == "at_dictation":
            self.signoff.correct_now(report, extra)
            self._after(extra, lambda: self._to_signoff(report, i, 0.0))
        else:
            self._to_signoff(report, i, extra)

    @staticmethod
    def _typing_started(item: WorkItem, _secretary) -> None:
        report: Report = item.ref
        if np.isnan(report.typing_started):
            report.typing_started = item.first_start

    def _sitting_done(self, report: Report, i: int) -> None:
        report.sittings_left -= 1
        if report.sittings_left == 0:
            report.typed = self.ctx.env.now
            self._to_signoff(report, i, 0.0)

    def _after(self, delay: float, then) -> None:
        self.ctx.env.timeout(delay).callbacks.append(lambda _ev: then())

    def _to_signoff(self, report: Report, i: int, extra: float) -> None:
        if self.signoff is None:
            self._after(float(self.validation[i]), lambda: self._signed(report, i))
        else:
            self.signoff.submit(report, float(self.doctor_time[i]) + extra,
                                lambda: self._signed(report, i))

    def _signed(self, report: Report, i: int) -> None:
        """Signed: back to the secretary once for corrections (rework), or to sending."""
        if self.signoff is not None and self.rework[i] and report.reworks == 0 \
                and report.mode != FRONT_END:
            report.reworks += 1
            report.in_rework = True
            self.ctx.new_task("typing", self.department, self.name, self.stream.audit_category,
                              False, float(self.rework_typing[i]), ref=report,
                              on_done=lambda item, now: self._reworked(report, i),
                              resume_costs=self.rework_resume[i],
                              key=f"{self._key(i)}:rework")
            return
        report.validated = self.ctx.env.now
        self.ctx.new_task("sending", self.department, self.name, self.stream.audit_category,
                          False, float(self.sending[i]), on_done=self._sent, ref=report,
                          resume_costs=self.sending_resume[i],
                          key=f"{self._key(i)}:sending")

    def _key(self, i: int) -> str:
        return f"{self.department}:{self.name}:{i}"

    def _reworked(self, report: Report, i: int) -> None:
        report.in_rework = False
        self._to_signoff(report, i, 0.0)

    def _sent(self, item: WorkItem, now: float) -> None:
        item.ref.sent = now

    def _doctor_sends(self, report: Report) -> None:
        report.validated = report.sent = self.ctx.env.now
