"""The reorganisation levers a scenario may declare (validated specs; transforms in levers.py).

Defaults come from docs/sources/domain.md where a figure exists (online booking 11% AP-HP
2018 average, 38% of slots open as an upper bound); others are documented assumptions.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from simulation.scenario.bounds import DailyRate, Factor, Headcount, Penalty, Probability, SafeName
from simulation.scenario.distributions import Deterministic
from simulation.scenario.fields import DistField, TaskDist  # noqa: F401 - DistField re-exported

Departments = list[str] | Literal["all"]


class _Lever(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", description="Free text: why, source, owner.")
    lever: str = Field(description="Which lever (the section title).")


class Pooling(_Lever):
    """Share work across departments' secretariats.

    scope 'phones': every secretary of the departments answers all their calls (a phone
    pool), other work stays with each department; 'phones_and_desk' adds walk-ins;
    'all': the teams merge into one team doing all the work of all the departments.
    """

    lever: Literal["pooling"]
    departments: Departments = Field("all", description="Departments pooled.")
    scope: Literal["phones", "phones_and_desk", "all"] = Field("phones", description="What is pooled.")
    team: SafeName = Field("pool", description="Name of the merged team (scope 'all').")
    specialty_penalty: Penalty = Field(
        0.1, description="ASSUMPTION: +10% handling time on another department's work."
    )


class BookingDesk(_Lever):
    """A pole-level desk answers the booking calls and transfers complex ones."""

    lever: Literal["booking_desk"]
    departments: Departments = Field("all", description="Departments of the pole.")
    categories: list[str] = Field(default_factory=lambda: ["booking"],
                                  description="Audit categories of the calls the desk answers.")
    staff: dict[str, Headcount] = Field(
        default_factory=dict,
        description="Secretaries moved to the desk, per team (the last ones listed).",
    )
    new_secretaries: Headcount = Field(0, description="Extra secretaries hired for the desk.")
    shift: str | None = Field(None, description="Shift of new desk secretaries (a named shift).")
    transfer_share: Probability = Field(
        0.3, description="ASSUMPTION: share of desk-answered calls transferred."
    )
    transfer_handling: TaskDist = Field(
        default_factory=lambda: Deterministic(value=1.0),
        description="Desk time spent before transferring a call.",
    )
    specialty_penalty: Penalty = Field(0.15, description="ASSUMPTION: desk non-specialists.")
    team: SafeName = Field("booking_desk", description="Name of the desk team.")


class FrontBackSplit(_Lever):
    """Some secretaries only do back-office work (typing, files) and are never interrupted.

    Given a number, the lever picks who moves so that the lines and desks keep someone on
    duty at every open minute; when no choice can (two secretaries on staggered shifts),
    it keeps the one with the fewest uncovered minutes and validation warns of the gaps.
    """

    lever: Literal["front_back_split"]
    back_office: dict[str, Headcount | list[str]] = Field(
        description="Per team: how many secretaries go back office (chosen so that someone "
        "stays on duty whenever a line or desk is open; ties: the last listed) or which ones "
        "(a list of names, moved whatever the cover)."
    )
    back_kinds: list[str] = Field(
        default_factory=lambda: ["typing", "sending", "patient_file"],
        description="Kinds done by the back office; the front keeps everything else.",
    )
    pooled_back_office: bool = Field(
        False, description="One back-office team for all these teams' departments (a typing pool)."
    )
    team: SafeName = Field("back_office", description="Name of the pooled back-office team.")


class FloatPool(_Lever):
    """Float secretaries who serve any of the departments (absence cover)."""

    lever: Literal["float_pool"]
    secretaries: Headcount = Field(1, ge=1, description="How many floats.")
    shift: str = Field(description="A named shift from 'shifts'.")
    departments: Departments = Field("all", description="Departments they cover.")
    specialty_penalty: Penalty = Field(0.15, description="ASSUMPTION: floats are generalists.")
    team: SafeName = Field("float_pool", description="Name of the float team.")


class VoiceRecognitionLever(_Lever):
    """Voice recognition for dictations: back-end (proofreading) or front-end (doctor sends)."""

    lever: Literal["voice_recognition"]
    mode: Literal["back_end", "front_end"] = Field(description="Who corrects the draft.")
    adoption: Probability = Field(0.9, description="CHU Limoges: >90% of doctors.")
    departments: Departments = Field("all", description="Departments adopting it.")
    proofreading_factor: Probability = Field(
        0.5, gt=0, description="ASSUMPTION: proofreading takes half the typing time."
    )
    validation_factor: Factor = Field(
        1.0, description="Front-end: multiplier on the doctor's validation delay."
    )


class OnlineBookingLever(_Lever):
    """Part of the booking calls (and booking walk-ins) move to online booking."""

    lever: Literal["online_booking"]
    share: Probability = Field(0.11, description="AP-HP 2018 average: 11% online.")
    departments: Departments = Field("all", description="Departments offering it.")
    categories: list[str] = Field(default_factory=lambda: ["booking"],
                                  description="Audit categories of the diverted streams.")
    complex_factor: Factor = Field(
        1.2, le=10, description="ASSUMPTION: remaining booking calls are 20% longer (when "
        "share > 0; it does not grow with the share: sweep both if needed)."
    )
    check_time: TaskDist = Field(
        default_factory=lambda: Deterministic(value=2.0),
        description="ASSUMPTION: 2 min of secretary time to check one online booking.",
    )
    reminder_averted_share: Probability = Field(
        0.0, description="Share of these calls no longer made thanks to SMS reminders."
    )


class Absences(_Lever):
    """Daily absence probability of secretaries (sick leave, training...)."""

    lever: Literal["absences"]
    rate: DailyRate = Field(description="Daily probability each secretary is absent.")
    teams: list[str] | Literal["all"] = Field("all", description="Teams affected.")


Lever = Annotated[
    Union[Pooling, BookingDesk, FrontBackSplit, FloatPool, VoiceRecognitionLever,
          OnlineBookingLever, Absences],
    Field(discriminator="lever"),
]
