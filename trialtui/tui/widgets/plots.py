"""Plots drawn through a PlotextPlot widget's ``plt`` (never plotext's global state)."""

from __future__ import annotations

import math

import polars as pl
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual_plotext import PlotextPlot

ARM_COLORS = ("cyan", "orange", "magenta", "green", "red", "blue")


def arm_color(arms: list[str], arm: str) -> str:
    return ARM_COLORS[arms.index(arm) % len(ARM_COLORS)] if arm in arms else "white"


def _reset(widget: PlotextPlot, title: str) -> None:
    plt = widget.plt
    plt.clear_figure()
    plt.title(title)


def _empty(widget: PlotextPlot, title: str, why: str) -> None:
    _reset(widget, f"{title}: {why}")
    widget.refresh()


def draw_strip(widget: PlotextPlot, fc: pl.DataFrame, arms: list[str], title: str) -> None:
    """Box summary and points of log2FC by arm (x: arm index, y: log2FC)."""
    if fc.is_empty():
        return _empty(widget, title, "no pairs")
    _reset(widget, title)
    plt = widget.plt
    present = [a for a in arms if a in set(fc["arm"])]
    data = [fc.filter(pl.col("arm") == a)["log2fc"].to_list() for a in present]
    plt.box(list(range(1, len(present) + 1)), data, width=0.3)
    for i, (arm, values) in enumerate(zip(present, data, strict=True), start=1):
        n = len(values)
        xs = [i + 0.25 * ((k % 5) - 2) / 2 for k in range(n)]
        plt.scatter(xs, values, color=arm_color(arms, arm), marker="dot", label=arm)
    plt.hline(0, "gray")
    plt.xticks(list(range(1, len(present) + 1)), [_short(a) for a in present])
    plt.ylabel("log2 FC")
    widget.refresh()


def draw_slope(
    widget: PlotextPlot, fc: pl.DataFrame, arms: list[str], title: str, unit: str = ""
) -> None:
    """Each patient's pre -> post line on a log10 axis, coloured by arm."""
    if fc.is_empty():
        return _empty(widget, title, "no pairs")
    _reset(widget, title)
    plt = widget.plt
    for row in fc.select("arm", "pre", "post").iter_rows():
        arm, pre, post = row
        if pre and post and pre > 0 and post > 0:
            plt.plot([1, 2], [math.log10(pre), math.log10(post)], color=arm_color(arms, arm))
    plt.xticks([1, 2], ["pre", "post"])
    plt.ylabel(f"log10 value {unit}".strip())
    widget.refresh()


def draw_waterfall(widget: PlotextPlot, fc: pl.DataFrame, arms: list[str], title: str) -> None:
    """Per-patient log2FC sorted from highest to lowest, bars coloured by arm."""
    if fc.is_empty():
        return _empty(widget, title, "no pairs")
    _reset(widget, title)
    plt = widget.plt
    ordered = fc.sort("log2fc", descending=True)
    for arm in [a for a in arms if a in set(ordered["arm"])]:
        idx = [i + 1 for i, a in enumerate(ordered["arm"].to_list()) if a == arm]
        vals = ordered.filter(pl.col("arm") == arm)["log2fc"].to_list()
        plt.bar(idx, vals, color=arm_color(arms, arm), label=_short(arm), width=0.8)
    n = ordered.height
    plt.xticks(sorted({1, (n + 1) // 2, n}))  # fixed ticks: plotext's own vary run to run
    plt.hline(0, "gray")
    plt.xlabel("patients, highest to lowest")
    plt.ylabel("log2 FC")
    widget.refresh()


def draw_volcano(
    widget: PlotextPlot,
    comparison: pl.DataFrame,
    title: str,
    *,
    effect: str = "gmfc_ratio",
    q: str = "q_welch",
    log2: bool = True,
    xlabel: str = "log2 ratio of geometric mean FC",
    ylabel: str = "-log10 q (Welch)",
) -> None:
    """Effect against -log10 q for every biomarker (default: Welch ratio of geometric mean
    FCs on the log2 scale; ``log2=False`` for an effect already on the log2 scale)."""
    rows = comparison.filter(pl.col(effect).is_not_null() & pl.col(q).is_not_null())
    if rows.is_empty():
        return _empty(widget, title, "no between-arm tests")
    _reset(widget, title)
    plt = widget.plt
    x = [math.log2(v) if log2 else v for v in rows[effect]]
    y = [-math.log10(max(v, 1e-300)) for v in rows[q]]
    significant = [v < 0.05 for v in rows[q]]
    sig_x = [a for a, s in zip(x, significant, strict=True) if s]
    sig_y = [b for b, s in zip(y, significant, strict=True) if s]
    other_x = [a for a, s in zip(x, significant, strict=True) if not s]
    other_y = [b for b, s in zip(y, significant, strict=True) if not s]
    if other_x:
        plt.scatter(other_x, other_y, color="gray", label="q >= 0.05")
    if sig_x:
        plt.scatter(sig_x, sig_y, color="red", label="q < 0.05")
    if len(rows) <= 30:
        for xi, yi, name in zip(x, y, rows["biomarker"], strict=True):
            plt.text(name, xi, yi)
    plt.hline(-math.log10(0.05), "gray")
    plt.vline(0, "gray")
    plt.xlabel(xlabel)
    plt.ylabel(ylabel)
    widget.refresh()


HEATMAP_MAX_BIOMARKERS = 40
SCALE_STEPS = (-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0)


def heatmap_biomarkers(
    corr: pl.DataFrame, names: list[str], limit: int = HEATMAP_MAX_BIOMARKERS
) -> list[str]:
    """``names`` if they fit, else the ``limit`` biomarkers with the largest |rho| to any
    other (in their original order)."""
    if len(names) <= limit:
        return names
    strength = (
        pl.concat(
            [
                corr.select(pl.col("biomarker_x").alias("b"), "spearman_rho"),
                corr.select(pl.col("biomarker_y").alias("b"), "spearman_rho"),
            ]
        )
        .group_by("b")
        .agg(pl.col("spearman_rho").abs().max().alias("top"))
        .sort(["top", "b"], descending=[True, False], nulls_last=True)
    )
    chosen = set(strength["b"].head(limit).to_list())
    return [n for n in names if n in chosen]


def heatmap_text(
    corr: pl.DataFrame,
    names: list[str],
    title: str,
    *,
    width: int = 60,
    total: int | None = None,
) -> Text:
    """Spearman rho matrix of changes as coloured cells with their values.

    Rows are numbered and named; column ``j`` is the biomarker of row ``j`` (numbers, not
    cut names, so two names sharing a prefix cannot be confused). Cells are blue (rho = -1)
    through white (0) to red (+1), as the colour scale below the matrix shows; a missing
    rho is ``·``. ``total``: the number of biomarkers of the arm when ``names`` holds only
    the strongest (the text says so).
    """
    out = Text()
    out.append(title + "\n", style="bold")
    if not names:
        out.append("no correlations")
        return out
    n = len(names)
    index = {name: i for i, name in enumerate(names)}
    matrix: list[list[float | None]] = [[None] * n for _ in range(n)]
    for i in range(n):
        matrix[i][i] = 1.0
    for bx, by, rho in corr.select("biomarker_x", "biomarker_y", "spearman_rho").iter_rows():
        if bx in index and by in index:
            matrix[index[bx]][index[by]] = matrix[index[by]][index[bx]] = rho
    number_width = len(str(n))
    name_width = max(4, min(14, max(len(name) for name in names)))
    label_width = number_width + 1 + name_width + 1
    cell = max(2, min(5, (width - label_width) // n))
    show_values = cell >= 4
    out.append(" " * label_width)
    for j in range(n):
        out.append(str(j + 1).rjust(cell - 1) + " ", style="bold")
    out.append("\n")
    for i, name in enumerate(names):
        label = f"{str(i + 1).rjust(number_width)} {_cut(name, name_width):<{name_width}} "
        out.append(label, style="bold")
        for j in range(n):
            rho = matrix[i][j]
            out.append(_cell_text(rho, cell, show_values), style=_cell_style(rho))
        out.append("\n")
    out.append("\n")
    out.append("scale ")
    for step in SCALE_STEPS:
        out.append(f"{step:+.2f}"[:5].center(6), style=_cell_style(step))
    out.append("\n")
    if total is not None and total > n:
        out.append(
            f"the {n} of {total} biomarkers with the largest |rho|; the pairs table holds "
            "every pair",
            style="italic",
        )
    return out


def _cell_text(rho: float | None, cell: int, show_values: bool) -> str:
    if rho is None or math.isnan(rho):
        return "·".center(cell)
    if not show_values:
        return " " * cell
    text = "1.0" if rho >= 1 else ("-1.0" if rho <= -1 else f"{rho:+.2f}".replace("0.", "."))
    return text.rjust(cell - 1) + " "


def _cell_style(rho: float | None) -> Style:
    if rho is None or math.isnan(rho):
        return Style()
    r, g, b = _diverging(rho)
    dark = abs(rho) > 0.6
    return Style(bgcolor=Color.from_rgb(r, g, b), color="white" if dark else "black")


def _cut(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def draw_scatter(
    widget: PlotextPlot,
    fc: pl.DataFrame,
    x_name: str,
    y_name: str,
    arms: list[str],
    title: str,
) -> None:
    """log2FC of one biomarker against another's, one point per patient, by arm."""
    wide = fc.filter(pl.col("biomarker").is_in([x_name, y_name])).pivot(
        on="biomarker", index=["patient_id", "arm"], values="log2fc"
    )
    if x_name not in wide.columns or y_name not in wide.columns:
        return _empty(widget, title, "no pairs")
    wide = wide.drop_nulls([x_name, y_name])
    if wide.is_empty():
        return _empty(widget, title, "no patients with both changes")
    _reset(widget, title)
    plt = widget.plt
    for arm in [a for a in arms if a in set(wide["arm"])]:
        part = wide.filter(pl.col("arm") == arm)
        plt.scatter(
            part[x_name].to_list(),
            part[y_name].to_list(),
            color=arm_color(arms, arm),
            label=_short(arm),
        )
    plt.xlabel(f"log2 FC {x_name}")
    plt.ylabel(f"log2 FC {y_name}")
    widget.refresh()


def draw_patient(widget: PlotextPlot, changes: pl.DataFrame, title: str) -> None:
    """One patient's log2FC per biomarker as horizontal bars."""
    if changes.is_empty():
        return _empty(widget, title, "no paired biomarkers")
    _reset(widget, title)
    plt = widget.plt
    names = changes["biomarker"].to_list()
    values = changes["log2fc"].to_list()
    positions = list(range(1, len(names) + 1))
    for sign, color in ((1, "green"), (-1, "red")):
        chosen = [(p, v) for p, v in zip(positions, values, strict=True) if v * sign >= 0]
        if chosen:
            plt.bar(
                [p for p, _ in chosen],
                [v for _, v in chosen],
                orientation="horizontal",
                color=color,
                width=0.4,
            )
    plt.yticks(positions, names)
    plt.xlabel("log2 FC")
    widget.refresh()


def _diverging(rho: float) -> tuple[int, int, int]:
    """Blue (rho = -1) through white (0) to red (+1)."""
    fade = int(255 * (1 - min(1.0, abs(rho))))
    return (255, fade, fade) if rho >= 0 else (fade, fade, 255)


def _short(arm: str, width: int = 18) -> str:
    return arm if len(arm) <= width else arm[: width - 1] + "…"
