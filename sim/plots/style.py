"""The paper style, sizes, axes handling, number formats on the axes, the smoke-test stamp and file
writing shared by every figure (matplotlib loads lazily).

Sizes: a figure is one column (:data:`ONE_COLUMN_IN`, 85 mm) or two columns (:data:`TWO_COLUMNS_IN`,
174 mm) wide at print size, laid out by constrained layout and saved at exactly that size (PDF, and
PNG at 300 dpi), every text at least 7 pt (``sim/onerecord.mplstyle``).
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pandas as pd

from sim.plots.labels import check_lang, tick_formatter

MM_PER_IN = 25.4
ONE_COLUMN_IN = 85 / MM_PER_IN
"""One column of a paper: 85 mm (3.35 in)."""
TWO_COLUMNS_IN = 174 / MM_PER_IN
"""Two columns (the page width) of a paper: 174 mm (6.85 in)."""
WIDTHS_IN = (ONE_COLUMN_IN, TWO_COLUMNS_IN)
MIN_FONT_PT = 7.0
"""The smallest text a figure may have at print size."""

SMOKE = {"en": "Smoke test, not for use", "nb": "Røyktest, ikke til bruk"}
"""The stamp across every figure of a smoke-test (quick) pack."""


@contextmanager
def paper_style():
    """Matplotlib with the package's paper style (the backend is left as it is: Agg without a display)."""
    import matplotlib.pyplot as plt

    with resources.as_file(resources.files("sim") / "onerecord.mplstyle") as style, plt.style.context(str(style)):
        yield plt


def size(height_in: float, two_columns: bool = False) -> tuple[float, float]:
    """A figure size at print width: one column (85 mm) or two (174 mm) wide, ``height_in`` high."""
    return (TWO_COLUMNS_IN if two_columns else ONE_COLUMN_IN, height_in)


def wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters (titles and labels that must fit a column)."""
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


def axes(plt, ax=None, n: int = 1, figsize=None, **kw):
    """(figure, list of n Axes): the caller's ``ax`` (one Axes, or a sequence of at least n for a
    figure of n panels) or a new figure of n panels side by side (``figsize`` default: one column)."""
    if ax is None:
        fig, made = plt.subplots(1, n, figsize=figsize or size(2.6), squeeze=False, **kw)
        return fig, list(made.flat)
    given = list(ax.flat) if hasattr(ax, "flat") else list(ax) if isinstance(ax, (list, tuple)) else [ax]
    if len(given) < n:
        raise ValueError(f"this figure draws {n} panels; got {len(given)} Axes")
    return given[0].figure, given[:n]


def panels(plt, n: int, height: float = 2.0, ax=None, cols: int = 2, **kw):
    """(figure, n Axes) in a grid of ``cols`` columns two columns wide (one column wide for a single
    panel; unused cells hidden), ``height`` inches per row; or the caller's ``ax``."""
    if ax is not None:
        return axes(plt, ax, n)
    cols = min(cols, max(n, 1))
    rows = -(-max(n, 1) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=size(height * rows + 0.3, two_columns=cols > 1), squeeze=False, **kw)
    for a in grid.flat[n:]:
        a.set_visible(False)
    return fig, list(grid.flat)[:n]


def legend_below(fig, a, ax=None, ncol: int = 2, **kw) -> None:
    """The legend of Axes ``a`` below the figure when the figure is ours (``ax`` None), else inside ``a``;
    long entries are wrapped and set one to a row, so the legend never outgrows the figure."""
    handles, texts = a.get_legend_handles_labels()
    width = fig.get_size_inches()[0]
    chars = int(width * 72 / (0.6 * 7)) - 6  # characters of 7 pt text across the figure, less the handle
    texts = [wrap(t, max(12, chars)) for t in texts]
    longest = max((len(line) for t in texts for line in t.splitlines()), default=0)
    ncol = max(1, min(ncol, len(texts), chars // max(1, longest + 6)))
    if ax is None:
        fig.legend(handles, texts, loc="outside lower center", ncol=ncol, **kw)
    else:
        a.legend(handles, texts, loc="best", **kw)


def localize(fig, lang: str) -> None:
    """Numbers on every axis of ``fig`` in ``lang`` (:func:`sim.plots.labels.tick_formatter`): each axis that
    still has matplotlib's default number formatter gets the project's (dates, names and formatters a
    figure set itself are left as they are)."""
    from matplotlib.ticker import ScalarFormatter

    for a in fig.axes:
        for axis in (a.xaxis, a.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(tick_formatter(lang))


def fit_texts(fig, rounds: int = 4) -> None:
    """Re-wrap any title, axis label or legend title of ``fig`` that runs off the canvas (a long name in a
    narrow panel), narrower each round, until every one fits or ``rounds`` are done; the layout
    follows on the next draw."""
    for _ in range(rounds):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        width, height = fig.bbox.width, fig.bbox.height
        changed = False
        texts = [fig._suptitle] + [t for a in fig.axes if a.get_visible() for t in (
            a.title, a._left_title, a._right_title, a.xaxis.label, a.yaxis.label,
            *((a.get_legend().get_title(),) if a.get_legend() is not None else ()))]
        for t in texts:
            if t is None or not t.get_visible() or not t.get_text().strip():
                continue
            bb = t.get_window_extent(renderer)
            vertical = abs(t.get_rotation() % 180 - 90) < 1
            lo, hi, size_px, room = (bb.y0, bb.y1, bb.height, height) if vertical else (bb.x0, bb.x1, bb.width, width)
            over = max(0.0, -lo) + max(0.0, hi - room)
            if over <= 0.5:
                continue
            centred = t.get_horizontalalignment() == "center" and not vertical
            share = max(0.2, (size_px - (2 if centred else 1) * over) / size_px)
            flat = " ".join(t.get_text().split())
            longest = max(len(line) for line in t.get_text().splitlines())
            t.set_text(wrap(flat, max(8, int(longest * share * 0.95))))
            changed = True
        if not changed:
            return


def stamp_smoke(fig, lang: str) -> None:
    """Write :data:`SMOKE` ("Smoke test, not for use") large and diagonally across ``fig``, sized to fit it."""
    text = SMOKE[check_lang(lang)]
    w_in, h_in = fig.get_size_inches()
    pt = min(28.0, 0.9 * 72 * min(w_in, 1.6 * h_in) / (0.6 * len(text)))
    fig.text(0.5, 0.5, text, fontsize=pt, color="#D55E00", alpha=0.35, rotation=20, ha="center", va="center",
             fontweight="bold", zorder=1000, gid="smoke_stamp")


def save(fig, stem: Path) -> list[Path]:
    """Write ``stem.pdf`` (vector, no creation date: the same figure gives the same file) and ``stem.png``
    (300 dpi) at the figure's size, and close the figure."""
    import matplotlib.pyplot as plt

    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".pdf"), stem.with_suffix(".png")]
    for p in paths:
        fig.savefig(p, dpi=300, bbox_inches=None, metadata={"CreationDate": None} if p.suffix == ".pdf" else None)
    plt.close(fig)
    return paths


def band(ax, df: pd.DataFrame, x: str, y: str, label_text: str, color=None, bar_slot: tuple[int, int] | None = None,
         **line_kw):
    """Median over the runs as a line, their 5-95% quantiles as a band (x shared by all runs).

    ``bar_slot = (i, n)``: the band as a bar at the last x instead, the i-th of n side by side to the right of
    the lines (many scenarios' bands over each other are unreadable in print)."""
    g = df.groupby(x)[y]
    q = pd.DataFrame({"lo": g.quantile(0.05), "mid": g.median(), "hi": g.quantile(0.95)})
    (line,) = ax.plot(q.index, q["mid"], label=label_text, color=color, **line_kw)
    if bar_slot is None:
        ax.fill_between(q.index, q["lo"], q["hi"], color=line.get_color(), alpha=0.2, linewidth=0)
        return line
    i, n = bar_slot
    step = (q.index[-1] - q.index[0]) / 60  # n bars in the tenth of the axis to the right of the end
    at = q.index[-1] + step * (1.5 + i * 4 / max(n - 1, 1))
    last = q.iloc[-1]
    ax.errorbar([at], [last["mid"]], yerr=[[last["mid"] - last["lo"]], [last["hi"] - last["mid"]]], fmt="o",
                color=line.get_color(), markersize=2.5, elinewidth=1.2, capsize=1.5)
    return line
