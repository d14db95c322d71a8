"""The explorer (``onerecord explore``): its levers and commands, its engine, and the page in a real browser.

The browser test starts the app on a free loopback port and drives it with headless Chromium
(Selenium with the system ``chromium`` and ``chromium-driver``); the browser may reach nothing but
loopback (every other host is unresolvable and behind a dead proxy) and the server's own outgoing
HTTP goes to a dead proxy, so the page working at all proves it is offline. Without Chromium (or
Solara) the test is skipped with its reason, except under ``CI=true``, where that fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from sim import api
from sim.explore.levers import (RECRUITMENT_ORDER, base_values, levers, parse_run_command, run_command,
                                scenario_overrides, slider_range)
from sim.plots import fmt

ROOT = Path(__file__).resolve().parents[1]
BASE = "configs/baseline.toml"
IN_CI = os.environ.get("CI", "").lower() == "true"


# --------------------------------------------------------------------------- levers and commands


def test_levers_stay_inside_the_schema_bounds_and_hold_the_base_value():
    table = api.params(ROOT / BASE).parameters.set_index("key")
    vals = base_values(ROOT / BASE)
    for lv in levers(ROOT / BASE):
        if lv.kind == "slider":
            cfg_lo, cfg_hi = slider_range("", table.loc[lv.key, "allowed"], vals[lv.key])
            assert cfg_lo <= lv.low <= vals[lv.key] <= lv.high <= cfg_hi, lv.key
            assert lv.clamp(lv.high * 10 + 1) == lv.high and lv.clamp(lv.low - 1e9) == lv.low
            assert lv.key in lv.hover and "source:" in lv.hover
        else:
            assert vals[lv.key] in lv.choices, lv.key
            assert lv.clamp("not a choice") == lv.choices[0]


def test_slider_range_widens_to_the_value_and_clips_to_the_validity_bounds():
    assert slider_range("0 to 0.5", "[0, 1]", 0.8) == (0.0, 0.8)
    assert slider_range("-1 to 3", "[0, 1]", 0.5) == (0.0, 1.0)
    lo, hi = slider_range("", "(0, ]", 5.0)
    assert lo > 0 and hi == float("inf")


def test_the_command_reproduces_the_setting():
    vals = base_values(ROOT / BASE) | {"gp_price.licence_nok_per_gp_year": 20000.0, "financing.state_share": 1.0,
                                       "agreement.start_month": "2026-01", RECRUITMENT_ORDER: "largest_first"}
    over = scenario_overrides(vals, base_values(ROOT / BASE))
    assert RECRUITMENT_ORDER not in over and set(over) == {"gp_price.licence_nok_per_gp_year",
                                                           "financing.state_share", "agreement.start_month"}
    cmd = run_command(BASE, 3, over)
    config, seeds, sets = parse_run_command(cmd)
    assert (config, seeds) == (BASE, 3)
    cfg = api.load_config(ROOT / config, sets)
    assert cfg.gp_price.licence_nok_per_gp_year == 20000 and cfg.financing.state_share == 1.0
    assert cfg.agreement.start_month == "2026-01"
    assert run_command(BASE, 8, {}) == "onerecord run configs/baseline.toml --seeds 8"


# --------------------------------------------------------------------------- engine


def test_an_open_pool_gives_the_same_tables_as_a_run_without_one():
    cfg = api.load_config(ROOT / BASE, {"gp_price.licence_nok_per_gp_year": 30000})
    pool = api.local_pool(2, warm=cfg)
    try:
        a = api.run(cfg, seeds=2, pool=pool)
        b = api.run(cfg, seeds=2, pool=pool)  # the pool stays open between calls
    finally:
        pool.close()
    c = api.run(cfg, seeds=2)
    for name in ("timeseries", "summary", "costs_municipality", "costs_gp", "who_pays_who_gains"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(c, name))
        pd.testing.assert_frame_equal(getattr(b, name), getattr(c, name))


def test_engine_rejects_a_bad_setting_and_stops_a_superseded_run():
    from sim.explore.engine import Engine, Superseded

    eng = Engine(jobs=1)
    vals = base_values(ROOT / BASE)
    with pytest.raises(api.ConfigError, match="state_share \\+ regional_share must be <= 1"):
        eng.run(str(ROOT / BASE), vals | {"financing.state_share": 1.0, "financing.regional_share": 0.5}, 2)
    calls = []

    def is_current() -> bool:
        calls.append(1)
        return len(calls) < 2  # a newer request arrives after the first seed

    with pytest.raises(Superseded):
        eng.run(str(ROOT / BASE), vals | {"gp_price.licence_nok_per_gp_year": 20000.0}, 3, is_current=is_current)
    out = eng.run(str(ROOT / BASE), vals | {"gp_price.licence_nok_per_gp_year": 20000.0}, 2)
    assert out.base.summary["seed"].tolist() == out.res.summary["seed"].tolist() == [0, 1]  # same seeds
    assert out.res.config.gp_price.licence_nok_per_gp_year == 20000 and out.base.config.gp_price.licence_nok_per_gp_year == 60000
    assert (out.res.summary["share_gps_2030"] >= out.base.summary["share_gps_2030"]).all()  # lower price, same seeds


def test_the_download_holds_the_tables_and_manifests_of_the_setting_and_the_base():
    pytest.importorskip("solara")
    import io
    import zipfile

    from sim.explore.app import _zip
    from sim.explore.engine import Engine

    vals = base_values(ROOT / BASE) | {"financing.state_share": 0.5}
    out = Engine(jobs=1).run(str(ROOT / BASE), vals, 1)
    zf = zipfile.ZipFile(io.BytesIO(_zip(out)))
    names = set(zf.namelist())
    for part in ("setting", "base"):
        assert {f"{part}/summary.csv", f"{part}/costs_municipality.csv", f"{part}/manifest.json"} <= names
    assert zf.read("command.txt").decode().strip() == out.command
    assert json.loads(zf.read("setting/manifest.json"))["config"]["financing"]["state_share"] == 0.5
    assert json.loads(zf.read("base/manifest.json"))["config"]["financing"]["state_share"] == 0.0
    summary = pd.read_csv(io.BytesIO(zf.read("setting/summary.csv")))
    assert summary["share_gps_2030"].tolist() == pytest.approx(out.res.summary["share_gps_2030"].tolist(), rel=1e-12)


def test_every_select_and_view_works_in_both_languages():
    from sim.explore import views
    from sim.explore.engine import Engine

    eng = Engine(jobs=1)
    base = str(ROOT / "configs/gp_agreement.toml")
    vals = base_values(base) | {"financing.allocation_key": "per_inhabitant_floor", "agreement.start_month": "2022-01",
                                RECRUITMENT_ORDER: "largest_first"}
    out = eng.run(base, vals, 2)
    assert out.res.config.financing.allocation_key == "per_inhabitant_floor" and out.order == "largest_first"
    assert set(out.uptake["order"]) == {"largest_first"}
    assert out.command.startswith(f"onerecord run {base} --seeds 2 --set ")
    year = out.res.config.run.report_year
    levanger = views.municipalities(out.base).set_index("name").loc["Levanger", "kommunenummer"]
    ranked = views.bills_ranked(out.res, out.base, year)
    assert len(ranked) == 66 and ranked["setting"].is_monotonic_decreasing
    assert views.headline(out.res, year, levanger)["bill"] == ranked.set_index("kommunenummer").loc[levanger, "setting"]
    for lang in ("en", "nb"):
        for fig in (views.fig_adoption(out.res, out.base, lang), views.fig_who_pays(out.res, out.base, lang),
                    views.fig_gain_coverage(out.res, out.base, out.uptake, out.order, lang),
                    views.fig_bill(out.res, out.base, levanger, "Levanger", year, lang),
                    views.fig_gp_case(out.res, out.base, lang)):
            fig.canvas.draw()
            ticks = [t.get_text() for a in fig.axes for axis in (a.xaxis, a.yaxis) for t in axis.get_ticklabels()]
            points = [x for x in ticks if any(c.isdigit() for c in x) and "." in x]
            assert lang == "en" or not points, points  # nb: a decimal comma on every number axis (shares too)
            assert views.svg(fig).startswith(b"<?xml")
        table = views.gp_case_table(out.res, out.base, lang)
        assert table.shape == (4, 3)


def test_the_council_sheet_download_is_the_bill_of_the_picked_municipality():
    pytest.importorskip("solara")
    import io
    import zipfile

    from sim.explore.app import _sheet
    from sim.explore.engine import Engine

    vals = base_values(ROOT / BASE) | {"gp_price.licence_nok_per_gp_year": 30000.0}
    out = Engine(jobs=1).run(str(ROOT / BASE), vals, 1)
    zf = zipfile.ZipFile(io.BytesIO(_sheet(out, "5037", "nb")))
    names = zf.namelist()
    assert any(n.endswith("bill.xlsx") for n in names) and any(n.endswith("summary_nb.csv") for n in names)
    assert all(re.match(r"baseline-(.+-)?bill-5037_Levanger-[0-9a-f]{8}/", n) or n == "command.txt" for n in names), names
    assert zf.read("command.txt").decode().strip() == out.command


def test_explore_rejects_bad_options_with_one_line():
    r = subprocess.run([sys.executable, "-m", "sim", "explore", "configs/nope.toml", "--port", "1"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "nope.toml" in r.stderr


def test_explore_rejects_bad_port_seeds_and_municipality_with_one_line():
    pytest.importorskip("solara")  # the packages are checked before the options
    for args, word in ((["--port", "70000"], "--port"), (["--seeds", "99"], "--seeds"),
                       (["--kommune", "Atlantis", "--seeds", "1", "--jobs", "1"], "--kommune")):
        r = subprocess.run([sys.executable, "-m", "sim", "explore", *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 2 and r.stderr.startswith(f"onerecord: {word}") and r.stderr.count("\n") == 1, r.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "sim", "explore", "--port", str(port)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "cannot listen" in r.stderr, r.stderr


# --------------------------------------------------------------------------- the page in a browser


def _browser() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths, or the reason they cannot be used."""
    try:
        import selenium  # noqa: F401
        import solara  # noqa: F401
    except ImportError as err:
        return f"{err.name} is not installed (pip install -e \".[dev,explore]\")"
    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver") or next((p for p in ("/usr/lib/chromium/chromedriver",) if Path(p).exists()), None)
    if not chrome or not driver:
        return "no chromium and chromedriver on PATH (apt-get install chromium chromium-driver)"
    return chrome, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _number(text: str) -> float:
    """A displayed number (en format) as a float: '5.4%' -> 5.4, '1,234' -> 1234."""
    return float(re.sub(r"[^0-9.\-]", "", text))


@pytest.fixture
def explorer_url(tmp_path):
    found = _browser()
    if isinstance(found, str):
        if IN_CI:
            pytest.fail(f"CI=true but the browser test cannot run: {found}")
        pytest.skip(found)
    port = _free_port()
    dead = "http://127.0.0.1:9"  # nothing listens: any outgoing HTTP of the server fails
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead,
           "NO_PROXY": "", "no_proxy": ""}
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", BASE, "--port", str(port), "--seeds", "3",
                             "--jobs", "2"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"explorer did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url, found, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_explorer_in_a_real_browser_offline(explorer_url):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    url, (chrome, driver_path), tmp = explorer_url
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1100",
                "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    wait = WebDriverWait(drv, 90, poll_frequency=0.2)  # a ceiling for a loaded machine, not a timing

    def text(css: str) -> str:
        return drv.find_element(By.CSS_SELECTOR, css).text.strip()

    def settled(pred) -> dict[str, str]:
        """Wait until no run is in flight and the command satisfies ``pred``; the displayed figures."""
        def ready(d):
            if d.find_elements(By.CSS_SELECTOR, ".ex-status-running") or not d.find_elements(By.CSS_SELECTOR, ".ex-status-ready"):
                return False
            return pred(text(".ex-command"))
        wait.until(ready, "a settled page whose command satisfies the step's condition")
        return {"command": text(".ex-command"), "uptake": text(".ex-gp-uptake"), "bill": text(".ex-bill")}

    def press(lever_css: str, key: str) -> None:
        thumb = drv.find_element(By.CSS_SELECTOR, f"{lever_css} [role=slider]")
        thumb.send_keys(key)

    try:
        drv.get(url)
        first = settled(lambda c: c.startswith("onerecord run configs/baseline.toml --seeds 3"))
        assert first["command"] == "onerecord run configs/baseline.toml --seeds 3"

        # hover: the lever's key, range and source
        def hovered(d) -> bool:
            ActionChains(d).move_to_element(d.find_element(By.CSS_SELECTOR, ".lever-financing-state-share span")).perform()
            return any("financing.state_share" in e.text and "source:" in e.text
                       for e in d.find_elements(By.CSS_SELECTOR, ".v-overlay__content"))

        wait.until(hovered, "hover text of the state share lever")

        # a change made while a run is in flight supersedes it: the page ends on the newest setting
        shock = ".lever-functionality-golive-shock"
        press(shock, Keys.END)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".ex-status-running") or "golive_shock" in text(".ex-command"),
                   "the go-live shock run started")
        press(shock, Keys.HOME)  # to the bottom of its range, 0 (the base has 0.2)
        shocked = settled(lambda c: c.endswith("--set functionality.golive_shock=0"))
        assert shocked["command"] == first["command"] + " --set functionality.golive_shock=0"

        licence = ".lever-gp-price-licence-nok-per-gp-year"
        press(licence, Keys.END)
        top = settled(lambda c: "gp_price.licence_nok_per_gp_year=120000" in c)
        press(licence, Keys.HOME)
        bottom = settled(lambda c: "gp_price.licence_nok_per_gp_year=20000" in c)
        assert _number(bottom["uptake"]) > _number(top["uptake"]), (top, bottom)

        state = ".lever-financing-state-share"
        press(state, Keys.HOME)  # already 0 in the base
        press(state, Keys.END)
        full = settled(lambda c: "financing.state_share=1" in c)
        assert _number(full["bill"]) < _number(bottom["bill"]), (bottom, full)

        # the displayed figures are what sim.api.run gives for the command the page shows
        config, seeds, sets = parse_run_command(full["command"])
        res = api.run(api.load_config(ROOT / config, sets), seeds=seeds)
        year = res.config.run.report_year
        cm = res.costs_municipality
        bill = cm[(cm["name"] == "Trondheim") & (cm["year"] == year)]["net_cost_nok_per_inhabitant"].median()
        assert full["uptake"] == fmt(res.summary[f"share_gps_{year}"].median(), "pct", "en")
        assert full["bill"] == fmt(bill, "nok", "en")

        # a combination the validation rejects: its one line in the page, the last good result kept
        press(".lever-financing-regional-share", Keys.END)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".ex-error"), "the rejected setting's line")
        assert "state_share + regional_share must be <= 1" in text(".ex-error")
        assert text(".ex-command") == full["command"] and text(".ex-bill") == full["bill"]
        press(".lever-financing-regional-share", Keys.HOME)
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".ex-error"), "the error line gone")
        assert settled(lambda c: c == full["command"]) == full

        # the download: built on click, saved from a link holding the zip (setting and base tables, the command)
        drv.find_element(By.CSS_SELECTOR, "button.ex-download").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.ex-download-link"), "the download link")
        href = drv.find_element(By.CSS_SELECTOR, "a.ex-download-link").get_attribute("href")
        assert href.startswith("data:application/zip;base64,")
        import base64
        import io
        import zipfile

        zf = zipfile.ZipFile(io.BytesIO(base64.b64decode(href.split(",", 1)[1])))
        assert zf.read("command.txt").decode().strip() == full["command"]
        assert {"setting/summary.csv", "base/summary.csv", "setting/manifest.json"} <= set(zf.namelist())

        # language: Norwegian words and number formats
        drv.find_element(By.XPATH, "//div[contains(@class,'ex-lang')]//button[normalize-space()='nb' or normalize-space()='NB']").click()
        wait.until(lambda d: "Fastlegeoppslutning" in d.page_source, "the page in Norwegian")
        assert text(".ex-gp-uptake") == fmt(res.summary[f"share_gps_{year}"].median(), "pct", "nb")
        assert text(".ex-bill") == fmt(bill, "nok", "nb")

        shot = tmp / "explore.png"
        drv.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000

        # offline: every request the page made went to this server (or stayed in the page)
        urls, missing = set(), set()
        for entry in drv.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg["method"] == "Network.requestWillBeSent":
                urls.add(msg["params"]["request"]["url"])
            if msg["method"] == "Network.responseReceived" and msg["params"]["response"]["status"] >= 400:
                missing.add(msg["params"]["response"]["url"])  # an asset the installed packages lack
        host = url.rstrip("/")
        outside = sorted(u for u in urls if not u.startswith((host, host.replace("http", "ws"), "data:", "blob:")))
        assert urls and not outside, outside
        assert not missing, missing
    finally:
        drv.quit()
    log = (tmp / "server.log").read_text()
    assert "Could not load URL" not in log, log[-2000:]
