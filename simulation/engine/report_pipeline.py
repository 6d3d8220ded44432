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

import math

import numpy as np
from simpy.events import NORMAL

from simulation.engine.arrivals import batch_arrivals, profile_arrivals
from simulation.engine.context import Callback, Context, ScheduledArrivals
from simulation.engine.doctors import SignOff
from simulation.engine.draws import ArrivalDraws
from simulation.engine.work import Report, WorkItem
from simulation.scenario.schema import DictationStream

SECRETARY, BACK_END, FRONT_END = "secretary", "back_end", "front_end"

MAX_SITTINGS = 100  # typing sittings of one report (see DictationStream.typing_session)


class _Dictation:
    """A report's own draws, read at its dictation (arrival ``i`` of its stream) and carried
    along its way, so the stream's draws are read in arrival order, block by block."""

    __slots__ = ("i", "sending", "sending_resume", "rework_resume", "validation",
                 "doctor_time", "front_end_extra", "rework", "rework_typing")


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
        self.vr = stream.voice_recognition
        self.vr_u = ArrivalDraws.uniforms(rng("voice_recognition"))
        self.typing = ArrivalDraws.of(stream.typing, rng("typing"))
        self.sending = ArrivalDraws.of(stream.sending, rng("sending"))
        # Sending and corrections happen in an order that depends on staffing: their
        # resumption costs are drawn per report so they stay paired across scenarios.
        cost = ctx.policy.resumption_cost
        self.sending_resume = ArrivalDraws.resumption(cost, rng("sending_resumption"))
        self.rework_resume = ArrivalDraws.resumption(cost, rng("rework_resumption"))
        if signoff is None:
            self.validation = ArrivalDraws.of(stream.validation_delay, rng("validation"))
        else:
            spec = signoff.spec
            doctors = len(signoff.names)
            doctor_rng = rng("doctor")
            self.doctor = ArrivalDraws(
                lambda size: doctor_rng.integers(doctors, size=size).tolist())
            self.doctor_time = ArrivalDraws.of(spec.time_per_report, rng("doctor_time"))
            self.front_end_extra = ArrivalDraws.of(spec.front_end.extra_minutes,
                                                   rng("front_end"))
            self.rework = ArrivalDraws.uniforms(rng("rework"))
            self.rework_typing = ArrivalDraws.of(spec.rework.typing, rng("rework_typing"))

    def _draws(self, i: int, mode: str) -> _Dictation:
        d = _Dictation()
        d.i = i
        d.sending = self.sending[i]
        d.sending_resume = self.sending_resume[i]
        d.rework_resume = self.rework_resume[i]
        if self.signoff is None:
            d.validation = self.validation[i]
            if mode == FRONT_END:
                d.validation = d.validation * self.vr.validation_factor
        else:
            d.doctor_time = self.doctor_time[i]
            d.front_end_extra = self.front_end_extra[i]
            d.rework = self.rework[i] < self.signoff.spec.rework.share
            d.rework_typing = self.rework_typing[i]
        return d

    def arrive(self, i: int) -> None:
        """Dictation ``i``: its report goes to typing, or to the doctor (front-end)."""
        ctx, vr = self.ctx, self.vr
        mode = vr.mode if self.vr_u[i] < vr.adoption and vr.mode != "none" else SECRETARY
        doctor = self.signoff.names[self.doctor[i]] if self.signoff is not None else ""
        work = self.typing[i]
        if mode == BACK_END:
            work = work * vr.proofreading_factor
        d = self._draws(i, mode)
        report = Report(ctx.next_id(), self.department, self.name, mode,
                        ctx.env.now, self.stream.target_days, doctor, i)
        ctx.recorder.reports.append(report)
        if report.mode == FRONT_END:
            self._front_end(report, d)
            return
        session = self.stream.typing_session
        # Capped: a far-tail typing time must not become thousands of tasks (a hang).
        sittings = 1 if session is None else min(MAX_SITTINGS, max(1, round(work / session)))
        report.sittings_left = sittings
        for k in range(sittings):
            ctx.new_task("typing", self.department, self.name, self.stream.audit_category,
                         False, work / sittings, ref=report,
                         on_done=lambda item, now: self._sitting_done(report, d),
                         on_start=self._typing_started,
                         key=f"{self._key(i)}:typing" + (f"{k + 1}" if sittings > 1 else ""))

    def _front_end(self, report: Report, d: _Dictation) -> None:
        if self.signoff is None:
            self._after(d.validation, lambda: self._doctor_sends(report))
            return
        extra = d.front_end_extra
        if self.signoff.spec.front_end.when == "at_dictation":
            self.signoff.correct_now(report, extra)
            self._after(extra, lambda: self._to_signoff(report, d, 0.0))
        else:
            self._to_signoff(report, d, extra)

    @staticmethod
    def _typing_started(item: WorkItem, _secretary) -> None:
        report: Report = item.ref
        if math.isnan(report.typing_started):
            report.typing_started = item.first_start

    def _sitting_done(self, report: Report, d: _Dictation) -> None:
        report.sittings_left -= 1
        if report.sittings_left == 0:
            report.typed = self.ctx.env.now
            self._to_signoff(report, d, 0.0)

    def _after(self, delay: float, then) -> None:
        self.ctx.env.schedule(Callback(lambda _ev: then()), NORMAL, delay)

    def _to_signoff(self, report: Report, d: _Dictation, extra: float) -> None:
        if self.signoff is None:
            self._after(d.validation, lambda: self._signed(report, d))
        else:
            self.signoff.submit(report, d.doctor_time + extra, lambda: self._signed(report, d))

    def _signed(self, report: Report, d: _Dictation) -> None:
        """Signed: back to the secretary once for corrections (rework), or to sending."""
        if self.signoff is not None and d.rework and report.reworks == 0 \
                and report.mode != FRONT_END:
            report.reworks += 1
            report.in_rework = True
            self.ctx.new_task("typing", self.department, self.name, self.stream.audit_category,
                              False, d.rework_typing, ref=report,
                              on_done=lambda item, now: self._reworked(report, d),
                              resume_costs=d.rework_resume,
                              key=f"{self._key(d.i)}:rework")
            return
        report.validated = self.ctx.env.now
        self.ctx.new_task("sending", self.department, self.name, self.stream.audit_category,
                          False, d.sending, on_done=self._sent, ref=report,
                          resume_costs=d.sending_resume,
                          key=f"{self._key(d.i)}:sending")

    def _key(self, i: int) -> str:
        return f"{self.department}:{self.name}:{i}"

    def _reworked(self, report: Report, d: _Dictation) -> None:
        report.in_rework = False
        self._to_signoff(report, d, 0.0)

    def _sent(self, item: WorkItem, now: float) -> None:
        item.ref.sent = now

    def _doctor_sends(self, report: Report) -> None:
        report.validated = report.sent = self.ctx.env.now
