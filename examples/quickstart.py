# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # onerecord quick start
#
# Two scenarios of the Helseplattformen rollout, run with the Python API (`sim`):
#
# * `configs/baseline.toml`: the rollout as planned by end-2023, no GP agreement;
# * `configs/gp_agreement.toml`: the same plus a subsidy to GPs on the platform from 2024.
#
# We run 8 replicate seeds of each, plot GP uptake over time, the gain against GP uptake,
# and read what the platform costs each municipality per inhabitant.
# The model is described in `docs/model.md`; the output columns in `README.md`.
#
# This file is the source of `quickstart.ipynb` (jupytext percent format): edit it here, then
# run `python -m tests.test_notebook` to rewrite the notebook. With `ONERECORD_QUICK=1` in the
# environment it runs 2 seeds instead of 8 and a coarser uptake curve (the test does that).

# %%
import os
from pathlib import Path

import pandas as pd

import sim
from sim.plots import band, label, paper_style

try:  # in Jupyter: show figures as PNG (sim.plots draws them off-screen, with the Agg backend)
    from IPython import get_ipython
    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(get_ipython(), {"png"})
except (ImportError, AttributeError):  # a plain `python examples/quickstart.py` run
    pass

QUICK = os.environ.get("ONERECORD_QUICK") == "1"
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "configs" / "baseline.toml").exists())
SEEDS = 2 if QUICK else 8  # replicate seeds per scenario

# %% [markdown]
# ## Load the two scenarios
#
# `sim.load_config` validates a scenario file (resolving `extends`) and applies overrides;
# a bad key or value raises `sim.ConfigError` with one line naming the file and the key.
# Keyword overrides use `__` for the dot, e.g. `sim.load_config(path, gp__bass_q_per_year=0.5)`.

# %%
configs = {name: sim.load_config(ROOT / "configs" / f"{name}.toml")
           for name in ("baseline", "gp_agreement")}
for name, cfg in configs.items():
    print(f"{name:13s} subsidy {cfg.agreement.subsidy_nok_per_gp_year:>8,.0f} NOK/GP/year from "
          f"{cfg.agreement.start_month}: {cfg.description}")

# %% [markdown]
# ## Run 8 seeds of each
#
# `sim.run` returns a `RunResults` with the tables `onerecord run` would write
# (`.timeseries`, `.summary`, `.costs_municipality`, `.costs_gp`, `.who_pays_who_gains`);
# nothing is written until `.save(dir)`. Replicate r uses `SeedSequence(run.seed, spawn_key=(r,))`,
# the same in both scenarios, so seed-by-seed differences are the effect of the agreement.

# %%
runs = {name: sim.run(cfg, seeds=SEEDS) for name, cfg in configs.items()}
year = configs["baseline"].run.report_year
for name, res in runs.items():
    s = res.summary
    print(f"{name:13s} {res.run_id}: GP uptake {year} median {s[f'share_gps_{year}'].median():.3f}, "
          f"end {s['share_gps_end'].median():.3f}; gain realized end {s['gain_realized_end'].median():.3f}")

# %% [markdown]
# ## GP uptake over time
#
# Share of GPs on the platform (`share_gps`, region rows of the timeseries): median over seeds
# and the 5-95% band.

# %%
with paper_style() as plt:
    fig, ax = plt.subplots()
    for i, (name, res) in enumerate(runs.items()):
        region_rows = res.timeseries[res.timeseries["level"] == "region"]
        band(ax, region_rows, "month", "share_gps", name, color=f"C{i}")
    ax.set(xlabel=label("month"), ylabel=label("share_gps"), ylim=(0, 1.02),
           title=f"GP uptake ({label('median_band')})")
    ax.legend(title=label("scenario"), loc="upper left")
fig

# %% [markdown]
# ## The gain against GP uptake
#
# `sim.uptake_curve` holds hospitals and municipalities on the platform and adds whole GP
# practices in a recruitment order until each GP share is reached; `gain_realized` is the share
# of the full-adoption gain (search time and adverse events, valued in NOK) reached. It returns an
# `UptakeResult`: the table is `.uptake_curve`, and `.plot(name)` draws a figure of the registry
# `sim.plots.FIGURES` (here `uptake_gain_realized`).

# %%
curve = sim.uptake_curve(configs["baseline"], steps=6 if QUICK else 21, seeds=2 if QUICK else 5)
curve.plot("uptake_gain_realized")

# %% [markdown]
# The same relation along the simulated trajectories (one line per seed, months as points):
# the run's `gain_vs_uptake` figure. `.plot(name, lang)` draws any of the run figures
# (`adoption`, `coverage`, `gain_vs_uptake`, `cost_per_inhabitant`, `who_pays_who_gains`)
# with English (`en`) or Norwegian (`nb`) labels.

# %%
runs["gp_agreement"].plot("gain_vs_uptake", lang="en")

# %% [markdown]
# ## What a municipality pays
#
# `costs_municipality` has one row per (seed, municipality, year). `net_cost_nok_per_inhabitant`
# is the platform charge net of the state grant and shares, plus GP subsidies, minus the
# status-quo EPJ cost it no longer pays. The median over seeds in the report year, for the
# three largest and the two smallest municipalities:

# %%
def cost_per_inhabitant(res, year):
    """Median over seeds of the net cost per inhabitant in ``year``, one row per municipality."""
    cm = res.costs_municipality
    sel = cm[cm["year"] == year]
    return (sel.groupby(["kommunenummer", "name", "population"])["net_cost_nok_per_inhabitant"]
            .median().reset_index().sort_values("population", ascending=False))


table = cost_per_inhabitant(runs["baseline"], year).rename(columns={"net_cost_nok_per_inhabitant": "baseline"})
table["gp_agreement"] = table["kommunenummer"].map(
    cost_per_inhabitant(runs["gp_agreement"], year).set_index("kommunenummer")["net_cost_nok_per_inhabitant"])
few = table.iloc[[0, 1, 2, -2, -1]]
few.round(1)

# %% [markdown]
# Who pays and who gains over the whole horizon (NPV in 2023 NOK, median over seeds):

# %%
who = {name: res.who_pays_who_gains.groupby("actor", sort=False)["net_npv_nok"].median() / 1e6
       for name, res in runs.items()}
pd.DataFrame(who).round(1).rename_axis("net NPV, NOK million")
