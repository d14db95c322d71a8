"""The paper style, axes handling and file writing shared by every figure (matplotlib loads lazily)."""

from __future__ import annotations

from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pandas as pd


@contextmanager
def paper_style():
    """Matplotlib with the package's paper style (the backend is left as it is: Agg without a display)."""
    import matplotlib.pyplot as plt

    with resources.as_file(resources.files("sim") / "onerecord.mplstyle") as style, plt.style.context(str(style)):
        yield plt


def axes(plt, ax=None, n: int = 1, figsize=None, **kw):
    """(figure, list of n Axes): the caller's ``ax`` (one Axes, or a sequence of at least n for a
    figure of n panels) or a new figure of n panels side by side."""
    if ax is None:
        fig, made = plt.subplots(1, n, figsize=figsize, squeeze=False, **kw)
        return fig, list(made.flat)
    given = list(ax.flat) if hasattr(ax, "flat") else list(ax) if isinstance(ax, (list, tuple)) else [ax]
    if len(given) < n:
        raise ValueError(f"this figure draws {n} panels; got {len(given)} Axes")
    return given[0].figure, given[:n]


def panels(plt, n: int, height: float = 2.6, ax=None):
    """(figure, n Axes) in a grid of two columns (unused cells hidden), or the caller's ``ax``."""
    if ax is not None:
        return axes(plt, ax, n)
    cols = min(2, max(n, 1))
    rows = -(-max(n, 1) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4.6 * cols, height * rows + 0.4), squeeze=False)
    for a in grid.flat[n:]:
        a.set_visible(False)
    return fig, list(grid.flat)[:n]


def save(fig, stem: Path) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png`` (300 dpi) and close the figure."""
    import matplotlib.pyplot as plt

    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".pdf"), stem.with_suffix(".png")]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    return paths


def band(ax, df: pd.DataFrame, x: str, y: str, label_text: str, color=None):
    """Median over seeds as a line, 5-95% quantiles over seeds as a band (x shared by all seeds)."""
    g = df.groupby(x)[y]
    q = pd.DataFrame({"lo": g.quantile(0.05), "mid": g.median(), "hi": g.quantile(0.95)})
    (line,) = ax.plot(q.index, q["mid"], label=label_text, color=color)
    ax.fill_between(q.index, q["lo"], q["hi"], color=line.get_color(), alpha=0.2, linewidth=0)
    return line
