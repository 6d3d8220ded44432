"""One replication of a scenario: build the secretariats, run the clock, return the records.

Given a ``sink``, the records that can no longer change are handed to it as the run goes
(checked each midnight, ``Recorder.flush``) and dropped, so memory does not grow with the
horizon; otherwise they are kept and returned as tables at the end.
"""

from __future__ import annotations

import gc
import itertools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import pandas as pd
import simpy

from simulation.engine.context import Context, OpeningHours, run_until
from simulation.engine.demand import CallLine, Desk, TaskSource
from simulation.engine.doctors import SignOff
from simulation.engine.partition import Part, independent_parts
from simulation.engine.records import (
    Columns,
    Recorder,
    Sink,
    assemble,
    hand_over_period,
    report_status,
)
from simulation.engine.report_pipeline import ReportPipeline
from simulation.engine.secretariat import Secretariat
from simulation.engine.secretary import Secretary
from simulation.engine.seeding import RandomStreams
from simulation.engine.staff import absent_days, line_open_intervals, presence_plan
from simulation.engine.work import DONE
from simulation.scenario.calendar import MINUTES_PER_DAY
from simulation.scenario.consistency import demanded_work, serving_penalty
from simulation.scenario.distributions import Sampler
from simulation.scenario.schema import (
    URGENT_KINDS,
    BackOfficeStream,
    CallStream,
    DictationStream,
    DoctorRequestStream,
    Scenario,
    WalkInStream,
)

FLUSH_ROWS = 20_000  # records held before the final ones are handed over (a few MiB)


class Model:
    """The secretariats of a scenario for one replication (seed, replication number); only
    those of ``part`` when given (``engine.partition``), numbering its records with
    ``next_id`` (shared by the parts of one replication, so ids stay unique)."""

    def __init__(self, scenario: Scenario, seed: int, replication: int = 0,
                 sink: Sink | None = None, flush_rows: int = FLUSH_ROWS,
                 columns: Columns | None = None, part: Part | None = None,
                 next_id: Callable[[], int] | None = None):
        cal = scenario.calendar
        self.part = part
        self.sink = sink
        self.columns = columns
        self.flush_rows = flush_rows
        self.horizon_noted = False
        self.warmup = cal.warmup_days * MINUTES_PER_DAY
        self.horizon = cal.horizon_days * MINUTES_PER_DAY
        # Everything (arrivals, shifts, sittings) is drawn over the horizon plus the follow-up,
        # so the system stays in the same regime while the window's work is followed to its end.
        scenario = with_follow_up(scenario)
        self.scenario = scenario
        self.end = scenario.calendar.horizon_days * MINUTES_PER_DAY
        self.env = simpy.Environment()
        streams = RandomStreams(seed, replication)
        self.recorder = Recorder()
        self.secretariat = Secretariat(scenario.interruptions, streams.get("routing"))
        self.ctx = Context(scenario.calendar, scenario.interruptions, self.env, self.secretariat,
                           self.recorder, streams, OpeningHours(line_open_intervals(scenario)))
        if next_id is not None:
            self.ctx.next_id = next_id
        self.secretaries = self._staff(streams)
        self._declare_work()
        self.signoffs = self._doctors(streams)
        self.sources = self._sources()

    def _staff(self, streams: RandomStreams) -> list[Secretary]:
        sc = self.scenario
        staff = []
        for team_name, name, sec in sc.secretaries():
            if self.part is not None and name not in self.part.secretaries:
                continue
            absent = absent_days(sec, sc.calendar.horizon_days, streams.get("absence", name))
            for day in absent.nonzero()[0]:
                self.recorder.absences.append((name, team_name, int(day)))
            plan = presence_plan(sc, sec, absent)
            # Tasks bring their own resumption costs; hers are for pauses past those.
            resume = Sampler(sc.interruptions.resumption_cost,
                             streams.get("resumption_cost", name))
            staff.append(Secretary(self.env, name, team_name, sec.home_department, plan,
                                   self.recorder, resume))
        return staff

    def _declare_work(self) -> None:
        for dept, stream, kind, cat in demanded_work(self.scenario):
            if not self._mine(dept):
                continue
            key = (dept, stream, kind, cat)
            eligible = []
            for sec in self.secretaries:
                penalty = serving_penalty(self.scenario, sec.team, dept, kind, cat, stream)
                if penalty is not None:
                    eligible.append(sec)
                    sec.penalties[key] = penalty
            self.secretariat.add_work_key(key, eligible, self.ctx.rank(kind, kind in URGENT_KINDS))

    def _doctors(self, streams: RandomStreams) -> dict[str, SignOff]:
        """The sign-off queues of the departments that declare doctors."""
        sc = self.scenario
        return {d: SignOff(self.env, d, dept.doctors, sc.calendar, sc.calendar.horizon_days,
                           self.recorder,
                           lambda name, purpose, d=d: streams.get(d, "doctors", name, purpose))
                for d, dept in sc.departments.items()
                if dept.doctors is not None and self._mine(d)}

    def _sources(self) -> list:
        out = []
        for dname, dept in self.scenario.departments.items():
            if not self._mine(dname):
                continue
            for sname, s in dept.streams.items():
                if isinstance(s, CallStream):
                    out.append(CallLine(self.ctx, dname, sname, s))
                elif isinstance(s, WalkInStream):
                    out.append(Desk(self.ctx, dname, sname, s))
                elif isinstance(s, (DoctorRequestStream, BackOfficeStream)):
                    out.append(TaskSource(self.ctx, dname, sname, s))
                elif isinstance(s, DictationStream):
                    out.append(ReportPipeline(self.ctx, dname, sname, s,
                                              self.signoffs.get(dname)))
        return out

    def _mine(self, department: str) -> bool:
        """Whether this model runs ``department`` (all of them without a part)."""
        return self.part is None or department in self.part.departments

    def _closing_bell(self):
        """At each closing time, lines cut off their waiting callers, desks send people away."""
        queues = [src for src in self.sources if isinstance(src, (CallLine, Desk))]
        for _start, end in self.ctx.hours.intervals():
            if end >= self.end:
                return
            yield self.env.timeout(end - self.env.now)
            for src in queues:
                src.close_queue()

    def run(self, period: bool = True) -> dict[str, pd.DataFrame]:
        """Simulate the horizon, then follow the window's open work; return the record tables
        (with a sink: hand them over, the ``period`` row too unless told not to)."""
        for sec in self.secretaries:
            sec.start(self.secretariat)
        for src in self.sources:
            src.start()
        for signoff in self.signoffs.values():
            signoff.start()
        self.env.process(self._closing_bell())
        if self.sink is not None:
            self.env.process(self._hand_over())
        stop = self.env.event()
        self.env.process(self._follow_up(stop))
        # Through the table step too: a collection there scans every record still held.
        with _lenient_gc():
            run_until(self.env, stop)
            now = self.env.now
            for sec in self.secretaries:
                sec.close_books(now)
            for src in self.sources:
                if isinstance(src, CallLine):
                    src.close_books(now)
            if self.sink is None:
                return self.recorder.tables(now, self.warmup, self.horizon)
            self.recorder.flush_all(self.sink, now, self.warmup, self.horizon, self.columns,
                                    period=period)
        return {}

    def _hand_over(self):
        """Each midnight, hand the final records to the sink once enough are held."""
        env = self.env
        while True:
            yield env.timeout(MINUTES_PER_DAY - env.now % MINUTES_PER_DAY)
            self.recorder.flush(self.sink, self.flush_rows, set_status=not self.horizon_noted,
                                columns=self.columns)

    def _follow_up(self, stop: simpy.Event):
        """At the horizon, note what is open; then stop once the window's work is done.

        The window's work is every report dictated, every caller who called and every
        patient who came to a desk in [warm-up end, horizon), every task still open at the
        horizon (one worked in the window counts as interrupted if it ever is) and every
        sign-off sitting begun before it (its row is written when it ends); it is checked
        each midnight, and the run stops at ``horizon + follow_up_days`` at the latest.
        Once it is done nothing that happens later can change a KPI, so a part of the
        scenario may stop there while another goes on (``simulate``).
        """
        env = self.env
        yield env.timeout(self.horizon - env.now)
        open_work = [*self._note_open_work(),
                     partial(self.recorder.customers_in_system, self.warmup, self.horizon),
                     *(partial(s.sitting_open, self.horizon) for s in self.signoffs.values())]
        open_work = [still_open for still_open in open_work if still_open()]
        while open_work and env.now < self.end:
            yield env.timeout(min(MINUTES_PER_DAY, self.end - env.now))
            open_work = [still_open for still_open in open_work if still_open()]
        stop.succeed()

    def _note_open_work(self) -> list[Callable[[], bool]]:
        """Record the state at the horizon (backlog KPIs); return the open work to follow,
        as checks that are true while it is open: every task not done (whenever created)
        and the window's unsent reports.

        Only records still held are looked at: those handed over already are done tasks
        and sent reports (whose status at the horizon was set then)."""
        now = self.env.now
        self.horizon_noted = True
        in_progress = {id(sec.current): sec for sec in self.secretaries
                       if sec.current is not None and sec.state != "off"}
        open_work: list[Callable[[], bool]] = []
        for item in self.recorder.tasks:
            if item.status == DONE:
                continue
            if not item.urgent:
                sec = in_progress.get(id(item))
                item.remaining_at_horizon = (sec.work_left(item, now) if sec is not None
                                             else item.work + item.resume_left)
            open_work.append(lambda item=item: item.status != DONE)  # older ones too
        for report in self.recorder.reports:
            report.status_at_horizon = report_status(report)
            if report.status_at_horizon != "sent" and report.dictated >= self.warmup:
                open_work.append(lambda report=report: math.isnan(report.sent))
        return open_work


def with_follow_up(scenario: Scenario) -> Scenario:
    """The scenario the engine runs: its calendar lengthened by the follow-up days."""
    cal = scenario.calendar
    if cal.follow_up_days == 0:
        return scenario
    longer = cal.model_copy(update={"horizon_days": cal.horizon_days + cal.follow_up_days})
    return scenario.model_copy(update={"calendar": longer})


@contextmanager
def _lenient_gc() -> Iterator[None]:
    """Collect garbage less often while the clock runs (the collector took ~30% of the time).

    The model creates many short-lived objects but few reference cycles; the usual
    thresholds are restored afterwards, so garbage does not pile up between runs.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def simulate(scenario: Scenario, seed: int, replication: int = 0,
             sink: Sink | None = None, flush_rows: int = FLUSH_ROWS,
             columns: Columns | None = None, by_part: bool = True) -> dict[str, pd.DataFrame]:
    """Records of one replication of ``scenario``: its event tables, or, given a ``sink``,
    chunks of them handed to ``sink(table_name, rows)`` during the run (whole tables: see
    ``engine.records.assemble``) and an empty dict returned. ``columns``: the sink reads
    only these tables and columns (``Recorder.flush``); the others are never built.

    ``by_part``: the independent parts of the scenario (``engine.partition``) run one
    after the other, each until its own window's work is done; the KPIs are those of one
    run of the whole (every draw belongs to one part's entities), but a part whose work
    ends early is not simulated on until the slowest one's does, and only one part's
    records are alive at a time. Ids are numbered part by part, so rows come part by
    part; ``period.end`` is the latest part's end.
    """
    parts = independent_parts(scenario) if by_part else []
    if len(parts) <= 1:
        return Model(scenario, seed, replication, sink, flush_rows, columns).run()
    chunks: dict[str, list[pd.DataFrame]] = {}
    out = sink if sink is not None else (
        lambda name, rows: chunks.setdefault(name, []).append(rows))
    next_id = itertools.count().__next__
    end = 0.0
    with _collect_only_new():
        for part in parts:
            model = Model(scenario, seed, replication, out, flush_rows, columns, part, next_id)
            model.run(period=False)
            end = max(end, model.env.now)
            warmup, horizon = model.warmup, model.horizon
            del model
            gc.collect()  # the finished part (see _collect_only_new)
    hand_over_period(out, end, warmup, horizon, columns)
    return {} if sink is not None else assemble(chunks)


@contextmanager
def _collect_only_new() -> Iterator[None]:
    """Collections that look only at objects made since entering (``gc.freeze``), so that
    one after each part is cheap: ~4 ms, not ~60 ms.

    A finished part's model is held in reference cycles (processes, their generators and
    the secretaries or sources they run), so it is freed by the next full collection,
    which with the lenient thresholds comes parts later: meanwhile its draws and arrival
    times pile up, and the memory a part frees is left in holes among what lives on, so a
    year of the group of 80 secretariats ended 37 MiB higher than 4 weeks with the KPIs
    left out. Nothing is frozen when someone else froze objects already.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
