"""The workbench page (``secsim ui`` serves it with Streamlit): pick a scenario, adjust it,
run it against the unmodified scenario in a worker process, see and download the results.

A thin layer: the scenario is edited as plain data (simulation.ui.edits), runs are
``simulation.compare`` in a worker (simulation.ui.jobs), results are the comparison folder's
tables (simulation.ui.results). Widgets have keys so tests can drive them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import streamlit as st

from simulation.scenario.errors import ScenarioError
from simulation.ui import edits, jobs, results

SCENARIOS = Path(os.environ.get("SECSIM_UI_SCENARIOS")
                 or Path(__file__).resolve().parents[2] / "scenarios")
# Widget keys (and pinned variants) that belong to one scenario: cleared when another
# scenario is picked.
EDIT_PREFIXES = ("horizon", "size:", "back:", "pooled", "pooling_scope", "voice_", "online_",
                 "sit_", "variant_name", "pinned")


def show_problems(exc: ScenarioError, where=st) -> None:
    """Each problem as one line naming its field; never a traceback."""
    for field, message in edits.problems_by_field(exc):
        where.error(f"**{field}**: {message}")


def pick_scenario() -> tuple[str, dict] | None:
    """The scenario picked in the sidebar: (an id, its composed data), or None."""
    st.sidebar.header("1. Scenario")
    source = st.sidebar.radio("Source", ["Bundled", "Upload a YAML file"], key="source")
    if source == "Bundled":
        files = edits.bundled_scenarios(SCENARIOS)
        labels = [label for label, _p, _large in files]
        if not labels:
            st.sidebar.error(f"no scenario files in {SCENARIOS}")
            return None
        label = st.sidebar.selectbox("Bundled scenario", labels, key="scenario",
                                     index=labels.index("baseline") if "baseline" in labels else 0)
        path, large = next((p, lg) for lb, p, lg in files if lb == label)
        if large:
            st.sidebar.warning("A large scenario (a hospital group): runs take long; keep "
                               "replications and horizon small.")
        try:
            return f"file:{path}", edits.load_file(path)
        except ScenarioError as exc:
            show_problems(exc, st.sidebar)
            return None
    upload = st.sidebar.file_uploader("Scenario YAML", type=["yaml", "yml"], key="upload")
    if upload is None:
        st.sidebar.info("Upload a scenario file (e.g. a copy of scenarios/baseline.yaml).")
        return None
    text = upload.getvalue()
    try:
        data = edits.parse_upload(text.decode("utf-8", errors="replace"), upload.name)
        edits.validate_data(data, upload.name)
    except ScenarioError as exc:
        st.sidebar.error(f"{upload.name} is not a valid scenario:")
        show_problems(exc, st.sidebar)
        return None
    return f"upload:{hashlib.sha1(text).hexdigest()}", data


def reset_edits_on_change(scenario_id: str) -> None:
    """Controls start from the file's values whenever another scenario is picked."""
    if st.session_state.get("scenario_id") != scenario_id:
        for key in list(st.session_state):
            if str(key).startswith(EDIT_PREFIXES):
                del st.session_state[key]
        st.session_state["scenario_id"] = scenario_id


def adjust(data: dict) -> dict:
    """The controls of section 2, each starting at (and labelled with) the file's value;
    returns the new settings."""
    old = edits.settings(data)
    new = {**old, "team_sizes": dict(old["team_sizes"]), "back_office": dict(old["back_office"]),
           "signoff": {d: dict(s) for d, s in old["signoff"].items()}}
    st.header("2. Adjust")
    left, right = st.columns(2)
    with left:
        st.subheader("Secretaries per team (FTE)")
        for team, size in old["team_sizes"].items():
            new["team_sizes"][team] = st.number_input(
                f"{team} (file: {size:g})", min_value=0.5, max_value=100.0, value=float(size),
                step=0.5, key=f"size:{team}")
        st.subheader("Phones")
        departments = list(data.get("departments") or {})
        new["pooled"] = st.multiselect(
            f"Departments sharing their phones (file: {', '.join(old['pooled']) or 'none'})",
            departments, default=[d for d in old["pooled"] if d in departments], key="pooled")
        new["pooling_scope"] = st.selectbox(
            f"What the pooled departments share (file: {old['pooling_scope']})",
            edits.POOLING_SCOPES, index=edits.POOLING_SCOPES.index(old["pooling_scope"]),
            key="pooling_scope")
        if len(new["pooled"]) == 1:
            st.warning("Pooling needs at least two departments; one alone changes nothing.")
        with st.expander("Front/back split: secretaries moved to a back office"):
            for team, size in old["team_sizes"].items():
                n = old["back_office"].get(team, 0)
                new["back_office"][team] = st.number_input(
                    f"{team} (file: {n})", min_value=0, max_value=max(int(size) - 1, 0),
                    value=min(n, max(int(size) - 1, 0)), step=1, key=f"back:{team}")
    with right:
        st.subheader("Reports")
        new["voice_mode"] = st.selectbox(
            f"Voice recognition (file: {old['voice_mode']})", edits.VOICE_MODES,
            index=edits.VOICE_MODES.index(old["voice_mode"]), key="voice_mode")
        adoption = st.slider(f"Voice recognition adoption, % of dictations "
                             f"(file: {100 * old['voice_adoption']:.0f}%)", 0, 100,
                             int(round(100 * old["voice_adoption"])), key="voice_adoption",
                             disabled=new["voice_mode"] == "none")
        new["voice_adoption"] = old["voice_adoption"] if adoption == round(
            100 * old["voice_adoption"]) else adoption / 100
        for dept, s in old["signoff"].items():
            c1, c2 = st.columns(2)
            new["signoff"][dept]["per_week"] = c1.number_input(
                f"{dept}: sign-off sittings a week (file: {s['per_week']})", min_value=1,
                max_value=14, value=s["per_week"], key=f"sit_week:{dept}")
            new["signoff"][dept]["minutes"] = c2.number_input(
                f"{dept}: minutes per sitting (file: {s['minutes']})", min_value=5,
                max_value=600, value=s["minutes"], step=5, key=f"sit_min:{dept}")
        st.subheader("Booking")
        share = st.slider(f"Online booking, % of booking calls "
                          f"(file: {100 * old['online_share']:.0f}%)", 0, 80,
                          int(round(100 * old["online_share"])), key="online_share")
        new["online_share"] = old["online_share"] if share == round(
            100 * old["online_share"]) else share / 100
    return new


def run_controls(data: dict) -> tuple[int, int, int]:
    """Section 3's controls: (replications, seed, horizon in days); the horizon applies to
    every scenario of the run so that they stay comparable."""
    st.header("3. Run")
    horizon = int(edits.settings(data)["horizon_days"])
    warmup = int(data.get("calendar", {}).get("warmup_days", 0) or 0)
    c1, c2, c3 = st.columns(3)
    reps = c1.number_input("Replications", min_value=1, max_value=200, value=5, key="replications")
    seed = c2.number_input("Seed", min_value=0, value=1, key="seed")
    days = c3.number_input(f"Horizon, days (file: {horizon}; the first {warmup} are warm-up)",
                           min_value=warmup + 1, value=max(horizon, warmup + 1), step=7,
                           key="horizon")
    return int(reps), int(seed), int(days)


def run_size_ok(scenarios: list) -> bool:
    """Show the estimated time of the run, or why it is too large for the workbench."""
    reps = int(st.session_state.get("replications", 5))
    try:
        seconds = jobs.check_size(scenarios, reps)
    except ScenarioError as exc:
        show_problems(exc)
        return False
    st.caption(f"{len(scenarios)} scenario(s) × {reps} replications: about "
               f"{max(seconds, 1):.0f} s (one core).")
    return True


def show_job(job: jobs.Job) -> None:
    """Progress of a running job, or its failure."""
    state = job.state()
    if state == "running":
        done, total = job.progress()
        st.progress(done / total if total else 0.0,
                    text=f"Running {', '.join(job.scenarios)}: {done} of {total} replications")
        if st.button("Cancel", key="cancel"):
            job.cancel()
            st.rerun()
    elif state == "failed":
        st.error(f"The run failed: {job.message()}")
    elif state == "cancelled":
        st.warning("The run was cancelled.")


@st.cache_data(max_entries=8, show_spinner=False)
def figures(out: str, names: tuple[str, ...], baseline: str) -> list[tuple[str, str]]:
    """The figures of a finished run (drawn once, not at every rerun of the page)."""
    return results.figures(out, list(names), baseline)


@st.cache_data(max_entries=8, show_spinner=False)
def parquet_zip(out: str) -> bytes:
    return results.parquet_zip(out)


def show_results(job: jobs.Job) -> None:
    """Section 4: mission KPIs first, the side-by-side table, figures, downloads."""
    comp = results.comparison(job.out)
    names = [n for n in job.scenarios if n in set(comp.scenario)]
    st.header("4. Results")
    st.caption(f"{job.replications} replications, seed {job.seed}, baseline {job.baseline}; "
               "95% confidence intervals; * = the paired difference excludes zero (same "
               "callers, doctors and dictations in every scenario).")
    for name in names:
        st.subheader(name)
        cols = st.columns(3)
        for col, card in zip(cols, results.kpi_cards(comp, name)):
            col.metric(card["label"], card["value"])
            col.caption(card["ci"])
            if card["diff"]:
                col.caption(f"Difference: {card['diff']}")
    st.subheader("KPIs side by side")
    st.table(results.kpi_table(comp, names).set_index("KPI"))
    for title, svg in figures(str(job.out), tuple(names), job.baseline):
        st.markdown(f"**{title}**")
        st.markdown(results.svg_img(svg, title), unsafe_allow_html=True)
    c1, c2, c3 = st.columns(3)
    c1.download_button("KPI table (CSV)", (job.out / "comparison.csv").read_bytes(),
                       "comparison.csv", "text/csv", key="download_csv")
    c2.download_button("Parquet results (zip)", parquet_zip(str(job.out)), "results.zip",
                       "application/zip", key="download_parquet")
    c3.download_button("HTML report", (job.out / "report.html").read_bytes(), "report.html",
                       "text/html", key="download_report")


def pinned_section(name: str, data: dict, changed: bool) -> None:
    """Pin the edited scenario to run it beside others (section 3 runs them all)."""
    pinned: dict = st.session_state.setdefault("pinned", {})
    c1, c2 = st.columns([1, 3])
    if c1.button("Pin this variant", key="pin", disabled=not changed,
                 help="Keep this variant: the next run compares every pinned variant "
                      "side by side with the original; give the next variant another "
                      "name to keep this one."):
        pinned[name] = data
    if pinned:
        c2.write("Pinned variants: " + ", ".join(pinned))
        if c2.button("Clear pinned variants", key="clear_pinned"):
            pinned.clear()
            st.rerun()


def main() -> None:
    st.set_page_config(page_title="secsim workbench", layout="wide")
    st.title("secsim workbench")
    st.caption("What would a reorganisation change? Pick a scenario, adjust it, run it "
               "against the unmodified one.")
    picked = pick_scenario()
    job: jobs.Job | None = st.session_state.get("job")
    busy = job is not None and job.state() == "running"
    if picked is None:
        return
    scenario_id, data = picked
    reset_edits_on_change(scenario_id)
    original = str(data.get("name", "scenario"))
    new = adjust(data)
    name = st.text_input("Name of the edited scenario", f"{original}_edited",
                         key="variant_name").strip() or f"{original}_edited"
    variant, sets = edits.edited(data, new, name)
    levers = edits.lever_changes(edits.settings(data), new, data)
    changed = bool(sets or levers)
    if changed:
        st.markdown("**Changes** (the same as `secsim run FILE` with these `--set` and levers):")
        st.code("\n".join(edits.describe(sets, levers)), language=None)
    download = st.container()
    pinned_section(variant["name"] if changed else original, variant, changed)
    reps, seed, days = run_controls(data)
    pinned = {k: v for k, v in st.session_state.get("pinned", {}).items() if k != original}
    if changed:
        pinned[variant["name"]] = variant
    to_run = [edits.with_horizon(d, days) for d in [data, *pinned.values()]]
    ok, loaded = True, []
    try:
        if changed and variant["name"] == original:
            raise ScenarioError([("name", "the edited scenario needs a name of its own to be "
                                          "compared with the original")])
        loaded = [edits.validate_data(d, str(d.get("name"))) for d in to_run]
    except ScenarioError as exc:
        ok = False
        show_problems(exc)
    ok = ok and run_size_ok(loaded)
    mine = to_run[-1] if changed else to_run[0]
    download.download_button(
        "Download the edited scenario (YAML)",
        edits.to_yaml(mine, "edited in secsim ui" if mine is not data else ""),
        f"{mine.get('name', 'scenario')}.yaml", "application/x-yaml", key="download_yaml",
        disabled=not ok)
    clicked = st.button("Run", key="run", type="primary", disabled=busy or not ok)
    if clicked and ok and not busy:
        folder = tempfile.mkdtemp(prefix="secsim-ui-", dir=os.environ.get("SECSIM_UI_WORKDIR"))
        job = jobs.start(folder, to_run, original, reps, seed)
        st.session_state["job"] = job
        st.rerun()  # draw the page again with Run greyed out and the progress bar
    if job is not None:
        show_job(job)
        if job.state() == "done":
            show_results(job)
    if busy:
        time.sleep(0.5)  # poll the worker; a click meanwhile reruns the page at once
        st.rerun()


main()
