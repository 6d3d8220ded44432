"""One replication of a scenario: build the secretariats, run the clock, return the records."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import simpy

from simulation.engine.context import Context, OpeningHours
from simulation.engine.demand import CallLine, Desk, TaskSource
from simulation.engine.records import Recorder
from simulation.engine.report_pipeline import ReportPipeline
from simulation.engine.secretariat import Secretariat
from simulation.engine.secretary import Secretary
from simulation.engine.seeding import RandomStreams
from simulation.engine.staff import absent_days, line_open_intervals, presence_plan
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


class Model:
    """The secretariats of a scenario for one replication (seed, replication number)."""

    def __init__(self, scenario: Scenario, seed: int, replication: int = 0):
        self.scenario = scenario
        self.horizon = scenario.calendar.horizon_days * MINUTES_PER_DAY
        self.env = simpy.Environment()
        streams = RandomStreams(seed, replication)
        self.recorder = Recorder()
        self.secretariat = Secretariat(scenario.interruptions, streams.get("routing"))
        self.ctx = Context(scenario.calendar, scenario.interruptions, self.env, self.secretariat,
                           self.recorder, streams, OpeningHours(line_open_intervals(scenario)))
        self.secretaries = self._staff(streams)
        self._declare_work()
        self.sources = self._sources()

    def _staff(self, streams: RandomStreams) -> list[Secretary]:
        sc = self.scenario
        staff = []
        for team_name, name, sec in sc.secretaries():
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
            key = (dept, stream, kind, cat)
            eligible = []
            for sec in self.secretaries:
                penalty = serving_penalty(self.scenario, sec.team, dept, kind, cat, stream)
                if penalty is not None:
                    eligible.append(sec)
                    sec.penalties[key] = penalty
            self.secretariat.add_work_key(key, eligible, self.ctx.rank(kind, kind in URGENT_KINDS))

    def _sources(self) -> list:
        out = []
        for dname, dept in self.scenario.departments.items():
            for sname, s in dept.streams.items():
                if isinstance(s, CallStream):
                    out.append(CallLine(self.ctx, dname, sname, s))
                elif isinstance(s, WalkInStream):
                    out.append(Desk(self.ctx, dname, sname, s))
                elif isinstance(s, (DoctorRequestStream, BackOfficeStream)):
                    out.append(TaskSource(self.ctx, dname, sname, s))
                elif isinstance(s, DictationStream):
                    out.append(ReportPipeline(self.ctx, dname, sname, s))
        return out

    def _closing_bell(self):
        """At each closing time, lines cut off their waiting callers, desks send people away."""
        queues = [src for src in self.sources if isinstance(src, (CallLine, Desk))]
        for _start, end in self.ctx.hours.intervals():
            if end >= self.horizon:
                return
            yield self.env.timeout(end - self.env.now)
            for src in queues:
                src.close_queue()

    def run(self) -> dict[str, pd.DataFrame]:
        """Simulate the whole horizon and return the record tables."""
        for sec in self.secretaries:
            sec.start(self.secretariat)
        for src in self.sources:
            src.start()
        self.env.process(self._closing_bell())
        with _lenient_gc():
            self.env.run(until=self.horizon)
        for sec in self.secretaries:
            sec.close_books(self.horizon)
        for src in self.sources:
            if isinstance(src, CallLine):
                src.close_books(self.horizon)
        return self.recorder.tables(self.horizon)


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


def simulate(scenario: Scenario, seed: int, replication: int = 0) -> dict[str, pd.DataFrame]:
    """Records of one replication of ``scenario``."""
    return Model(scenario, seed, replication).run()
