"""The workbench in a real browser: `secsim ui` on a free loopback port, driven by headless
Chromium (selenium). Skipped, with the reason, when the browser, its driver or selenium is
missing (`.ci/run` installs them)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the workbench needs streamlit (pip install -e '.[ui]')")
pytest.importorskip("selenium", reason="the browser test needs selenium (pip install -e '.[ui]')")

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver import Chrome, ChromeOptions, ChromeService, Keys  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HORIZON = 24  # the baseline's three warm-up weeks and three measured days: a short run
SEED = 3
SCREENSHOT = os.environ.get("SECSIM_UI_SCREENSHOT")  # also save the README's picture there

if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
    pytest.skip(f"no headless browser: {CHROMIUM} or {DRIVER} is missing (apt-get install "
                "chromium chromium-driver; .ci/run does it as root)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`secsim ui` on a free loopback port, its runs in a temporary folder, its output in
    server.log there (a pipe nobody reads would block the server once full)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path_factory.mktemp("ui-runs")
    env = dict(os.environ, SECSIM_UI_WORKDIR=str(folder),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH"))
                                          if p))
    log = folder / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "simulation", "ui", "--port", str(port)],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"secsim ui did not start: {log.read_text()}")
    # it prints its address, loopback only
    assert f"workbench is at http://127.0.0.1:{port}" in log.read_text().splitlines()[0]
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def browser(tmp_path):
    opts = ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--window-size=1400,1000"):
        opts.add_argument(a)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    with Chrome(service=ChromeService(DRIVER), options=opts) as drv:
        drv.downloads = downloads
        yield drv


def number_input(drv, label_start: str):
    """The input of the number field whose label starts with ``label_start``."""
    return drv.find_element(By.XPATH, f'//div[@data-testid="stNumberInput"][.//label[starts-with('
                                      f'normalize-space(.), "{label_start}")]]//input')


def set_number(drv, wait, label_start: str, value: int) -> None:
    box = number_input(drv, label_start)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.ENTER)
    wait.until(lambda d: number_input(d, label_start).get_attribute("value") == str(value))


def click(wait, text: str) -> None:
    wait.until(EC.element_to_be_clickable(
        (By.XPATH, f'//button[normalize-space(.)="{text}"]'))).click()


def open_baseline(drv, server: str, replications: int, horizon: int = HORIZON):
    drv.get(server)
    wait = WebDriverWait(drv, 60)
    wait.until(lambda d: d.find_elements(By.XPATH, '//button[normalize-space(.)="Run"]'))
    # the baseline is picked: the edited scenario is named after it
    name = drv.find_element(By.XPATH, '//input[@aria-label="Name of the edited scenario"]')
    assert name.get_attribute("value") == "baseline_edited"
    set_number(drv, wait, "Horizon, days", horizon)
    set_number(drv, wait, "Replications", replications)
    set_number(drv, wait, "Seed", SEED)
    return wait


def wait_for_results(drv, seconds: float) -> str:
    """The page's text once the KPI table and the report's download button are shown."""
    def ready(d):
        body = d.find_element(By.TAG_NAME, "body").text
        if "The run failed" in body:
            pytest.fail(f"the run failed in the page:\n{body}")
        return (d.find_elements(By.CSS_SELECTOR, '[data-testid="stTable"]') and d.find_elements(
            By.XPATH, '//button[normalize-space(.)="HTML report"]'))

    try:
        WebDriverWait(drv, seconds).until(ready)
    except TimeoutException:
        body = drv.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"no results after {seconds}s; the page says:\n{body}")
    return drv.find_element(By.TAG_NAME, "body").text


def wait_for_download(drv, name: str, seconds: float = 30) -> Path:
    path = drv.downloads / name
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.exists(), f"{name} was not downloaded: {list(drv.downloads.iterdir())}"
    return path


def test_pool_two_departments_and_online_booking_against_the_baseline_then_download(server, browser,
                                                                           tmp_path):
    import simulation

    drv = browser
    # the README's picture needs narrower intervals than the test
    wait = open_baseline(drv, server, 5 if SCREENSHOT else 2, 21 if SCREENSHOT else HORIZON)
    # pool cardiology and gastroenterology phones
    box = drv.find_element(By.CSS_SELECTOR, '[data-testid="stMultiSelect"] input')
    for dept in ("cardiology", "gastroenterology"):
        box.click()
        box.send_keys(dept, Keys.ENTER)
    box.send_keys(Keys.ESCAPE)  # close the menu, which would cover the slider
    wait.until(lambda d: "gastroenterology" in d.find_element(
        By.CSS_SELECTOR, '[data-testid="stMultiSelect"]').text)
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "lever: pooling"))
    # 20% online booking: the second slider, from 0 by arrow keys
    slider = drv.find_elements(By.CSS_SELECTOR, '[data-testid="stSlider"] input[type="range"]')[1]
    drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    slider.send_keys(Keys.ARROW_RIGHT * 20)
    wait.until(lambda d: "20" in d.find_elements(
        By.CSS_SELECTOR, '[data-testid="stSliderThumbValue"]')[1].text)
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "online_booking"))
    body = drv.find_element(By.TAG_NAME, "body").text
    assert "departments: [cardiology, gastroenterology]" in body and "share: 0.2" in body
    # the edited scenario downloads as the YAML file secsim run reads
    click(wait, "Download the edited scenario (YAML)")
    edited = wait_for_download(drv, "baseline_edited.yaml")
    resolved = simulation.load_scenario(edited)
    assert resolved.calendar.horizon_days == HORIZON
    assert [lv.lever for lv in resolved.applied_levers] == ["pooling", "online_booking"]
    click(wait, "Run")
    # while it runs: a progress bar, a Cancel button, and Run cannot start a second run
    wait.until(lambda d: d.find_elements(By.XPATH, '//button[normalize-space(.)="Cancel"]'))
    wait.until(lambda d: not d.find_element(
        By.XPATH, '//button[normalize-space(.)="Run"]').is_enabled())
    assert drv.find_elements(By.CSS_SELECTOR, '[data-testid="stProgress"]')
    body = wait_for_results(drv, 240)
    assert "baseline_edited" in body and re.search(r"Difference: [+-]\d", body)
    if not SCREENSHOT:
        # The baseline's numbers in the page are those of simulation.run (same seed).
        scenario = simulation.load_scenario(ROOT / "scenarios" / "baseline.yaml",
                                            [f"calendar.horizon_days={HORIZON}"])
        pickup = simulation.run(scenario, replications=2, seed=SEED, events=False).kpi(
            "pickup_rate")
        shown = drv.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text
        assert shown == f"{100 * pickup['mean']:.1f}%"
        assert f"[{100 * pickup.ci_low:.1f}%, {100 * pickup.ci_high:.1f}%]" in body
    results = drv.find_element(By.XPATH, '//h2[contains(., "4. Results")]')
    drv.execute_script("arguments[0].scrollIntoView({block: 'start'})", results)
    drv.save_screenshot(str(tmp_path / "compare.png"))
    if SCREENSHOT:  # the README's picture: the results, taller
        drv.set_window_size(1400, 1500)
        drv.execute_script("arguments[0].scrollIntoView({block: 'start'})", results)
        time.sleep(1)
        drv.save_screenshot(SCREENSHOT)
    click(wait, "HTML report")
    text = wait_for_download(drv, "report.html").read_text(encoding="utf-8")
    assert "scenario comparison" in text and "baseline_edited" in text
    figures = drv.find_elements(By.CSS_SELECTOR, 'img[src^="data:image/svg+xml"]')
    assert len(figures) == 3 and all(f.size["height"] > 100 for f in figures)


def test_cancel_stops_a_run(server, browser):
    drv = browser
    wait = open_baseline(drv, server, 50)
    click(wait, "Run")
    click(wait, "Cancel")
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "The run was cancelled."))
    assert wait.until(EC.element_to_be_clickable(
        (By.XPATH, '//button[normalize-space(.)="Run"]')))


def test_a_malformed_upload_is_named_in_the_page(server, browser, tmp_path):
    drv = browser
    drv.get(server)
    wait = WebDriverWait(drv, 60)
    wait.until(EC.element_to_be_clickable(
        (By.XPATH, '//label[normalize-space(.)="Upload a YAML file"]'))).click()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncalendar: [1, 2\n", encoding="utf-8")
    wait.until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, '[data-testid="stFileUploader"] input[type="file"]'))).send_keys(str(bad))
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, '[data-testid="stSidebar"]'),
                                                "is not valid YAML (line"))
    body = drv.find_element(By.TAG_NAME, "body").text
    assert "bad.yaml is not a valid scenario" in body and "Traceback" not in body
