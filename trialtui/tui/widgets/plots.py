"""Plots drawn through a PlotextPlot widget's ``plt`` (never plotext's global state)."""

from __future__ import annotations

import math

import polars as pl
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


def draw_volcano(widget: PlotextPlot, comparison: pl.DataFrame, title: str) -> None:
    """Effect (log2 ratio of geometric mean FCs) against -log10 q for every biomarker."""
    rows = comparison.filter(pl.col("gmfc_ratio").is_not_null() & pl.col("q_welch").is_not_null())
    if rows.is_empty():
        return _empty(widget, title, "no between-arm tests")
    _reset(widget, title)
    plt = widget.plt
    x = [math.log2(v) for v in rows["gmfc_ratio"]]
    y = [-math.log10(max(q, 1e-300)) for q in rows["q_welch"]]
    significant = [q < 0.05 for q in rows["q_welch"]]
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
    plt.xlabel("log2 ratio of geometric mean FC")
    plt.ylabel("-log10 q (Welch)")
    widget.refresh()


def draw_heatmap(widget: PlotextPlot, corr: pl.DataFrame, names: list[str], title: str) -> None:
    """Spearman rho matrix of changes (diagonal 1)."""
    if not names:
        return _empty(widget, title, "no correlations")
    _reset(widget, title)
    plt = widget.plt
    index = {n: i for i, n in enumerate(names)}
    matrix = [[1.0 if i == j else 0.0 for j in range(len(names))] for i in range(len(names))]
    for bx, by, rho in corr.select("biomarker_x", "biomarker_y", "spearman_rho").iter_rows():
        if bx in index and by in index and rho is not None:
            matrix[index[bx]][index[by]] = matrix[index[by]][index[bx]] = rho
    plt.matrix_plot([[_diverging(v) for v in row] for row in matrix])
    plt.xticks(list(range(1, len(names) + 1)), [n[:6] for n in names])
    plt.yticks(list(range(1, len(names) + 1)), [n[:6] for n in names])
    widget.refresh()


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
