"""The report as a document: blocks composed from a saved pack, rendered as Markdown and HTML."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from types import SimpleNamespace as Tables

import numpy as np
import pandas as pd

from sim.config import get_dotted
from sim.plots import figure, save
from sim.plots.run import BANDS_AT_MOST
from sim.report.tables import OVERRIDE_SOURCE, Pack, facts, municipal_costs, top_drivers, uptake_gaps, \
    who_pays_npv
from sim.report.bands import band
from sim.report.text import TEXT, check_lang, display_name, fmt, label, name_of, output_label
from sim.results import atomic_dir, compare_table


class _Writer:
    """Composes the report's blocks from a pack: one method per section, figures saved as it goes."""

    def __init__(self, pack: Pack, lang: str, fig_dir: Path):
        self.pack, self.lang, self.fig_dir = pack, lang, fig_dir
        self.facts, self.raw = facts(pack, lang)
        self.text = TEXT[lang]
        self.year, self.base = pack.year, pack.exp["baseline"]

    def say(self, key: str, **kw) -> str:
        """A template filled with the facts (and ``kw``)."""
        return self.text[key].format(**(self.facts | kw))

    def col(self, key: str) -> str:
        """A table column heading."""
        return self.text[f"col_{key}"]

    def fmt(self, v: float, kind: str) -> str:
        """A number in the report's language."""
        return fmt(v, kind, self.lang)

    def figure(self, stem: str, name: str, tables, caption: str, **options) -> tuple:
        """Draw the registered figure ``name`` (:data:`sim.plots.FIGURES`) from ``tables``, save it as
        ``figures/<stem>_<lang>.png`` (and PDF), stamped a smoke test when the pack is one; its block."""
        stem = f"{stem}_{self.lang}"
        save(figure(name, tables, self.lang, smoke=self.pack.smoke, **options), self.fig_dir / stem)
        return ("fig", f"figures/{stem}.png", caption)

    def key_numbers(self) -> list[tuple]:
        items = [self.say(k) for k in ("key_gp", "key_gain", "key_orders", "key_best", "key_cost", "key_gp_case",
                                       "key_muni_case")]
        items += [self.say("key_driver_refused" if self.raw["drivers_refused"] else "key_driver")]
        head = [("h1", title(self.pack, self.lang))]
        head += [("smoke", self.say("smoke_banner"))] if self.pack.smoke else []
        return [*head, ("p", self.say("generated")), ("h2", self.text["key_title"]), ("p", self.say("bands_note")),
                ("ul", items)]

    def question1(self) -> list[tuple]:
        p, lang = self.pack, self.lang
        gaps = uptake_gaps(p.uptake, p.exp["uptake_curve"]["at"])
        wide = gaps.pivot(index="share", columns="order", values="value")[list(dict.fromkeys(gaps["order"]))]
        table = pd.DataFrame({self.col("share"): [self.fmt(a, "pct0") for a in wide.index]})
        for order in wide.columns:
            table[label(order, lang)] = [self.fmt(v, "pct") for v in wide[order]]
        table[self.col("gap")] = [self.fmt(v, "pp") for v in gaps.groupby("share")["gap"].first().reindex(wide.index)]
        full = "q1_full_below" if self.raw["gain_full"] < 1 - 1e-9 else "q1_full"
        return [("h2", self.text["q1_title"]), ("p", f"{self.say('q1_text')} {self.say(full)}"),
                self.figure("uptake_curve", "uptake_panels", Tables(uptake_curve=p.uptake), self.say("q1_fig")),
                ("table", table, self.say("q1_table"))]

    def question2(self) -> list[tuple]:
        p, lang, y = self.pack, self.lang, self.year
        adopt = p.exp["adoption_scenarios"]
        runs = Tables(runs={p.name(s, lang): Tables(timeseries=p.timeseries(s)) for s in adopt})
        stats = compare_table({s: p.summaries[s] for s in adopt}, y).set_index(["scenario", "figure"])
        rows = []
        for s in adopt:
            gp, gain = stats.loc[(s, f"share_gps_{y}")], stats.loc[(s, f"gain_realized_{y}")]
            rows.append({self.col("scenario"): p.name(s, lang), self.col("median"): self.fmt(gp["median"], "pct"),
                         self.col("low"): self.fmt(gp["p05"], "pct"), self.col("high"): self.fmt(gp["p95"], "pct"),
                         self.col("end"): self.fmt(p.summaries[s]["share_gps_end"].median(), "pct"),
                         self.col("gain"): self.fmt(gain["median"], "pct")})
        h, cfg = p.inputs["heatmap"], p.manifest["config"]
        heat = self.figure("heatmap", "heatmap", Tables(heatmap=p.heat), self.say("q2_heat_fig"), x_key=h["x"],
                           y_key=h["y"], output=h["output"], mark=(get_dotted(cfg, h["x"]), get_dotted(cfg, h["y"])))
        return [("h2", self.text["q2_title"]), ("p", self.say("q2_text")),
                self.figure("adoption_scenarios", "compare", runs,
                            self.say("q2_fig" if len(adopt) > BANDS_AT_MOST else "q2_fig_band")),
                ("table", pd.DataFrame(rows), self.say("q2_table")), ("p", self.say("q2_heat")), heat]

    def question3(self) -> list[tuple]:
        p, lang, y = self.pack, self.lang, self.year
        fin = p.exp["financing_scenarios"]
        rows, lines = [], []
        base_c = municipal_costs(p.table(self.base, "costs_municipality"), y)["nok_per_inhabitant"]
        for s in fin:
            c = municipal_costs(p.table(s, "costs_municipality"), y)["nok_per_inhabitant"]
            n_live = self.fmt(p.summaries[s][f"n_municipalities_live_{y}"].median(), "int")
            median, low, high = self.fmt(c.median(), "nok"), self.fmt(c.min(), "nok"), self.fmt(c.max(), "nok")
            rows.append({self.col("scenario"): p.name(s, lang), self.col("median"): median, self.col("low"): low,
                         self.col("high"): high, self.col("live"): n_live,
                         self.col("npv"): self.fmt(p.summaries[s]["npv_municipal_net_cost_nok"].median(), "mnok")})
            if s != self.base:
                same = c.shape == base_c.shape and np.allclose(c.to_numpy(), base_c.to_numpy())  # e.g. a floor no one is below
                lines.append(self.say("q3_scen_same" if same else "q3_scen", name=p.name(s, lang), median=median,
                                      min=low, max=high, n_joined=n_live))
        costs = pd.concat([p.table(s, "costs_municipality").assign(scenario=p.name(s, lang)) for s in fin])
        nets = {p.name(s, lang): who_pays_npv(p.table(s, "who_pays_who_gains")) for s in fin}
        who = pd.DataFrame({self.col("actor"): [label(a, lang) for a in next(iter(nets.values())).index]})
        for name, df in nets.items():
            who[name] = [self.fmt(v, "mnok") for v in df["net_npv_nok"]]
        return [("h2", self.text["q3_title"]), ("p", self.say("q3_text")), ("ul", lines),
                self.figure("cost_per_inhabitant", "cost_per_inhabitant", Tables(costs_municipality=costs),
                            self.say("q3_fig"), report_year=y),
                ("table", pd.DataFrame(rows), self.say("q3_table")), ("p", self.say("q3_who")),
                self.figure("who_pays", "who_pays_who_gains",
                            Tables(who_pays_who_gains=p.table(self.base, "who_pays_who_gains")), self.say("q3_who_fig")),
                self.figure("net_by_actor", "net_by_actor", Tables(nets=nets), self.say("q3_net_fig")),
                ("table", who, self.say("q3_who_table"))]

    def question4(self) -> list[tuple]:
        p, lang = self.pack, self.lang
        top = top_drivers(p.indices)
        lines = [self.say("q4_line", output=output_label(out, lang), drivers=", ".join(
                 f"{name_of(r['parameter'], lang)} ({self.fmt(r['value'], 'idx')})" for _, r in g.iterrows()))
                 for out, g in top.groupby("output", sort=False)]
        skipped = p.sens_summary.get("skipped_outputs") or {}
        if skipped:
            lines.append(self.say("q4_skipped", skipped=", ".join(output_label(o, lang) for o in skipped)))
        table = pd.DataFrame({self.col("output"): [output_label(o, lang) for o in top["output"]],
                              self.col("rank"): top["rank"].astype(str),
                              self.col("param"): [name_of(k, lang) for k in top["parameter"]],
                              self.col("value"): [self.fmt(v, "idx") for v in top["value"]],
                              self.col("conf"): [self.fmt(v, "idx") for v in top["conf"]]})
        if self.raw["drivers_refused"]:
            lines = [self.say("q4_refused")]
        return [("h2", self.text["q4_title"]), ("p", self.say("q4_text")), ("ul", lines),
                self.figure("drivers", "drivers", Tables(drivers=top), self.say("q4_fig"), method=p.sens_summary["design"]),
                ("table", table, self.say("q4_table"))]

    def business_cases(self) -> list[tuple]:
        p, lang, T = self.pack, self.lang, self.text
        cases = p.cases.set_index("scenario")

        def cell(scenario: str, column: str, kind: str) -> str:
            b = band(cases.loc[[scenario], column])
            show = [T["never"] if kind in ("years", "year") and np.isinf(v) else
                    ("–" if np.isnan(v) else str(int(round(v)))) if kind == "year" else
                    self.fmt(v, "num" if kind == "years" else kind) for v in (b["median"], b["p05"], b["p95"])]
            return f"{show[0]} ({T['range'].format(lo=show[1], hi=show[2])})"

        gp_rows = [{self.col("scenario"): p.name(s, lang),
                    self.col("licence"): self.fmt(cases.loc[[s], "gp_licence_nok_per_gp_year"].median(), "nok"),
                    self.col("break_even"): cell(s, "gp_break_even_licence_nok_per_gp_year", "nok"),
                    self.col("gaining"): cell(s, "gp_share_gps_gaining", "pct"),
                    self.col("payback"): cell(s, "gp_payback_years", "years")} for s in p.exp["adoption_scenarios"]]
        muni_rows = [{self.col("scenario"): p.name(s, lang),
                      self.col("median"): cell(s, "muni_net_cost_nok_per_inhabitant", "nok"),
                      self.col("payback_year"): cell(s, "muni_payback_year", "year")} for s in p.exp["financing_scenarios"]]
        return [("h2", T["cases_title"]), ("p", self.say("cases_text")),
                ("ul", [self.say("key_gp_case"), self.say("key_muni_case")]),
                ("table", pd.DataFrame(gp_rows), self.say("cases_gp_table")),
                ("table", pd.DataFrame(muni_rows), self.say("cases_muni_table"))]

    def calibration_and_checks(self) -> list[tuple]:
        p, T = self.pack, self.text
        fit = self.say("calibrated") if p.calibration else self.say("not_calibrated")
        cover = (self.say("coverage_none") if p.coverage is None else
                 self.say("coverage_all_built") if self.raw["n_free"] == 0 else self.say("coverage"))
        return [("h2", T["calib_title"]), ("p", fit), ("p", cover), ("p", self.say("bass"))]

    def limitations(self) -> list[tuple]:
        T = self.text
        items = [self.say(k) for k in ("lim_counted", "lim_not_counted", "lim_muni", "lim_gp", "lim_weak")]
        items += [self.say("lim_history")] if self.pack.calibration else []
        return [("h2", T["lim_title"]), ("ul", items)]

    def methods_and_appendix(self) -> list[tuple]:
        p, lang, T = self.pack, self.lang, self.text
        src = [T["override"].format(file=s.removeprefix(OVERRIDE_SOURCE)) if s.startswith(OVERRIDE_SOURCE)
               else s if s.strip() else T["assumption"] for s in p.params["source"]]
        params = pd.DataFrame({self.col("name"): [display_name(k, lang, default="") for k in p.params["key"]],
                               self.col("key"): [f"`{k}`" for k in p.params["key"]], self.col("value"): p.params["value"],
                               self.col("unit"): p.params["unit"], self.col("source"): src})
        fin = p.exp["financing_scenarios"]
        munis = p.table(self.base, "costs_municipality").drop_duplicates("kommunenummer")
        munis = munis.sort_values("population", ascending=False)[["kommunenummer", "name", "population"]]
        appendix = pd.DataFrame({self.col("muni"): munis["name"].to_numpy(),
                                 self.col("pop"): [self.fmt(v, "int") for v in munis["population"]]})
        for s in fin:
            c = municipal_costs(p.table(s, "costs_municipality"), self.year).set_index("kommunenummer")
            appendix[p.name(s, lang)] = [self.fmt(v, "nok") for v in
                                         c["nok_per_inhabitant"].reindex(munis["kommunenummer"]).to_numpy()]
        return [("h2", T["methods_title"]), ("p", self.say("methods")),
                ("h2", T["params_title"]), ("p", self.say("params_text")), ("table", params, ""),
                ("h2", self.say("appendix_title")), ("table", appendix, "")]


def title(pack: Pack, lang: str) -> str:
    """The report's title; a smoke test's says so first."""
    t = TEXT[lang]
    return f"{t['smoke_title']}: {t['title']}" if pack.smoke else t["title"]


def compose(pack: Pack, lang: str, fig_dir: Path) -> tuple[list[tuple], dict[str, float]]:
    """The report as blocks (("h1" | "h2" | "p", text), ("ul", items), ("table", DataFrame, caption),
    ("fig", path, caption)), figures written to ``fig_dir``; and the raw values of every quoted fact."""
    w = _Writer(pack, lang, fig_dir)
    blocks = [*w.key_numbers(), *w.question1(), *w.question2(), *w.question3(), *w.question4(),
              *w.business_cases(), *w.limitations(), *w.calibration_and_checks(), *w.methods_and_appendix()]
    return blocks, w.raw


def _md_cell(v) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: list[tuple]) -> str:
    """Blocks as Markdown (pipe tables, image links relative to the report)."""
    out: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h1":
            out.append(f"# {b[1]}")
        elif kind == "h2":
            out.append(f"## {b[1]}")
        elif kind == "p":
            out.append(b[1])
        elif kind == "smoke":
            out.append(f"> **{b[1]}**")
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in b[1]))
        elif kind == "fig":
            out.append(f"![{_md_cell(b[2])}]({b[1]})\n\n*{b[2]}*")
        elif kind == "table":
            df, caption = b[1], b[2]
            rows = ["| " + " | ".join(_md_cell(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
            rows += ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
            out.append((f"*{caption}*\n\n" if caption else "") + "\n".join(rows))
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    """HTML-escaped text with `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(text)))


CSS = """body{font-family:Georgia,serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:0.6em 0 1.2em;font-size:0.85em}th,td{border:1px solid #ccc;padding:0.2em 0.5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}caption{caption-side:top;text-align:left;font-style:italic;
padding-bottom:0.3em}figure{margin:1em 0}figure img{max-width:100%}figcaption{font-style:italic;font-size:0.9em}
code{font-size:0.9em;background:#f5f5f5}
.smoke{border:2px solid #b00;color:#b00;font-weight:bold;padding:0.5em 1em;margin:1em 0}.smoke-page{display:none}
@media print{.smoke-page{display:block;position:fixed;top:0;right:0;color:#b00;font-weight:bold}}"""


def render_html(blocks: list[tuple], base: Path, lang: str, title: str, smoke_title: str = "") -> str:
    """Blocks as one self-contained HTML page: figures embedded as base64 PNG, no scripts, no links out; a
    smoke block shows on top and, printed, on every page."""
    out = [f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>',
           f"<style>{CSS}</style>\n</head>\n<body>"]
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2"):
            out.append(f"<{kind}>{_inline(b[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_inline(b[1])}</p>")
        elif kind == "smoke":  # on screen at the top; in print on every page (a fixed element repeats per page)
            out.append(f'<div class="smoke">{_inline(b[1])}</div><div class="smoke-page">{_inline(smoke_title)}</div>')
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b[1]) + "</ul>")
        elif kind == "fig":
            data = base64.b64encode((base / b[1]).read_bytes()).decode("ascii")
            out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(b[2])}">'
                       f"<figcaption>{_inline(b[2])}</figcaption></figure>")
        elif kind == "table":
            df, caption = b[1], b[2]
            head = "".join(f"<th>{_inline(c)}</th>" for c in df.columns)
            body = "".join("<tr>" + "".join(f"<td>{_inline(v)}</td>" for v in r) + "</tr>" for r in df.itertuples(index=False))
            cap = f"<caption>{_inline(caption)}</caption>" if caption else ""
            out.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    out.append("</body>\n</html>\n")
    return "\n".join(out)


def build_report(results_dir: str | Path, lang: str = "en") -> Path:
    """Build ``report_<lang>/`` (report.md, report.html, numbers.json, figures/) from the saved results of a
    pack alone (``report_inputs.json`` and the files it names); returns the path of report.md."""
    check_lang(lang)
    pack = Pack(results_dir)
    target = pack.root / f"report_{lang}"
    with atomic_dir(target) as tmp:
        blocks, raw = compose(pack, lang, tmp / "figures")
        (tmp / "report.md").write_text(render_markdown(blocks), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(blocks, tmp, lang, title(pack, lang), TEXT[lang]["smoke_title"]),
                                         encoding="utf-8")
        (tmp / "numbers.json").write_text(json.dumps(raw, indent=2, sort_keys=True), encoding="utf-8")
    return target / "report.md"
