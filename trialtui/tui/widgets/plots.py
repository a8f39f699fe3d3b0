"""Plots drawn through a PlotextPlot widget's ``plt`` (never plotext's global state).

Every plot has a title with n, axis labels in real units and a legend. Arms are named by
their short codes (see :func:`trialtui.formatting.arm_codes`) so legends stay readable.
Heavy preparation (summaries of thousands of patients) lives in ``*_series`` functions
that run in thread workers; the ``draw_*`` functions only hand prepared numbers to plotext.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual_plotext import PlotextPlot

from trialtui.formatting import P_VALUE_FLOOR, format_count, format_p

ARM_COLORS = ("cyan", "orange", "magenta", "green", "red", "blue")
MAX_LINES = 200  # beyond this many patients a slope plot shows medians, a band and a sample
SAMPLE_LINES = 40
VOLCANO_LABELS = 5
POINT = "●"


def arm_color(arms: list[str], arm: str) -> str:
    return ARM_COLORS[arms.index(arm) % len(ARM_COLORS)] if arm in arms else "white"


def _reset(widget: PlotextPlot, title: str) -> None:
    plt = widget.plt
    plt.clear_figure()
    plt.title(title)


def _empty(widget: PlotextPlot, title: str, why: str) -> None:
    """A plot with nothing to draw says why, in its middle (plotext hides an empty title)."""
    _reset(widget, f"{title}: {why}")
    plt = widget.plt
    plt.xlim(0, 1)
    plt.ylim(0, 1)
    plt.xticks([], [])
    plt.yticks([], [])
    plt.text(why, 0.5, 0.5, alignment="center")
    widget.refresh()


def draw_message(widget: PlotextPlot, title: str, why: str) -> None:
    """An empty plot that says why it is empty."""
    _empty(widget, title, why)


def _code(arm: str, codes: dict[str, str] | None) -> str:
    return (codes or {}).get(arm, _short(arm))


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick positions (steps of 1, 2 or 5 x 10^k) covering ``low``..``high``.

    Examples
    --------
    >>> nice_ticks(-4.3, 0.8)
    [-4.0, -2.0, 0.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10) + 0.0)
        value += step
    return ticks


def _tick_label(value: float) -> str:
    return f"{value:g}"


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Positions (log10) and labels (real values 1, 2, 5, 10, ...) for a log axis."""
    if low <= 0 or high <= 0:
        return [], []
    lo, hi = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if hi - lo <= 3 else (1,)
    positions, labels = [], []
    for exponent in range(lo, hi + 1):
        for mantissa in steps:
            value = mantissa * 10.0**exponent
            if low / 1.01 <= value <= high * 1.01:
                positions.append(math.log10(value))
                labels.append(f"{value:g}")
    if len(positions) < 2:
        positions = [math.log10(low), math.log10(high)]
        labels = [f"{low:.3g}", f"{high:.3g}"]
    return positions, labels


def _jitter(k: int, spread: float = 0.3) -> float:
    """Deterministic, evenly spread offsets in -spread/2..spread/2 (golden ratio)."""
    return ((k * 0.6180339887) % 1 - 0.5) * spread


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# ---------------------------------------------------------------------- strip / box


def draw_strip(
    widget: PlotextPlot,
    fc: pl.DataFrame,
    arms: list[str],
    title: str,
    codes: dict[str, str] | None = None,
) -> None:
    """Jittered points of log2FC per arm over a thin box (quartiles, whiskers to the range)."""
    if fc.is_empty():
        return _empty(widget, title, "no pairs")
    present = [a for a in arms if a in set(fc["arm"])]
    data = [fc.filter(pl.col("arm") == a)["log2fc"].drop_nulls().to_list() for a in present]
    _reset(widget, f"{title} · n = {format_count(sum(len(d) for d in data))}")
    plt = widget.plt
    for i, (arm, values) in enumerate(zip(present, data, strict=True), start=1):
        if not values:
            continue
        q1, med, q3 = (_quantile(values, q) for q in (0.25, 0.5, 0.75))
        low, high = min(values), max(values)
        half = 0.18
        for x0, x1, y0, y1 in (
            (i - half, i + half, q1, q1),
            (i - half, i + half, q3, q3),
            (i - half, i - half, q1, q3),
            (i + half, i + half, q1, q3),
            (i, i, low, q1),
            (i, i, q3, high),
        ):
            plt.plot([x0, x1], [y0, y1], color="gray", marker="braille")
        plt.plot([i - half, i + half], [med, med], color="white", marker="braille")
        xs = [i + _jitter(k) for k in range(len(values))]
        label = f"{_code(arm, codes)} (n = {len(values)})"
        plt.scatter(xs, values, color=arm_color(arms, arm), marker=POINT, label=label)
    plt.hline(0, "gray")
    plt.xlim(0.4, len(present) + 0.6 + (0.6 if len(present) == 1 else 0))
    plt.xticks(list(range(1, len(present) + 1)), [_code(a, codes) for a in present])
    _room_for_legend(plt, [v for d in data for v in d])
    plt.xlabel("arm (box: quartiles, whiskers: range)")
    plt.ylabel("log2 FC (post / pre)")
    widget.refresh()


def _room_for_legend(plt, values: list[float], share: float = 0.3) -> None:
    """Leave empty space at the top for plotext's legend (drawn at the top left)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return
    low, high = min(*finite, 0.0), max(*finite, 0.0)
    span = (high - low) or 1.0
    top = high + share * span
    plt.ylim(low - 0.05 * span, top)
    ticks = nice_ticks(low, high)
    plt.yticks(ticks, [_tick_label(t) for t in ticks])


# ---------------------------------------------------------------------- slope


@dataclass
class SlopeSeries:
    """What a slope plot draws, prepared away from the UI thread."""

    arms: list[str]
    lines: list[tuple[str, float, float]] = field(default_factory=list)  # arm, pre, post
    summaries: dict[str, tuple[float, ...]] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)
    summarised: bool = False
    low: float = 1.0
    high: float = 10.0


def slope_series(fc: pl.DataFrame, arms: list[str], limit: int = MAX_LINES) -> SlopeSeries:
    """Per-patient pre/post pairs, or beyond ``limit`` patients per arm: medians, quartiles
    and an evenly spaced sample of lines (sorted by log2FC so the sample spans the range).
    """
    positive = fc.filter((pl.col("pre") > 0) & (pl.col("post") > 0))
    series = SlopeSeries(arms=[a for a in arms if a in set(positive["arm"])])
    if positive.is_empty():
        return series
    series.low = float(min(positive["pre"].min(), positive["post"].min()))  # type: ignore[type-var]
    series.high = float(max(positive["pre"].max(), positive["post"].max()))  # type: ignore[type-var]
    for arm in series.arms:
        part = positive.filter(pl.col("arm") == arm).sort("log2fc")
        series.n[arm] = part.height
        if part.height > limit:
            series.summarised = True
            step = part.height / SAMPLE_LINES
            sample = part[[int(k * step) for k in range(SAMPLE_LINES)]]
            stats = part.select(
                *(
                    pl.col(c).log10().quantile(q, "linear").alias(f"{c}{q}")
                    for c in ("pre", "post")
                    for q in (0.25, 0.5, 0.75)
                )
            ).row(0)
            series.summaries[arm] = tuple(10**v for v in stats)
        else:
            sample = part
        series.lines += [(arm, pre, post) for pre, post in sample.select("pre", "post").iter_rows()]
    return series


def draw_slope(
    widget: PlotextPlot,
    series: SlopeSeries,
    all_arms: list[str],
    title: str,
    unit: str = "",
    codes: dict[str, str] | None = None,
) -> None:
    """Pre -> post per patient, one panel position per arm, on a log axis in real units."""
    if not series.arms:
        return _empty(widget, title, "no pairs with positive values")
    total = sum(series.n.values())
    note = (
        f" · median and quartile band, {SAMPLE_LINES} patients per arm drawn"
        if (series.summarised)
        else ""
    )
    _reset(widget, f"{title} · n = {format_count(total)}{note}")
    plt = widget.plt
    positions = {arm: 3 * i for i, arm in enumerate(series.arms)}
    labelled: set[str] = set()
    for arm, pre, post in series.lines:
        x = positions[arm]
        label = None
        if arm not in labelled and not series.summarised:
            label = f"{_code(arm, codes)} (n = {series.n[arm]})"
            labelled.add(arm)
        plt.plot(
            [x + 1, x + 2],
            [math.log10(pre), math.log10(post)],
            color="gray" if series.summarised else arm_color(all_arms, arm),
            marker="braille",
            label=label,
        )
    for arm, (pre_q1, pre_med, pre_q3, post_q1, post_med, post_q3) in series.summaries.items():
        x = positions[arm]
        color = arm_color(all_arms, arm)
        for lo, hi in ((pre_q1, post_q1), (pre_q3, post_q3)):
            plt.plot([x + 1, x + 2], [math.log10(lo), math.log10(hi)], color=color, marker="·")
        plt.plot(
            [x + 1, x + 2],
            [math.log10(pre_med), math.log10(post_med)],
            color=color,
            marker="█",
            label=f"{_code(arm, codes)} median (n = {series.n[arm]})",
        )
    ticks, labels = log_ticks(series.low, series.high)
    span = math.log10(series.high) - math.log10(series.low) or 1.0
    plt.ylim(math.log10(series.low) - 0.05 * span, math.log10(series.high) + 0.35 * span)
    plt.yticks(ticks, labels)
    xt = [p + k for p in positions.values() for k in (1, 2)]
    xl = [f"{_code(a, codes)} {w}" for a in series.arms for w in ("pre", "post")]
    plt.xticks(xt, xl)
    plt.xlim(0.5, 3 * len(series.arms) - 0.5)
    plt.xlabel("biopsy")
    plt.ylabel(f"value ({unit}, log scale)" if unit else "value (log scale)")
    widget.refresh()


# ---------------------------------------------------------------------- waterfall


def draw_waterfall(
    widget: PlotextPlot,
    fc: pl.DataFrame,
    arms: list[str],
    title: str,
    codes: dict[str, str] | None = None,
) -> None:
    """Per-patient log2FC sorted from highest to lowest, coloured by arm, with a zero line."""
    ordered = fc.drop_nulls("log2fc").sort("log2fc", descending=True)
    if ordered.is_empty():
        return _empty(widget, title, "no pairs")
    _reset(widget, f"{title} · n = {format_count(ordered.height)}")
    plt = widget.plt
    arm_of = ordered["arm"].to_list()
    for arm in [a for a in arms if a in set(arm_of)]:
        idx = [i + 1 for i, a in enumerate(arm_of) if a == arm]
        vals = ordered.filter(pl.col("arm") == arm)["log2fc"].to_list()
        label = f"{_code(arm, codes)} (n = {len(vals)})"
        if ordered.height <= 300:
            plt.bar(idx, vals, color=arm_color(arms, arm), label=label, width=0.8)
        else:  # thousands of bars: one point per patient reads the same and draws fast
            plt.scatter(idx, vals, color=arm_color(arms, arm), label=label, marker="braille")
    n = ordered.height
    plt.xticks(sorted({1, (n + 1) // 2, n}))  # fixed ticks: plotext's own vary run to run
    plt.hline(0, "white")
    _room_for_legend(plt, ordered["log2fc"].to_list())
    plt.xlabel("patients, highest to lowest")
    plt.ylabel("log2 FC (post / pre)")
    widget.refresh()


# ---------------------------------------------------------------------- trajectory


def draw_trajectory(
    widget: PlotextPlot,
    changes: pl.DataFrame,
    arms: list[str],
    title: str,
    codes: dict[str, str] | None = None,
) -> None:
    """log2 change from baseline over visit days: one thin line per patient, arm medians bold.

    ``changes`` has ``patient_id``, ``arm``, ``day`` and ``log2_change`` (baseline rows 0).
    """
    if changes.is_empty() or changes["day"].n_unique() < 2:
        return _empty(widget, title, "fewer than two timepoints with values")
    patients = changes["patient_id"].n_unique()
    summarise = patients > MAX_LINES
    note = " · arm medians only" if summarise else " · grey: each patient"
    _reset(widget, f"{title} · n = {format_count(patients)} patients{note}")
    plt = widget.plt
    for _key, part in changes.sort("day").group_by(["patient_id", "arm"], maintain_order=True):
        if summarise:
            break
        plt.plot(
            part["day"].to_list(),
            part["log2_change"].to_list(),
            color="gray",
            marker="braille",
        )
    for arm in [a for a in arms if a in set(changes["arm"])]:
        medians = (
            changes.filter(pl.col("arm") == arm)
            .group_by("day")
            .agg(pl.col("log2_change").median(), pl.len().alias("n"))
            .sort("day")
        )
        plt.plot(
            medians["day"].to_list(),
            medians["log2_change"].to_list(),
            color=arm_color(arms, arm),
            marker="█",
            label=f"{_code(arm, codes)} median",
        )
    plt.hline(0, "white")
    days = sorted(set(changes["day"].to_list()))
    plt.xticks(days, [f"{d:g}" for d in days])
    _room_for_legend(plt, changes["log2_change"].to_list())
    plt.xlabel("visit day")
    plt.ylabel("log2 change from baseline")
    widget.refresh()


# ---------------------------------------------------------------------- volcano


def draw_volcano(
    widget: PlotextPlot,
    comparison: pl.DataFrame,
    title: str,
    *,
    highlight: str | None = None,
    labels: int = VOLCANO_LABELS,
    estimate: str = "gmfc_ratio",
    q: str = "q_welch",
    p: str = "p_welch",
    log_scale: bool = True,
    xlabel: str = "log2 ratio of geometric mean FC (arm / reference)",
    ylabel: str = "-log10 q (Welch)",
) -> None:
    """log2 ratio of geometric mean FCs against -log10 q (Welch), one point per biomarker.

    Another effect: ``estimate`` (a ratio when ``log_scale``, drawn as log2, else drawn
    as it is) with its test's ``q`` and ``p`` columns and the axis labels. A single-arm
    study passes its within-arm geometric mean FC with the Wilcoxon signed-rank p and q.

    Significant points (q < 0.05) are red; the ``labels`` smallest q are named beside their
    point (never on it, never over another label); q values that underflow to 0 are drawn
    as triangles at the top with their own legend entry; ``highlight`` is circled in yellow.
    """
    rows = comparison.filter(pl.col(estimate).is_not_null() & pl.col(q).is_not_null())
    if rows.is_empty():
        return _empty(widget, title, "no between-arm tests")
    rows = rows.with_columns(
        (pl.col(estimate).log(2) if log_scale else pl.col(estimate)).alias("_x"),
        (-pl.col(q).clip(lower_bound=1e-308).log10()).alias("_y"),
        pl.col(q).alias("_q"),
        pl.col(p).alias("_p"),
    )
    finite_top = rows.filter(pl.col("_q") > 0)["_y"].max()
    cap = (float(finite_top) if finite_top is not None else 10.0) * 1.15 + 1  # type: ignore[arg-type]
    rows = rows.with_columns(
        pl.when(pl.col("_q") == 0).then(cap).otherwise(pl.col("_y")).alias("_y")
    )
    n_sig = rows.filter(pl.col("_q") < 0.05).height
    _reset(widget, f"{title} · n = {rows.height} biomarkers, {n_sig} with q < 0.05")
    plt = widget.plt
    groups = (
        ("q ≥ 0.05", (pl.col("_q") >= 0.05), "gray", POINT),
        ("q < 0.05", (pl.col("_q") < 0.05) & (pl.col("_q") > 0), "red", POINT),
        (f"q {P_VALUE_FLOOR} (capped)", pl.col("_q") == 0, "red", "▲"),
    )
    for label, condition, color, marker in groups:
        part = rows.filter(condition)
        if part.height:
            plt.scatter(
                part["_x"].to_list(),
                part["_y"].to_list(),
                color=color,
                marker=marker,
                label=f"{label} ({part.height})",
            )
    x_all, y_all = rows["_x"].to_list(), rows["_y"].to_list()
    x_span = (max(x_all) - min(x_all)) or 1.0
    # room on the left and at the top: plotext draws the legend in the top left corner
    x_low, x_high = min(*x_all, 0.0) - 0.3 * x_span, max(*x_all, 0.0) + 0.3 * x_span
    # the legend (up to four lines) sits at the top: keep the points below it
    plot_rows = max(8, (widget.size.height or 24) - 6)
    y_high = max(y_all) * plot_rows / (plot_rows - 5) + 0.5
    plt.xlim(x_low, x_high)
    plt.ylim(0, y_high)
    y_ticks = nice_ticks(0, max(y_all), 4)
    x_ticks = nice_ticks(x_low, x_high, 6)
    plt.yticks(y_ticks, [_tick_label(t) for t in y_ticks])
    plt.xticks(x_ticks, [_tick_label(t) for t in x_ticks])
    plt.hline(-math.log10(0.05), "gray")
    plt.vline(0, "gray")
    _label_points(widget, rows, labels, (x_low, x_high), (0, y_high), highlight)
    plt.xlabel(xlabel)
    plt.ylabel(ylabel)
    widget.refresh()


def _label_points(
    widget: PlotextPlot,
    rows: pl.DataFrame,
    count: int,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    highlight: str | None,
) -> None:
    """Name the most significant points to the right of each, skipping collisions."""
    plt = widget.plt
    width = max(20, (widget.size.width or 100) - 12)
    height = max(6, (widget.size.height or 24) - 6)

    def cell(x: float, y: float) -> tuple[int, int]:
        col = (x - x_range[0]) / (x_range[1] - x_range[0]) * width
        row = (y - y_range[0]) / (y_range[1] - y_range[0]) * height
        return round(col), round(row)

    # row, first col, last col; the legend (top left, up to four entries) is taken
    taken: list[tuple[int, int, int]] = [(height - k, 0, 22) for k in range(5)]
    points = {cell(x, y) for x, y in rows.select("_x", "_y").iter_rows()}
    chosen = rows.sort("_q", "_p").head(count)
    if highlight is not None:
        marked = rows.filter(pl.col("biomarker") == highlight)
        if marked.height:
            x, y = marked["_x"][0], marked["_y"][0]
            plt.scatter([x], [y], color="yellow", marker="◉", label=f"{highlight} (cursor)")
            chosen = pl.concat([marked, chosen.filter(pl.col("biomarker") != highlight)])
    for name, x, y in chosen.select("biomarker", "_x", "_y").iter_rows():
        col, row = cell(x, y)
        text = f" {name}"
        span = (row, col + 1, col + len(text))
        clash = any(r == row and not (b < span[1] or a > span[2]) for r, a, b in taken)
        clash = clash or any(r == row and span[1] <= c <= span[2] for c, r in points)
        if clash or span[2] > width + 2:
            continue
        taken.append(span)
        step = (x_range[1] - x_range[0]) / width
        plt.text(
            text, x + step, y, color="yellow" if name == highlight else "white", alignment="left"
        )


# ---------------------------------------------------------------------- correlation scatter


def draw_scatter(
    widget: PlotextPlot,
    fc: pl.DataFrame,
    x_name: str,
    y_name: str,
    arms: list[str],
    title: str,
    *,
    rho: float | None = None,
    q: float | None = None,
    codes: dict[str, str] | None = None,
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
    stats = [f"n = {wide.height}"]
    if rho is not None:
        stats.insert(0, f"rho = {rho:.2f}")
    if q is not None:
        stats.insert(1, f"q = {format_p(q)}")
    _reset(widget, f"{title} · {', '.join(stats)}")
    plt = widget.plt
    for arm in [a for a in arms if a in set(wide["arm"])]:
        part = wide.filter(pl.col("arm") == arm)
        plt.scatter(
            part[x_name].to_list(),
            part[y_name].to_list(),
            color=arm_color(arms, arm),
            marker=POINT,
            label=f"{_code(arm, codes)} (n = {part.height})",
        )
    plt.hline(0, "gray")
    plt.vline(0, "gray")
    _room_for_legend(plt, wide[y_name].to_list(), share=0.35)
    plt.xlabel(f"log2 FC {x_name}")
    plt.ylabel(f"log2 FC {y_name}")
    widget.refresh()


# ---------------------------------------------------------------------- patient bars


def draw_patient(widget: PlotextPlot, changes: pl.DataFrame, title: str) -> None:
    """One patient's log2FC per biomarker as horizontal bars, every bar named, zero line.

    When there are more biomarkers than rows, the largest changes (by |log2FC|) are drawn.
    """
    changes = changes.drop_nulls("log2fc")
    if changes.is_empty():
        return _empty(widget, title, "no paired biomarkers")
    rows_available = max(3, widget.size.height - 5) if widget.size.height else 30
    total = changes.height
    if total > rows_available:
        changes = changes.sort(pl.col("log2fc").abs(), descending=True).head(rows_available)
        title = f"{title} · largest {changes.height} of {total} by |log2FC|"
    else:
        title = f"{title} · n = {total} biomarkers"
    changes = changes.sort("log2fc")
    _reset(widget, title)
    plt = widget.plt
    names = changes["biomarker"].to_list()
    values = changes["log2fc"].to_list()
    positions = list(range(1, len(names) + 1))
    for sign, color in ((1, "green"), (-1, "red")):
        chosen = [(p, v) for p, v in zip(positions, values, strict=True) if v * sign > 0]
        if chosen:
            plt.bar(
                [p for p, _ in chosen],
                [v for _, v in chosen],
                orientation="horizontal",
                color=color,
                width=0.6,
            )
    plt.vline(0, "white")
    plt.yticks(positions, names)
    plt.ylim(0.4, len(names) + 0.6)
    low, high = min(*values, 0.0), max(*values, 0.0)
    ticks = nice_ticks(low, high, 4)
    plt.xticks(ticks, [_tick_label(t) for t in ticks])
    plt.xlabel("log2 FC (post / pre): green increase, red decrease")
    widget.refresh()


# ---------------------------------------------------------------------- heatmap


HEATMAP_MAX_BIOMARKERS = 40
SCALE_STEPS = (-1.0, -0.5, 0.0, 0.5, 1.0)


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


def _name_width(names: list[str]) -> int:
    return max(4, min(14, max((len(name) for name in names), default=4)))


def _layout(n: int, name_width: int, width: int) -> tuple[int, int, int]:
    """Width of the row labels, of a cell, and the lines of column numbers, for ``n``
    biomarkers in ``width`` columns: cells 2 to 5 wide, a number written down its column
    (a digit per line) when it does not fit its cell with a space after it."""
    digits = len(str(n))
    label_width = digits + 1 + name_width + 1
    cell = max(2, min(5, (width - label_width) // n))
    return label_width, cell, 1 if digits <= cell - 1 else digits


def _lines(text: str, width: int) -> int:
    """Lines ``text`` takes at most in ``width`` columns (wrapped at words: one more than
    the characters fill, once it wraps)."""
    width = max(width, 1)
    return 1 if len(text) <= width else -(-len(text) // width) + 1


def _left_out_note(n: int, total: int) -> str:
    return f"the {n} of {total} biomarkers with the largest |rho|; the pairs table holds every pair"


def heatmap_capacity(
    names: list[str], width: int, height: int | None = None, title: str = ""
) -> int:
    """How many of ``names`` (at most :data:`HEATMAP_MAX_BIOMARKERS`) the heatmap titled
    ``title`` shows whole in ``width`` columns and, if given, ``height`` lines: cells two
    columns wide, one row per biomarker, under the title and the column numbers and above
    the scale and the note on the biomarkers left out. 0: not even two fit."""
    name_width = _name_width(names)
    scale = "scale " + "     " * len(SCALE_STEPS)
    for n in range(min(len(names), HEATMAP_MAX_BIOMARKERS), 1, -1):
        label_width, cell, numbers = _layout(n, name_width, width)
        wide_enough = label_width + cell * n <= width
        # title, column numbers, the rows, a blank line
        lines = _lines(title, width) + numbers + n + 1
        lines += _lines(scale, width)
        if n < len(names):
            lines += _lines(_left_out_note(n, len(names)), width)
        if wide_enough and (height is None or lines <= height):
            return n
    return 0


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

    Cells are as wide as ``width`` allows (2 to 5 columns; values shown in cells of 5); a column
    number wider than its cell is written down the column, a digit per line, so that
    every number stands over its own cells. ``names`` must fit ``width``
    (:func:`heatmap_capacity`): no line of the matrix is longer.
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
    name_width = _name_width(names)
    label_width, cell, header_lines = _layout(n, name_width, width)
    show_values = cell >= 5  # a value and its sign: "+.09", "-1.0"
    numbers = [str(j + 1).rjust(number_width) for j in range(n)]
    # one line of column numbers when they fit their cells, else a line per digit
    header = (
        [numbers] if header_lines == 1 else [[d[k] for d in numbers] for k in range(number_width)]
    )
    for line in header:
        out.append(" " * label_width)
        for label in line:
            out.append(label.strip().rjust(cell - 1) + " ", style="bold")
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
        out.append(f"{step:+.1f}".replace("+0.0", "0").center(5), style=_cell_style(step))
    out.append("\n")
    if total is not None and total > n:
        out.append(_left_out_note(n, total), style="italic")
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


def _diverging(rho: float) -> tuple[int, int, int]:
    """Blue (rho = -1) through white (0) to red (+1)."""
    fade = int(255 * (1 - min(1.0, abs(rho))))
    return (255, fade, fade) if rho >= 0 else (fade, fade, 255)


def _short(arm: str, width: int = 18) -> str:
    return arm if len(arm) <= width else arm[: width - 1] + "…"
