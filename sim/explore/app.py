"""The explorer page (Solara): levers on the left, key figures, views, command and download on the right.

Each browser tab has its own setting (Solara's reactive variables live per tab); every tab shares
the process's :class:`~sim.explore.engine.Engine` (pool and base cache), set by
:func:`sim.explore.server.serve` through :func:`configure`. A lever change validates the setting at
once (a rejected one shows its one-line message and leaves the last good result in place), then
starts the run as a Solara task in a thread: the page stays live, a newer change cancels the
running one, and the views show the last result until the new one is in.
"""

from __future__ import annotations

import base64
import html
import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import solara
import solara.lab

from sim import api
from sim.explore import views
from sim.explore.engine import Engine, Outcome
from sim.explore.levers import Lever, base_values, levers, shipped_configs
from sim.explore.server import MAX_SEEDS
from sim.explore.text import t
from sim.plots import fmt

SETTINGS: dict[str, Any] = {"engine": None, "config": "configs/baseline.toml", "seeds": 8, "kommune": "Trondheim",
                            "lang": "en"}


def configure(engine: Engine, config: str, seeds: int = 8, kommune: str = "Trondheim", lang: str = "en") -> None:
    """Set the engine, the first base scenario, seeds, municipality and language every new tab starts with."""
    SETTINGS.update(engine=engine, config=str(config), seeds=int(seeds), kommune=kommune, lang=lang)


# per tab; start() fills them from SETTINGS when a tab opens
config = solara.reactive("")
values: solara.Reactive[dict] = solara.reactive({})
seeds = solara.reactive(8)
lang = solara.reactive("en")
kommune_name = solara.reactive("")
error = solara.reactive("")
last_good: solara.Reactive[Outcome | None] = solara.reactive(None)


@solara.lab.task(prefer_threaded=True)
def compute(config_path: str, setting: dict, n_seeds: int) -> Outcome:
    """Run a setting and its base; a result is kept only if no newer request came in meanwhile."""

    def progress(p: float) -> None:
        compute.progress = p

    out = SETTINGS["engine"].run(config_path, setting, n_seeds, is_current=compute.is_current, progress=progress)
    if compute.is_current():
        last_good.value = out
    return out


def submit() -> None:
    """Validate the current setting; run it if valid, else show why (the last good result stays)."""
    try:
        Engine.validate(config.value, values.value)
    except api.ConfigError as err:
        error.value = str(err)
        if compute.pending:  # the run in flight is of a setting the levers no longer show
            compute.cancel()
        return
    error.value = ""
    compute(config.value, dict(values.value), int(seeds.value))


def set_value(key: str, value: Any) -> None:
    if values.value.get(key) == value:
        return
    values.value = {**values.value, key: value}
    submit()


def set_base(path: str) -> None:
    config.value = path
    values.value = base_values(path)
    submit()


def start() -> None:
    """A new tab: the server's base scenario, seeds, municipality and language, then the first run."""
    if values.value:
        return
    seeds.value, lang.value, kommune_name.value = SETTINGS["seeds"], SETTINGS["lang"], SETTINGS["kommune"]
    set_base(SETTINGS["config"])


def set_seeds(n: int) -> None:
    seeds.value = int(n)
    submit()


# --------------------------------------------------------------------------- components


def _display(lv: Lever, value: Any, lg: str) -> str:
    if lv.kind == "select":
        return t(str(value), lg)
    if lv.unit == "fraction":
        return fmt(float(value), "idx", lg)
    return f"{fmt(float(value), 'int' if lv.step >= 1 else 'num', lg)} {lv.unit}"


@solara.component
def LeverControl(lv: Lever, value: Any, lg: str):
    name = f"{t(lv.key, lg)}: {_display(lv, value, lg)}"
    css = "lever-" + lv.key.replace(".", "-").replace("_", "-")
    with solara.Tooltip(lv.hover):
        with solara.Column(classes=[css], gap="0px"):
            if lv.kind == "slider":
                solara.Text(name, style={"font-size": "0.9em"})
                solara.SliderFloat("", value=float(value), min=lv.low, max=lv.high, step=lv.step,
                                   on_value=lambda v: set_value(lv.key, lv.clamp(v)), thumb_label=False,
                                   tick_labels="end_points")
            else:
                solara.Select(name, values=list(lv.choices), value=value,
                              on_value=lambda v: set_value(lv.key, lv.clamp(v)))


@solara.component
def KeyFigure(css: str, title: str, text: str, base_text: str):
    with solara.Card(margin=1, style={"min-width": "11em"}):
        solara.Text(title, style={"font-size": "0.85em", "color": "#555"})
        solara.HTML(tag="div", unsafe_innerHTML="", style="height: 2px")
        solara.Text(text, classes=[css], style={"font-size": "1.6em", "font-weight": "600"})
        solara.Text(base_text, classes=[css + "-base"], style={"font-size": "0.8em", "color": "#555"})


def _zip(out: Outcome) -> bytes:
    """The setting's and the base's tables and manifests (``RunResults.save`` without figures) and the command."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, res in (("setting", out.res), ("base", out.base)):
            path = res.save(Path(tmp) / name, figures=False)
            for f in sorted(path.iterdir()):
                zf.write(f, f"{name}/{f.name}")
        zf.writestr("command.txt", out.command + "\n")
    return buf.getvalue()


def _sheet(out: Outcome, kommune: str, lang: str) -> bytes:
    """The council sheet of one municipality (``sim.api.bill``: bill.xlsx, the CSVs and figures): this
    setting under every financing scenario shipped beside the base config, same seeds."""
    res = api.bill(kommune, config=out.res.config, seeds=out.seeds, jobs=1, lang=lang,
                   scenarios=api.financing_scenarios(Path(out.config).parent))
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        path = res.save(tmp, lang)  # <tmp>/<scenario>/<run id>/: the zip holds <run id>/...
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            zf.write(f, f.relative_to(path.parent).as_posix())
        zf.writestr("command.txt", out.command + "\n")
    return buf.getvalue()


@solara.component
def Download(text: str, filename: str, make, css: str, key: tuple):
    """A button that builds the file on click, then a link that saves it (a data: URL: the bytes are in
    the page already, nothing is fetched). (Solara's FileDownload shows no button under the Vuetify 3
    front end of solara 1.58.)"""
    ready, set_ready = solara.use_state(None, key=f"{css}-{key}")
    if ready is None:
        solara.Button(text, icon_name="mdi-package-down", on_click=lambda: set_ready(base64.b64encode(make()).decode()),
                      classes=[css], outlined=True)
    else:
        solara.HTML(tag="a", unsafe_innerHTML=f"⬇ {html.escape(filename)}", classes=[css + "-link"],
                    attributes={"href": f"data:application/zip;base64,{ready}", "download": filename})


@solara.component
def Views(out: Outcome, lg: str, name: str):
    year = out.res.config.run.report_year
    munis = views.municipalities(out.base)
    codes = dict(zip(munis["name"], munis["kommunenummer"]))
    code = codes.get(name, munis["kommunenummer"].iloc[0])
    name = name if name in codes else munis["name"].iloc[0]
    now, was = views.headline(out.res, year, code), views.headline(out.base, year, code)
    fnow, fwas = views.format_headline(now, lg), views.format_headline(was, lg)
    with solara.Row(style={"flex-wrap": "wrap"}):
        KeyFigure("ex-gp-uptake", t("gp_uptake", lg, year=year), fnow["gp_uptake"], t("base_value", lg, value=fwas["gp_uptake"]))
        KeyFigure("ex-gain", t("gain", lg, year=year), fnow["gain"], t("base_value", lg, value=fwas["gain"]))
        KeyFigure("ex-coverage", t("coverage", lg, year=year), fnow["coverage"], t("base_value", lg, value=fwas["coverage"]))
        KeyFigure("ex-bill", t("bill", lg, name=name, year=year) + f" ({t('per_inhabitant', lg)})", fnow["bill"],
                  t("base_value", lg, value=fwas["bill"]))
    with solara.Card(t("command", lg), margin=1):
        solara.Preformatted(out.command, class_="ex-command", style_="white-space: pre-wrap; word-break: break-all")
        with solara.Row():
            Download(t("download", lg), f"{out.res.run_id}.zip", lambda: _zip(out), "ex-download", (id(out),))
            Download(t("download_sheet", lg, name=name), f"bill_{code}_{out.res.run_id}.zip",
                     lambda: _sheet(out, code, lg), "ex-download-sheet", (id(out), code, lg))
    key = (id(out), lg, code)
    figs = solara.use_memo(lambda: [(title, views.svg(fig)) for title, fig in [
        (t("view_adoption", lg), views.fig_adoption(out.res, out.base, lg)),
        (t("view_who", lg), views.fig_who_pays(out.res, out.base, lg)),
        (t("view_gain", lg), views.fig_gain_coverage(out.res, out.base, out.uptake, out.order, lg)),
        (t("view_bill", lg), views.fig_bill(out.res, out.base, code, name, year, lg)),
        (t("view_gp", lg), views.fig_gp_case(out.res, out.base, lg)),
    ]], dependencies=list(key))
    widths = [1, 1, 2, 2, 1]  # the wide figures get a row of their own
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "stretch"}):
        for (title, image), w in zip(figs, widths):
            with solara.Card(title, margin=1, style={"flex": f"1 1 {'96%' if w == 2 else '45%'}", "min-width": "420px"}):
                solara.Image(image, width="100%", format="svg+xml")
                if title == t("view_gp", lg):
                    solara.DataFrame(views.gp_case_table(out.res, out.base, lg), items_per_page=10)
                if title == t("view_adoption", lg):
                    solara.Text(views.band_text(out.res, lg), style={"font-size": "0.8em"})


@solara.component
def Page():
    solara.use_effect(start, [])
    lg = lang.value
    solara.Title(t("title", lg))
    with solara.Columns([1, 3]):
        with solara.Column(style={"padding": "8px"}):
            solara.ToggleButtonsSingle(lang.value, values=["nb", "en"], on_value=lambda v: lang.set(v), classes=["ex-lang"])
            base_choices = [str(p) for p in shipped_configs(SETTINGS["config"])]
            solara.Select(t("base", lg), values=base_choices, value=config.value, on_value=set_base)
            solara.SliderInt(t("seeds", lg), value=seeds.value, min=1, max=MAX_SEEDS, on_value=set_seeds, thumb_label="always")
            solara.Text(t("levers", lg), style={"font-weight": "600"})  # not Markdown: it loads KaTeX
            if values.value:
                for lv in levers(config.value):
                    LeverControl(lv, values.value.get(lv.key), lg)
        Results(lg)


@solara.component
def Results(lg: str):
    out = last_good.value
    with solara.Column(style={"padding": "8px"}):
        with solara.Row():
            if compute.pending:
                solara.Text(t("running", lg, n=seeds.value), classes=["ex-status-running"])
            elif out is not None:
                solara.Text(t("ready", lg, n=out.seeds, seconds=fmt(out.seconds, "idx", lg)),
                            classes=["ex-status-ready"])
        solara.ProgressLinear(compute.progress if compute.pending and compute.progress else compute.pending)
        if error.value:
            solara.Text(f"{error.value}. {t('invalid', lg)}", classes=["ex-error"],
                        style={"color": "#b00020", "border": "1px solid #b00020", "padding": "6px", "border-radius": "4px"})
        if out is not None:
            munis = views.municipalities(out.base)["name"].tolist()
            solara.Select(t("municipality_pick", lg), values=munis,
                          value=kommune_name.value if kommune_name.value in munis else munis[0],
                          on_value=lambda v: kommune_name.set(v))
            Views(out, lg, kommune_name.value)


__all__ = ["Page", "configure"]
