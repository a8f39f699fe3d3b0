"""Multiple-testing adjustment matching R's ``p.adjust``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

METHODS = ("bh", "holm")


def p_adjust(p: Sequence[float | None] | np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjusted p-values (q-values) as R's ``p.adjust(p, method)``.

    Parameters
    ----------
    p
        p-values; NaN/None are kept as NaN and do not count towards the number of tests
        (R's behaviour with ``NA``).
    method
        ``"bh"`` (Benjamini-Hochberg, R's ``"BH"``/``"fdr"``) or ``"holm"``.

    Returns
    -------
    numpy.ndarray
        Adjusted values, capped at 1, in the input order.

    Notes
    -----
    BH: q_(i) = min_{j >= i} min(1, m p_(j) / j) over the sorted p-values.
    Holm: q_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). JRSS B 57, 289-300.
    Holm, S. (1979). Scand. J. Statist. 6, 65-70.

    Examples
    --------
    >>> p_adjust([0.01, 0.04, 0.03, 0.2], "bh").round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if isinstance(p, np.ndarray) and p.dtype.kind in "fiu":  # no None to look for
        values = p.astype(float)
    else:
        values = np.array([np.nan if v is None else v for v in p], dtype=float)
    out = np.full(values.shape, np.nan)
    present = ~np.isnan(values)
    pv = values[present]
    m = len(pv)
    if m == 0:
        return out
    if method == "bh":
        order = np.argsort(-pv, kind="stable")
        ranks = np.arange(m, 0, -1)
        adjusted = np.minimum.accumulate(m / ranks * pv[order])
    else:
        order = np.argsort(pv, kind="stable")
        ranks = np.arange(1, m + 1)
        adjusted = np.maximum.accumulate((m - ranks + 1) * pv[order])
    result = np.empty(m)
    result[order] = np.minimum(1.0, adjusted)
    out[present] = result
    return out


def adjust_within(
    frame: pl.DataFrame, p_column: str, q_column: str, by: list[str], method: str
) -> pl.DataFrame:
    """Add ``q_column``: ``p_column`` adjusted within each group of ``by``."""
    return frame.with_columns(
        pl.col(p_column)
        .map_batches(
            lambda s: pl.Series(p_adjust(s.to_numpy(), method), dtype=pl.Float64),
            return_dtype=pl.Float64,
        )
        .over(by)
        .fill_nan(None)
        .alias(q_column)
    )
