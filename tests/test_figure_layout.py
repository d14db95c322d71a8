"""Every registered figure is print-ready in nb and en: drawn from small real tables (a tiny saved run,
an uptake curve, small sensitivity, calibration and Bass tables: the fixture of tests/test_plots.py),
it is one or two paper columns wide, no text lies outside the canvas, no two texts overlap (tick
labels, titles, axis labels, legend texts, annotations, cell values), every text is at least 7 pt at
print size, no raw parameter or scenario key is shown, and Norwegian numbers carry a decimal comma.
The smoke stamp is the one text allowed to lie across others.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from sim.config import iter_parameters  # noqa: E402
from sim.plots import FIGURES, SMOKE, figure, save, write_figures  # noqa: E402
from sim.plots.labels import SCENARIOS  # noqa: E402
from sim.plots.style import MIN_FONT_PT, WIDTHS_IN  # noqa: E402

from .test_plots import tables  # noqa: E402,F401 (the fixture: small tables of every subject)

TOLERANCE_PX = 1.0
"""How far (pixels at 100 dpi, 0.25 mm) a text may touch the canvas edge or another text."""

RAW_KEYS = {k for k, _ in iter_parameters() if "." in k} | {s for s in SCENARIOS if "_" in s}
"""Keys that must never be shown as they are (dotted parameter keys, scenario names with an underscore)."""


def _tick_texts(ax) -> list[Text]:
    out = []
    for axis in (ax.xaxis, ax.yaxis):
        for tick in axis._update_ticks():  # the ticks that are drawn (matplotlib keeps spare ones)
            out += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return out


def texts_of(fig) -> list[Text]:
    """Every visible, non-empty text artist of ``fig`` that is drawn (tick labels: only drawn ticks)."""
    fig.canvas.draw()
    ticks = {id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for tick in axis.get_major_ticks()
             + axis.get_minor_ticks() for t in (tick.label1, tick.label2)}
    out = [t for ax in fig.axes if ax.get_visible() for t in _tick_texts(ax)]
    for t in fig.findobj(Text):
        if id(t) in ticks or not t.get_visible() or not t.get_text().strip():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        out.append(t)
    return out


def layout_problems(fig) -> list[str]:
    """What makes ``fig`` not print-ready: its width, texts outside the canvas, overlapping texts, small fonts."""
    problems = []
    w = fig.get_size_inches()[0]
    if not any(abs(w - x) < 0.01 for x in WIDTHS_IN):
        problems.append(f"width {w:.2f} in is neither one column nor two")
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    boxes = []
    for t in texts_of(fig):
        if t.get_gid() == "smoke_stamp":
            continue
        bb = t.get_window_extent(renderer)
        s = repr(t.get_text())
        if t.get_fontsize() < MIN_FONT_PT - 1e-9:
            problems.append(f"{s} at {t.get_fontsize():.1f} pt")
        if (bb.x0 < canvas.x0 - TOLERANCE_PX or bb.y0 < canvas.y0 - TOLERANCE_PX or bb.x1 > canvas.x1 + TOLERANCE_PX
                or bb.y1 > canvas.y1 + TOLERANCE_PX):
            problems.append(f"{s} outside the canvas ({bb.x0:.0f},{bb.y0:.0f})-({bb.x1:.0f},{bb.y1:.0f}) of "
                            f"{canvas.width:.0f}x{canvas.height:.0f}")
        boxes.append((s, bb))
    for (s1, a), (s2, b) in itertools.combinations(boxes, 2):
        dx = min(a.x1, b.x1) - max(a.x0, b.x0)
        dy = min(a.y1, b.y1) - max(a.y0, b.y0)
        if dx > TOLERANCE_PX and dy > TOLERANCE_PX:
            problems.append(f"{s1} overlaps {s2} ({dx:.0f}x{dy:.0f} px)")
    return problems


def shown_words(fig) -> list[str]:
    return [t.get_text() for t in texts_of(fig) if t.get_gid() != "smoke_stamp"]


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_is_print_ready(name, lang, tables):  # noqa: F811
    spec = FIGURES[name]
    with _no_layout_warning():
        fig = figure(name, tables[spec.subject], lang, **tables["_options"])
    try:
        problems = layout_problems(fig)
        assert not problems, f"{name}/{lang}:\n  " + "\n  ".join(problems)
        words = shown_words(fig)
        raw = [w for w in words if any(k in w for k in RAW_KEYS) or re.search(r"\bbaseline\b", w)]
        assert not raw, f"{name}/{lang}: raw keys shown: {raw}"
        if lang == "nb":  # numbers with a decimal point, or a comma between thousands, are English
            english = [w for w in words if re.search(r"\d\.\d|\d,\d{3}(?!\d)", w) and not re.search(r"\d{4}-\d{2}", w)]
            assert not english, f"{name}/nb: English number formats: {english}"
        if os.environ.get("ONERECORD_FIGURE_DIR"):  # to look at them: the files as write_figures saves them
            save(fig, Path(os.environ["ONERECORD_FIGURE_DIR"]) / f"{name}_{lang}")
    finally:
        plt.close(fig)


def test_write_figures_stamps_a_smoke_test_and_writes_print_files(tables, tmp_path):  # noqa: F811
    from PIL import Image

    for lang in ("nb", "en"):
        paths = write_figures("validation", tables["validation"], tmp_path, lang, smoke=True)
        png = next(p for p in paths if p.suffix == ".png")
        with Image.open(png) as im:
            assert im.size[0] in (round(300 * w) for w in WIDTHS_IN) or abs(im.size[0] - 300 * WIDTHS_IN[0]) <= 1
            assert abs(im.info["dpi"][0] - 300) < 1
        assert next(p for p in paths if p.suffix == ".pdf").read_bytes().startswith(b"%PDF")
        fig = figure("bass", tables["validation"], lang, smoke=True)
        try:
            stamps = [t for t in texts_of(fig) if t.get_gid() == "smoke_stamp"]
            assert [t.get_text() for t in stamps] == [SMOKE[lang]]
            bb, canvas = stamps[0].get_window_extent(fig.canvas.get_renderer()), fig.bbox
            assert canvas.x0 <= bb.x0 and bb.x1 <= canvas.x1 and canvas.y0 <= bb.y0 and bb.y1 <= canvas.y1
        finally:
            plt.close(fig)
    plain = figure("bass", tables["validation"], "en")
    try:
        assert not [t for t in texts_of(plain) if t.get_gid() == "smoke_stamp"]
    finally:
        plt.close(plain)


def test_same_figure_gives_the_same_pdf(tables, tmp_path):  # noqa: F811
    a = write_figures("validation", tables["validation"], tmp_path / "a", "nb")
    b = write_figures("validation", tables["validation"], tmp_path / "b", "nb")
    for p, q in zip(a, b):
        assert p.read_bytes() == q.read_bytes(), p.name


@pytest.fixture(scope="module")
def large():
    """Tables the size of the real analyses: the 14 parameters with the longest Norwegian names, the four
    default sensitivity outputs and one more, the real region's 66 municipalities by name."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from sim.config import load_config, prior_ranges, region_names
    from sim.plots.labels import display_name
    from sim.sensitivity.options import DEFAULT_OUTPUTS

    from .conftest import ROOT

    cfg = load_config(ROOT / "configs" / "baseline.toml")
    params = sorted(prior_ranges(cfg), key=lambda k: -len(display_name(k, "nb")))[:14]
    outputs = [*DEFAULT_OUTPUTS, "n_municipalities_live_end"]
    rng = np.random.default_rng(1)
    indices = pd.DataFrame(
        [{"output": o, "parameter": p, "method": "sobol", "index": i, "value": rng.uniform(0, 0.6), "conf": 0.05}
         for o in outputs for p in params for i in ("S1", "ST")]
        + [{"output": o, "parameter": p, "method": "morris", "index": i, "value": rng.uniform(0, 1), "conf": 0.05}
           for o in outputs for p in params for i in ("mu_star", "mu", "sigma")])
    tornado = pd.DataFrame([{"output": o, "parameter": p, "y_base": 1234.5, "y_low": 1000.0 - 10 * k,
                             "y_high": 1500.0 + 10 * k, "swing": 500.0 + 20 * k} for o in outputs for k, p in enumerate(params)])
    drivers = indices[(indices["method"] == "sobol") & (indices["index"] == "ST")].assign(
        rank=lambda d: d.groupby("output")["value"].rank(ascending=False, method="first").astype(int))
    names = region_names(cfg.region)
    expected = pd.DataFrame([{"scenario": s, "kommunenummer": k, "name": n, "expected_nok_per_inhabitant": 200.0 * j + i * 25.0}
                             for j, s in enumerate(("baseline", "grant_as_loan", "ks_proposal", "floor_key"))
                             for i, (k, n) in enumerate(zip(names.kommunenummer, names.municipalities))])
    return {"sensitivity": SimpleNamespace(indices=indices, tornado=tornado),
            "report": SimpleNamespace(drivers=drivers[drivers["rank"] <= 5]),
            "bill": SimpleNamespace(expected=expected)}


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("name", ["sobol_indices", "morris_mu_star_sigma", "tornado", "drivers", "bill_by_municipality"])
def test_figures_of_real_size_are_print_ready(name, lang, large):
    with _no_layout_warning():
        fig = figure(name, large[FIGURES[name].subject], lang, method="sobol", highlight="Trondheim")
    try:
        problems = layout_problems(fig)
        assert not problems, f"{name}/{lang}:\n  " + "\n  ".join(problems[:20])
        if os.environ.get("ONERECORD_FIGURE_DIR"):
            save(fig, Path(os.environ["ONERECORD_FIGURE_DIR"]) / f"large_{name}_{lang}")
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", ["compare", "compare_cost_per_inhabitant"])
def test_a_scenario_compared_twice_keeps_the_legend_inside_the_figure(name, tables):  # noqa: F811
    """``onerecord compare`` of two runs of one scenario names the second "<scenario> (<its run folder>)"."""
    from types import SimpleNamespace

    import pandas as pd

    run = tables["run"]
    twice = "baseline (baseline-synthetic-20220507-0123456789abcdef)"
    costs = pd.concat([run.costs_municipality, run.costs_municipality.assign(scenario=twice)])
    src = SimpleNamespace(runs={"baseline": run.tables, twice: run.tables}, costs_municipality=costs)
    with _no_layout_warning():
        fig = figure(name, src, "nb")
    try:
        problems = layout_problems(fig)
        assert not problems, "\n".join(problems)
        assert any("Basis (baseline-synthetic" in " ".join(w.split()) for w in shown_words(fig))
    finally:
        plt.close(fig)


class _no_layout_warning:
    """Fail on matplotlib's 'constrained_layout not applied' (a legend or label larger than the figure)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.filterwarnings("error", message="constrained_layout not applied")

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_many_scenarios_compared_show_their_bands_as_bars_at_the_end(lang, tables):  # noqa: F811
    """Six scenarios' 5-95% bands over each other are unreadable in print (the position paper's adoption
    figure): beyond BANDS_AT_MOST each scenario draws its median line and one bar at the period's end."""
    from types import SimpleNamespace

    from matplotlib.collections import PolyCollection

    from sim.plots.run import BANDS_AT_MOST

    run = tables["run"]
    six = ["baseline", "gp_agreement", "gp_price_half", "functionality_fixed", "gp_all_levers", "no_gp_network_benefit"]
    for names, bars in ((six[:BANDS_AT_MOST], False), (six, True)):
        with _no_layout_warning():
            fig = figure("compare", SimpleNamespace(runs={s: run.tables for s in names}), lang)
        try:
            assert not layout_problems(fig), layout_problems(fig)
            for ax in fig.axes[:2]:
                fills = [c for c in ax.collections if isinstance(c, PolyCollection)]
                errorbars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
                assert (len(fills), len(errorbars)) == ((0, len(names)) if bars else (len(names), 0))
                if bars:  # every bar to the right of the lines' last month
                    end = max(line.get_xdata()[-1] for line in ax.get_lines() if len(line.get_xdata()) > 2)
                    assert all(c.lines[0].get_xdata()[0] > end for c in errorbars)
        finally:
            plt.close(fig)
