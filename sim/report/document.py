"""The report as a document: blocks composed from a saved pack, rendered as Markdown and HTML."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pandas as pd

from sim.plots import compare_table, fig_compare, fig_cost_per_inhabitant, fig_who_pays, label, save
from sim.report.figures import fig_drivers, fig_heatmap, fig_net_by_actor, plot_uptake_panels
from sim.report.tables import OVERRIDE_SOURCE, Pack, cfg_value, facts, municipal_costs, top_drivers, uptake_gaps, \
    who_pays_npv
from sim.report.text import TEXT, check_lang, figure_label, fmt, output_label
from sim.results import RunTables, atomic_dir


def compose(pack: Pack, lang: str, fig_dir: Path) -> tuple[list[tuple], dict[str, float]]:
    """The report as blocks (heading, paragraph, list, table, figure), figures written to ``fig_dir``."""
    f, raw = facts(pack, lang)
    T = {k: v for k, v in TEXT[lang].items()}
    say = lambda key, **kw: T[key].format(**(f | kw))  # noqa: E731
    e, y, base = pack.exp, pack.year, pack.exp["baseline"]
    col = lambda key: T[f"col_{key}"]  # noqa: E731
    figs: dict[str, str] = {}

    def figure(name: str, fig) -> str:
        save(fig, fig_dir / name)
        figs[name] = f"figures/{name}.png"
        return figs[name]

    blocks: list[tuple] = [("h1", T["title"]), ("p", say("generated")), ("h2", T["key_title"])]
    items = [say("key_gp"), say("key_gain"), say("key_orders"), say("key_best"), say("key_cost")]
    items += [say("key_driver")] if f["driver1"] != "–" else []
    blocks.append(("ul", items))

    # question 1
    gaps = uptake_gaps(pack.uptake, e["uptake_curve"]["at"])
    wide = gaps.pivot(index="share", columns="order", values="value")[list(dict.fromkeys(gaps["order"]))]
    t1 = pd.DataFrame({col("share"): [fmt(a, "pct0", lang) for a in wide.index]})
    for order in wide.columns:
        t1[label(order, lang)] = [fmt(v, "pct", lang) for v in wide[order]]
    t1[col("gap")] = [fmt(v, "pp", lang) for v in gaps.groupby("share")["gap"].first().reindex(wide.index)]
    blocks += [("h2", T["q1_title"]), ("p", say("q1_text") + " " + say("q1_full_below" if raw["gain_full"] < 1 - 1e-9 else "q1_full")),
               ("fig", figure(f"uptake_curve_{lang}", plot_uptake_panels(pack.uptake, lang)), say("q1_fig")),
               ("table", t1, say("q1_table"))]

    # question 2
    adopt = e["adoption_scenarios"]
    runs = {pack.name(s, lang): RunTables(pack.timeseries(s), *(pd.DataFrame(),) * 4) for s in adopt}
    table = compare_table({s: pack.summaries[s] for s in pack.summaries}, y)
    gp_rows = []
    for s in adopt:
        r = table[(table["scenario"] == s) & (table["figure"] == f"share_gps_{y}")].iloc[0]
        gr = table[(table["scenario"] == s) & (table["figure"] == f"gain_realized_{y}")].iloc[0]
        gp_rows.append({col("scenario"): pack.name(s, lang), col("median"): fmt(r["median"], "pct", lang),
                        col("low"): fmt(r["p05"], "pct", lang), col("high"): fmt(r["p95"], "pct", lang),
                        col("end"): fmt(pack.summaries[s]["share_gps_end"].median(), "pct", lang),
                        col("gain"): fmt(gr["median"], "pct", lang)})
    hx = pack.inputs["heatmap"]
    heat_title = f"{f['output']}, {y} ({figure_label('heat_mean', lang)})"
    mark = (cfg_value(pack.manifest["config"], hx["x"]), cfg_value(pack.manifest["config"], hx["y"]))
    blocks += [("h2", T["q2_title"]), ("p", say("q2_text")),
               ("fig", figure(f"adoption_scenarios_{lang}", fig_compare(runs, lang)), say("q2_fig")),
               ("table", pd.DataFrame(gp_rows), say("q2_table")), ("p", say("q2_heat")),
               ("fig", figure(f"heatmap_{lang}", fig_heatmap(pack.heat, hx["x"], hx["y"], heat_title, f["output"], lang, mark)),
                say("q2_heat_fig"))]

    # question 3
    fin = e["financing_scenarios"]
    costs = {s: municipal_costs(pack.table(s, "costs_municipality"), y) for s in fin}
    cost_rows, lines = [], []
    for s in fin:
        c = costs[s]["nok_per_inhabitant"]
        n_live = pack.summaries[s][f"n_municipalities_live_{y}"].median()
        cost_rows.append({col("scenario"): pack.name(s, lang), col("median"): fmt(c.median(), "nok", lang),
                          col("low"): fmt(c.min(), "nok", lang), col("high"): fmt(c.max(), "nok", lang),
                          col("live"): fmt(n_live, "int", lang),
                          col("npv"): fmt(pack.summaries[s]["npv_municipal_net_cost_nok"].median(), "mnok", lang)})
        if s != base:
            lines.append(say("q3_scen", name=pack.name(s, lang), median=fmt(c.median(), "nok", lang),
                             min=fmt(c.min(), "nok", lang), max=fmt(c.max(), "nok", lang),
                             n_joined=fmt(n_live, "int", lang)))
    all_costs = pd.concat([pack.table(s, "costs_municipality").assign(scenario=pack.name(s, lang)) for s in fin])
    nets = {pack.name(s, lang): who_pays_npv(pack.table(s, "who_pays_who_gains")) for s in fin}
    who_rows = pd.DataFrame({col("actor"): [label(a, lang) for a in next(iter(nets.values())).index]})
    for name, df in nets.items():
        who_rows[name] = [fmt(v, "mnok", lang) for v in df["net_npv_nok"]]
    blocks += [("h2", T["q3_title"]), ("p", say("q3_text")), ("ul", lines),
               ("fig", figure(f"cost_per_inhabitant_{lang}", fig_cost_per_inhabitant(all_costs, lang, y)), say("q3_fig")),
               ("table", pd.DataFrame(cost_rows), say("q3_table")), ("p", say("q3_who")),
               ("fig", figure(f"who_pays_{lang}", fig_who_pays(pack.table(base, "who_pays_who_gains"), lang)),
                say("q3_who_fig")),
               ("fig", figure(f"net_by_actor_{lang}", fig_net_by_actor(nets, lang)), say("q3_net_fig")),
               ("table", who_rows, say("q3_who_table"))]

    # question 4
    top = top_drivers(pack.indices)
    method = pack.sens_summary["design"]
    q4 = [say("q4_line", output=output_label(out, lang),
              drivers=", ".join(f"`{r['parameter']}` ({fmt(r['value'], 'idx', lang)})" for _, r in g.iterrows()))
          for out, g in top.groupby("output", sort=False)]
    skipped = pack.sens_summary.get("skipped_outputs") or {}
    if skipped:
        q4.append(say("q4_skipped", skipped=", ".join(output_label(o, lang) for o in skipped)))
    t4 = pd.DataFrame({col("output"): [output_label(o, lang) for o in top["output"]], col("rank"): top["rank"].astype(str),
                       col("param"): [f"`{p}`" for p in top["parameter"]],
                       col("value"): [fmt(v, "idx", lang) for v in top["value"]],
                       col("conf"): [fmt(v, "idx", lang) for v in top["conf"]]})
    blocks += [("h2", T["q4_title"]), ("p", say("q4_text")), ("ul", q4),
               ("fig", figure(f"drivers_{lang}", fig_drivers(top, method, lang)), say("q4_fig")),
               ("table", t4, say("q4_table"))]

    # methods, assumptions, appendix
    p = pack.params
    src = [T["override"].format(file=s.removeprefix(OVERRIDE_SOURCE)) if s.startswith(OVERRIDE_SOURCE)
           else s if s.strip() else T["assumption"] for s in p["source"]]
    t5 = pd.DataFrame({col("key"): [f"`{k}`" for k in p["key"]], col("value"): p["value"], col("unit"): p["unit"],
                       col("source"): src})
    app = None
    for s in fin:
        c = costs[s].set_index(["kommunenummer", "name", "population"])["nok_per_inhabitant"].rename(pack.name(s, lang))
        app = c.to_frame() if app is None else app.join(c, how="outer")
    app = app.reset_index().sort_values("population", ascending=False)
    t6 = pd.DataFrame({col("muni"): app["name"], col("pop"): [fmt(v, "int", lang) for v in app["population"]]})
    for s in fin:
        t6[pack.name(s, lang)] = [fmt(v, "nok", lang) for v in app[pack.name(s, lang)]]
    blocks += [("h2", T["methods_title"]), ("p", say("methods")),
               ("h2", T["params_title"]), ("p", say("params_text")), ("table", t5, ""),
               ("h2", say("appendix_title")), ("table", t6, "")]
    return blocks, raw


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
code{font-size:0.9em;background:#f5f5f5}"""


def render_html(blocks: list[tuple], base: Path, lang: str, title: str) -> str:
    """Blocks as one self-contained HTML page: figures embedded as base64 PNG, no scripts, no links out."""
    out = [f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>',
           f"<style>{CSS}</style>\n</head>\n<body>"]
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2"):
            out.append(f"<{kind}>{_inline(b[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_inline(b[1])}</p>")
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
        (tmp / "report.html").write_text(render_html(blocks, tmp, lang, TEXT[lang]["title"]), encoding="utf-8")
        (tmp / "numbers.json").write_text(json.dumps(raw, indent=2, sort_keys=True), encoding="utf-8")
    return target / "report.md"
