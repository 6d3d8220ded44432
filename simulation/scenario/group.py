"""A hospital group of many small dedicated secretariats, generated from published figures.

``hospital_group`` returns plain scenario data (what a user writes in YAML) for a group
like the AP-HP group behind the bundled audit [HUPSSD]: 148.3 AMA FTE in 80 secretariats,
0.8 to 4.7 AMA each, median 2, often one per care mode (consultation, day hospital, ward)
inside a department. Each secretariat is one department with its own team; its demand is
one of the baseline's four departments (scenarios/baseline.yaml) per FTE, shaped by its
care mode and scaled to its size so that it works ~80% of its time on duty, as the
baseline does. ``pole_phones`` and ``call_platform`` are the pooling variants (levers on
top of the group file). ``scenario.group_yaml`` writes all three as commented YAML.
"""

from __future__ import annotations

import math

import numpy as np

# ----------------------------------------------------------------------------- sizes
# [HUPSSD] (docs/sources/domain.md): 148.3 AMA FTE in 80 secretariats, 0.8 to 4.7 AMA,
# median 2 (the source's "mean 3.9" cannot fit that range and median: left out).
HUPSSD_FTE, HUPSSD_SECRETARIATS = 148.3, 80
SMALLEST, LARGEST, MEDIAN = 0.8, 4.7, 2.0
DAYS_A_WEEK = 5
DAY = 1 / DAYS_A_WEEK  # FTE of one weekday a week: sizes are whole working days
# ASSUMPTION: the shape between the published points. A piecewise-linear quantile function
# through (share of secretariats, FTE) that starts at 0.8, puts the median on a plateau at
# 2 FTE (the 1970 norm of 2 FTE per department) and ends at 4.7; its mean, 1.855 FTE, is
# the published 148.3 / 80.
SIZE_QUANTILES = ((0.00, 0.8), (0.10, 1.0), (0.25, 1.2), (0.40, 1.6), (0.48, 2.0),
                  (0.62, 2.0), (0.80, 2.2), (0.90, 2.8), (0.97, 3.4), (1.00, 4.7))


def _quantile(u: np.ndarray) -> np.ndarray:
    shares, fte = zip(*SIZE_QUANTILES)
    return np.interp(u, shares, fte)


def secretariat_sizes(secretariats: int, seed: int) -> list[float]:
    """FTE of each secretariat, in whole working days a week (multiples of 0.2 FTE).

    1. One stratified draw per secretariat from ``SIZE_QUANTILES`` (secretariat i gets a
       uniform in [i/n, (i+1)/n), the sizes are then shuffled): any seed gives a sample
       close to the published shape.
    2. Round to whole days (0.2 FTE): 0.8 to 4.6, the largest whole-day size within 4.7.
    3. With 10 or more secretariats, pin the published range: the smallest is 0.8 FTE and
       the largest 4.6.
    4. Move single days until the total is n x 148.3 / 80 to the nearest day (148.4 for
       80): each move adds or takes one day of a random secretariat other than the two
       pinned ones, never one of exactly 2 FTE and never across 2 FTE, within the range;
       so the median and the range found in step 3 stay.
    """
    if secretariats < 1:
        raise ValueError("a group needs at least one secretariat")
    rng = np.random.default_rng(seed)
    u = (np.arange(secretariats) + rng.random(secretariats)) / secretariats
    days = np.rint(_quantile(rng.permutation(u)) * DAYS_A_WEEK).astype(int)
    low, high, median = (round(x * DAYS_A_WEEK) for x in (SMALLEST, LARGEST - DAY / 2, MEDIAN))
    days = np.clip(days, low, high)
    pinned: set[int] = set()
    if secretariats >= 10:
        order = np.argsort(days, kind="stable")
        days[order[0]], days[order[-1]] = low, high
        pinned = {int(order[0]), int(order[-1])}
    target = round(secretariats * HUPSSD_FTE / HUPSSD_SECRETARIATS * DAYS_A_WEEK)
    while (gap := target - int(days.sum())) != 0:
        step = 1 if gap > 0 else -1
        movable = [i for i in range(secretariats) if i not in pinned and days[i] != median
                   and low <= days[i] + step <= high
                   and (days[i] - median) * (days[i] + step - median) >= 0]
        if not movable:
            break  # too few secretariats to honour both the range and the total
        days[rng.choice(movable)] += step
    return [round(int(d) * DAY, 1) for d in days]


def staff_of(fte: float) -> list[int]:
    """Working days a week of each secretary of a secretariat of ``fte``: full-timers
    first, then one part-timer (0.8 FTE = 4 days, 1.4 = 5 + 2)."""
    days = round(fte * DAYS_A_WEEK)
    full, part = divmod(days, DAYS_A_WEEK)
    return [DAYS_A_WEEK] * full + ([part] if part else [])


# ----------------------------------------------------------------------------- demand
# Durations (minutes) and shapes of scenarios/baseline.yaml, shared by every secretariat
# (they become YAML anchors in the written file).
CALL_SHAPE = {8: 0.6, 9: 1.4, 10: 1.3, 11: 1.1, 12: 0.7, 13: 0.8, 14: 1.2, 15: 1.0, 16: 0.8}
DESK_SHAPE = {8: 0.4, 9: 1.2, 10: 1.2, 11: 1.0, 12: 0.5, 13: 0.8, 14: 1.2, 15: 1.0, 16: 0.6}
OFFICE_SHAPE = {8: 0.5, 9: 1, 10: 1, 11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 16: 1}
WEEK = {"mon": 1.25, "tue": 1.05, "wed": 0.95, "thu": 0.95, "fri": 0.8, "sat": 0, "sun": 0}


def _lognormal(mean: float, cv: float) -> dict:
    return {"dist": "lognormal", "mean": mean, "cv": cv}


DURATIONS = {
    "booking_call": _lognormal(3.5, 0.6), "info_call": _lognormal(2.5, 0.6),
    "patience": {"dist": "exponential", "mean": 1.5},
    "redial": {"probability": 0.5, "delay": {"dist": "exponential", "mean": 30},
               "max_attempts": 3},
    "walk_in": _lognormal(4.0, 0.5), "doctor_request": _lognormal(4.0, 0.7),
    "typing": _lognormal(15.0, 0.5), "short_typing": _lognormal(12.0, 0.5),
    "endoscopy_typing": _lognormal(10.0, 0.5),
    "signoff": {"sittings": [{"per_week": 1, "start": "17:30", "minutes": 90}],
                "time_per_report": _lognormal(2.5, 0.6), "absence_rate": 0.28,
                "leave_weeks": 8, "rework": {"share": 0.1, "typing": 5}},
    "sending": _lognormal(3.0, 0.4), "file_task": _lognormal(5.0, 0.8),
    "booking_mail": _lognormal(6.0, 0.5), "service_life": _lognormal(15.0, 0.6),
}
ON_DUTY_MINUTES = 456  # [DAY] 7h36 a day
DOCTORS_PER_FTE = 2  # baseline ASSUMPTION: ~2 consulting doctors per AMA FTE

# The baseline's four departments per AMA FTE (their per_day volumes divided by their
# FTE; tests/scenario/test_group.py checks them against scenarios/baseline.yaml):
# calls, walk-ins, doctors' requests, consultation reports a day (two batches, 12:15 and
# 16:30), same-day reports (J0) a day, files, booking mail, service life; typing per kind.
TEMPLATES = {
    "cardiology": {"fte": 2, "booking_calls": 22, "info_calls": 24, "walk_ins": 24,
                   "doctor_requests": 22, "batches": (5, 4), "same_day": 3, "patient_files": 20,
                   "booking_mail": 5, "service_life": 4,
                   "consultation_typing": "typing", "same_day_typing": "typing"},
    "gastroenterology": {"fte": 2, "booking_calls": 24, "info_calls": 22, "walk_ins": 22,
                         "doctor_requests": 20, "batches": (4, 4), "same_day": 3,
                         "patient_files": 22, "booking_mail": 5, "service_life": 4,
                         "consultation_typing": "typing", "same_day_typing": "endoscopy_typing"},
    "rheumatology": {"fte": 1, "booking_calls": 11, "info_calls": 11, "walk_ins": 10,
                     "doctor_requests": 10, "batches": (3, 2), "same_day": 0, "patient_files": 10,
                     "booking_mail": 3, "service_life": 2,
                     "consultation_typing": "typing", "same_day_typing": "typing"},
    "orthopaedics": {"fte": 3, "booking_calls": 40, "info_calls": 32, "walk_ins": 36,
                     "doctor_requests": 30, "batches": (7, 6), "same_day": 4, "patient_files": 30,
                     "booking_mail": 8, "service_life": 6,
                     "consultation_typing": "short_typing", "same_day_typing": "typing"},
}
# ASSUMPTION: the group's specialties, each modelled on the baseline department closest in
# its work (medical clinic, endoscopy and day hospital, chronic follow-up, surgery), in
# the order poles are cut (neighbours share a pole).
SPECIALTIES = {
    "cardiology": "cardiology", "pneumology": "cardiology", "neurology": "cardiology",
    "vascular_surgery": "orthopaedics", "gastroenterology": "gastroenterology",
    "digestive_surgery": "orthopaedics", "hepatology": "gastroenterology",
    "nephrology": "gastroenterology", "urology": "orthopaedics",
    "endocrinology": "rheumatology", "internal_medicine": "gastroenterology",
    "rheumatology": "rheumatology", "orthopaedics": "orthopaedics",
    "dermatology": "rheumatology", "ent": "orthopaedics", "geriatrics": "rheumatology",
}
# ASSUMPTION (no published split by care mode): multipliers on the template's volumes per
# FTE before scaling to the utilisation target. A consultation secretariat books and
# receives more and types clinic letters; a day hospital books admissions and types
# same-day reports; a ward receives families' calls and doctors' requests, types
# discharge letters for the day of discharge [J0] and keeps more files.
MODES = {
    "consultation": {"booking_calls": 1.2, "info_calls": 1.0, "walk_ins": 1.2,
                     "doctor_requests": 1.0, "consultation_reports": 1.2, "same_day": 0.0,
                     "patient_files": 1.0, "booking_mail": 1.2, "service_life": 1.0},
    "day_hospital": {"booking_calls": 0.6, "info_calls": 1.0, "walk_ins": 0.5,
                     "doctor_requests": 1.0, "consultation_reports": 0.0, "same_day": 0.5,
                     "patient_files": 1.3, "booking_mail": 0.8, "service_life": 1.0},
    "ward": {"booking_calls": 0.3, "info_calls": 1.4, "walk_ins": 0.3,
             "doctor_requests": 1.4, "consultation_reports": 0.0, "same_day": 0.5,
             "patient_files": 1.5, "booking_mail": 0.3, "service_life": 1.2},
}
MODE_ORDER = ("consultation", "ward", "day_hospital")  # a specialty's 1st, 2nd, 3rd secretariat
SAME_DAY_REPORTS = {"consultation": None, "day_hospital": "day_hospital_reports",
                    "ward": "discharge_letters"}
REPORT_DESCRIPTIONS = {"day_hospital_reports": "day-hospital reports, sent the same day [J0]",
                       "discharge_letters": "ward discharge letters [J0]"}


def _volumes(template: dict, mode: str) -> dict[str, float]:
    """Volumes a day per FTE of a template in a care mode (before scaling)."""
    fte, m = template["fte"], MODES[mode]
    vol = {k: template[k] / fte * m[k] for k in
           ("booking_calls", "info_calls", "walk_ins", "doctor_requests", "patient_files",
            "booking_mail", "service_life")}
    clinic = sum(template["batches"]) / fte
    vol["consultation_reports"] = clinic * m["consultation_reports"]
    # Same-day reports scale with the template's J0 reports plus its clinic letters (a
    # template without J0 reports, e.g. rheumatology, still has ward letters).
    vol["same_day"] = (template["same_day"] / fte + clinic) * m["same_day"]
    return vol


def _minutes(template: dict, vol: dict[str, float]) -> float:
    """Secretary minutes a day of these volumes (means of the baseline's durations)."""
    d = {k: v["mean"] for k, v in DURATIONS.items() if isinstance(v, dict) and "mean" in v}
    return (vol["booking_calls"] * d["booking_call"] + vol["info_calls"] * d["info_call"]
            + vol["walk_ins"] * d["walk_in"] + vol["doctor_requests"] * d["doctor_request"]
            + vol["consultation_reports"] * (d[template["consultation_typing"]] + d["sending"])
            + vol["same_day"] * (d[template["same_day_typing"]] + d["sending"])
            + vol["patient_files"] * d["file_task"] + vol["booking_mail"] * d["booking_mail"]
            + vol["service_life"] * d["service_life"])


def _rate(x: float) -> float:
    return max(0.1, round(x, 1))


def _streams(template: dict, mode: str, fte: float, utilisation: float) -> dict:
    """A secretariat's streams: its template and mode, scaled to ``utilisation``."""
    vol = _volumes(template, mode)
    k = utilisation * ON_DUTY_MINUTES * fte / _minutes(template, vol)
    d = DURATIONS

    def arrivals(name: str, shape: dict, week: bool = True) -> dict:
        out = {"per_day": _rate(vol[name] * k), "hourly_shape": shape}
        return {**out, "weekday_factors": WEEK} if week else out

    def call(name: str, category: str, service: str) -> dict:
        return {"type": "call", "audit_category": category,
                "arrivals": arrivals(name, CALL_SHAPE), "service": d[service],
                "patience": d["patience"], "redial": d["redial"]}

    streams = {
        "booking_calls": call("booking_calls", "booking", "booking_call"),
        "info_calls": call("info_calls", "reception", "info_call"),
        "walk_ins": {"type": "walk_in", "arrivals": arrivals("walk_ins", DESK_SHAPE),
                     "service": d["walk_in"]},
        "doctor_requests": {"type": "doctor_request",
                            "arrivals": arrivals("doctor_requests", OFFICE_SHAPE, False),
                            "service": d["doctor_request"]},
    }
    if vol["consultation_reports"] > 0:
        share = [b / sum(template["batches"]) for b in template["batches"]]
        streams["consultation_reports"] = {
            "type": "dictation", "description": "dictated after each clinic session",
            "batches": [{"at": at, "mean_size": _rate(vol["consultation_reports"] * k * s)}
                        for at, s in zip(("12:15", "16:30"), share)],
            "typing": d[template["consultation_typing"]], "sending": d["sending"],
            "target_days": 7}
    same_day = SAME_DAY_REPORTS[mode]
    if same_day and vol["same_day"] > 0:
        streams[same_day] = {
            "type": "dictation", "description": REPORT_DESCRIPTIONS[same_day],
            "arrivals": arrivals("same_day", OFFICE_SHAPE, False),
            "typing": d[template["same_day_typing"]], "sending": d["sending"], "target_days": 0}
    for name, kind, category, duration in (
            ("patient_files", "patient_file", "patient_file", "file_task"),
            ("booking_mail", "booking_request", "booking", "booking_mail"),
            ("service_life", "service_life", "doctor_assistance", "service_life")):
        streams[name] = {"type": "back_office", "kind": kind, "audit_category": category,
                         "arrivals": arrivals(name, OFFICE_SHAPE, False), "duration": d[duration]}
    return streams


# ----------------------------------------------------------------------------- the group
def secretariat_names(secretariats: int) -> list[tuple[str, str, str]]:
    """(name, specialty, care mode) of each secretariat, in pole order: specialties in
    turn, each getting a consultation, then a ward, then a day-hospital secretariat, then
    further ones on another site (``_2``)."""
    specialties = list(SPECIALTIES)
    seen: dict[str, int] = {}
    out = []
    for i in range(secretariats):
        spec = specialties[i % len(specialties)]
        k = seen[spec] = seen.get(spec, -1) + 1
        mode = MODE_ORDER[k % len(MODE_ORDER)]
        site = k // len(MODE_ORDER)
        out.append((f"{spec}_{mode}" + (f"_{site + 1}" if site else ""), spec, mode))
    order = {s: j for j, s in enumerate(specialties)}
    return sorted(out, key=lambda x: (order[x[1]], MODE_ORDER.index(x[2]), x[0]))


def pole_count(secretariats: int, poles: int | None = None, pole_size: int = 10) -> int:
    """Poles of the group: ``poles`` if given, else secretariats / pole_size rounded, never
    so many that a pole holds one secretariat, which pools nothing (rounding half to even
    made 7 secretariats in poles of 2 into 4 poles, one of them alone). A ``poles`` or
    ``pole_size`` (the options of ``secsim generate group``) that asks for such poles is a
    ValueError saying what to give instead."""
    most = max(1, secretariats // 2)
    if poles is not None:
        if poles > most:
            made = (f"{secretariats} secretariats make at most {most} poles of two or more"
                    if secretariats >= 2 else "one secretariat makes one pole")
            raise ValueError(f"--poles {poles}: {made} (a pole of one secretariat pools "
                             f"nothing); give --poles {most} or fewer")
        return max(1, poles)
    if pole_size < 2 and secretariats > 1:
        raise ValueError(f"--pole-size {pole_size}: a pole of one secretariat pools nothing; "
                         "give 2 or more")
    return max(1, min(round(secretariats / pole_size), most))


def _working_days(days: int, offset: int) -> list[str] | None:
    """ASSUMPTION: a part-timer's days off are consecutive weekdays, starting on a weekday
    that turns with the secretariat (Wednesday first) so a pole is not short on one day."""
    if days >= DAYS_A_WEEK:
        return None
    week = ["mon", "tue", "wed", "thu", "fri"]
    off = {(offset + 2 + j) % DAYS_A_WEEK for j in range(DAYS_A_WEEK - days)}
    return [w for i, w in enumerate(week) if i not in off]


def hospital_group(secretariats: int = HUPSSD_SECRETARIATS, seed: int = 1,
                   poles: int | None = None, pole_size: int = 10,
                   utilisation: float = 0.8, name: str = "hospital_group") -> dict:
    """Plain scenario data of a group of dedicated secretariats (module docstring).

    Deterministic for a seed. Sizes come from ``secretariat_sizes``; each secretariat is a
    department with one team, its secretaries on alternate early and late shifts (a
    part-timer last, on the days of ``staff_of``); demand per ``_streams``. The top-level
    ``x-poles`` lists the departments of each pole (read by the pooling variants) and
    ``x-sizes`` each department's FTE; the validator ignores ``x-`` keys.
    """
    if not 0 < utilisation < 1:
        raise ValueError("utilisation must be between 0 and 1")
    sizes = secretariat_sizes(secretariats, seed)
    named = secretariat_names(secretariats)
    n_poles = pole_count(secretariats, poles, pole_size)
    departments, teams, x_poles, x_sizes = {}, {}, {}, {}
    for p, members in enumerate(np.array_split(np.arange(secretariats), n_poles)):
        x_poles[f"pole_{p + 1}"] = [named[i][0] for i in members]
    for i, ((dept, spec, mode), fte) in enumerate(zip(named, sizes)):
        template = TEMPLATES[SPECIALTIES[spec]]
        x_sizes[dept] = fte
        departments[dept] = {
            "description": f"{spec.replace('_', ' ')}, {mode.replace('_', ' ')}: {fte:g} AMA "
                           f"FTE, demand of the baseline's {SPECIALTIES[spec]}",
            "doctors": {"count": max(1, round(DOCTORS_PER_FTE * fte)), **DURATIONS["signoff"]},
            "streams": _streams(template, mode, fte, utilisation)}
        secretaries = {}
        for j, days in enumerate(staff_of(fte)):
            secretary = {"shift": "early" if j % 2 == 0 else "late"}
            working = _working_days(days, i)
            if working:
                secretary["days"] = working
            secretaries[f"{dept}_ama_{j + 1}"] = secretary
        teams[f"{dept}_secretariat"] = {"departments": [dept], "secretaries": secretaries}
    total = sum(sizes)
    return {
        "name": name,
        "description": f"{secretariats} dedicated secretariats of a hospital group "
                       f"({total:.1f} AMA FTE, {n_poles} poles), one team per secretariat, "
                       "generated from the HUPSSD figures (secsim generate group, seed "
                       f"{seed}).",
        "calendar": {"horizon_days": 77, "warmup_days": 21,
                     "follow_up_days": 240,  # the baseline's: letters can wait for months
                     "start_weekday": "mon",
                     "opening_hours": {d: ["08:30", "17:00"]
                                       for d in ("mon", "tue", "wed", "thu", "fri")},
                     "lunch_closure": None},
        "shifts": {"early": {"start": "08:30", "end": "16:51", "breaks": [["12:00", "12:45"]]},
                   "late": {"start": "08:39", "end": "17:00", "breaks": [["12:45", "13:30"]]}},
        "x-poles": x_poles,
        "x-sizes": x_sizes,
        "departments": departments,
        "teams": teams,
        "interruptions": {"enabled": True, "resumption_cost": {"dist": "exponential", "mean": 1.0},
                          "idle_colleague_answers": True},
        "kpis": {"service_level_seconds": 60},
    }


# ----------------------------------------------------------------------------- variants
POLE_PENALTY = 0.1  # ASSUMPTION (lever default): neighbouring specialties in one pole
PLATFORM_PENALTY = 0.15  # ASSUMPTION: any specialty of the group, as the booking desk's


def pole_phones(group: dict, parent: str) -> dict:
    """Variant: each pole's phone lines pooled (one pooling lever per pole)."""
    return {"extends": parent, "name": f"{group['name']}_pole_phones",
            "description": f"{group['name']} with the phone lines of each pole pooled.",
            "levers": [{"lever": "pooling", "note": pole, "departments": list(depts),
                        "scope": "phones", "specialty_penalty": POLE_PENALTY}
                       for pole, depts in group["x-poles"].items()]}


def call_platform(group: dict, parent: str) -> dict:
    """Variant: a group call platform, every phone line of the group pooled."""
    return {"extends": parent, "name": f"{group['name']}_call_platform",
            "description": f"{group['name']} with every phone line pooled into one group "
                           "call platform.",
            "levers": [{"lever": "pooling", "departments": "all", "scope": "phones",
                        "specialty_penalty": PLATFORM_PENALTY}]}


def size_summary(sizes: list[float]) -> dict[str, float]:
    """Count, total, smallest, median, largest and mean FTE of the secretariats."""
    return {"secretariats": len(sizes), "total": round(math.fsum(sizes), 1),
            "smallest": min(sizes), "median": float(np.median(sizes)), "largest": max(sizes),
            "mean": round(math.fsum(sizes) / len(sizes), 3)}
