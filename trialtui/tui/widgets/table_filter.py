"""Filter text for tables: plain text to search, or conditions such as ``q < 0.05``.

Pure Polars (no Textual), so the parsing is tested on its own.
"""

from __future__ import annotations

import re

import polars as pl

OPERATORS = ("<=", ">=", "!=", "==", "=", "<", ">", "~")
_CONDITION = re.compile(
    r"^\s*(?P<column>[^<>=!~]+?)\s*(?P<op><=|>=|!=|==|=|<|>|~)\s*(?P<value>.*?)\s*$"
)
_SEPARATOR = re.compile(r"\s+and\s+|\s*&\s*|\s*,\s*|\s*;\s*", re.IGNORECASE)


class FilterError(ValueError):
    """Filter text that cannot be understood; the message says why, in one line."""


def parse_filter(
    text: str,
    schema: pl.Schema,
    aliases: dict[str, str] | None = None,
    codes: dict[str, str] | None = None,
) -> pl.Expr | None:
    """A Polars expression for filter ``text`` over a frame with ``schema``.

    Parameters
    ----------
    text
        Conditions joined by ``and``, ``&`` or ``,``. A condition is ``column op value``
        with ``op`` one of ``< <= > >= = == != ~`` (``~``: contains, case-insensitive);
        text without an operator keeps rows where any text column contains it.
    schema
        The frame's schema: numeric columns compare as numbers, text columns as text
        (``=`` ignores case).
    aliases
        Lower-case names users may type (header labels, short names) -> column name.
    codes
        Arm name -> short code: ``arm = D+P`` matches the arm whose code is ``D+P``.

    Returns
    -------
    pl.Expr or None
        None for empty text.

    Examples
    --------
    >>> frame = pl.DataFrame({"biomarker": ["CD8", "FAP"], "q": [0.01, 0.2]})
    >>> frame.filter(parse_filter("q < 0.05", frame.schema))["biomarker"].to_list()
    ['CD8']
    """
    text = text.strip()
    if not text:
        return None
    lookup = {name.lower(): name for name in schema}
    lookup.update({k.lower(): v for k, v in (aliases or {}).items() if v in schema})
    parts = [p for p in _SEPARATOR.split(text) if p.strip()]
    conditions = [p for p in parts if _CONDITION.match(p)]
    if not conditions:
        return _search(text, schema)
    if len(conditions) < len(parts):
        bad = next(p for p in parts if not _CONDITION.match(p))
        raise FilterError(f"'{bad}' is not a condition like 'q < 0.05'")
    expr: pl.Expr | None = None
    for part in conditions:
        one = _condition(part, schema, lookup, codes or {})
        expr = one if expr is None else expr & one
    return expr


def _search(text: str, schema: pl.Schema) -> pl.Expr:
    needle = text.lower()
    columns = [name for name, dtype in schema.items() if dtype == pl.String]
    if not columns:
        raise FilterError("no text columns to search: use a condition like 'n >= 10'")
    hits = [pl.col(c).str.to_lowercase().str.contains(needle, literal=True) for c in columns]
    return pl.any_horizontal(hits).fill_null(False)


def _condition(
    part: str, schema: pl.Schema, lookup: dict[str, str], codes: dict[str, str]
) -> pl.Expr:
    match = _CONDITION.match(part)
    assert match is not None
    typed, op, raw = match["column"].strip(), match["op"], match["value"].strip()
    column = lookup.get(typed.lower())
    if column is None:
        known = ", ".join(sorted(lookup)[:12])
        raise FilterError(f"no column '{typed}' (try: {known})")
    if raw == "":
        raise FilterError(f"'{part.strip()}': a value is missing after '{op}'")
    value = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" else raw
    dtype = schema[column]
    col = pl.col(column)
    if dtype.is_numeric():
        try:
            number = float(value)
        except ValueError:
            raise FilterError(f"'{part.strip()}': '{value}' is not a number") from None
        if op == "~":
            raise FilterError(f"'{part.strip()}': '~' (contains) is for text columns")
        return _compare(col, op, number).fill_null(False)
    if dtype == pl.Boolean:
        truth = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if value.lower() not in truth or op not in ("=", "==", "!="):
            raise FilterError(f"'{part.strip()}': use {typed} = true or {typed} = false")
        return _compare(col, op, truth[value.lower()]).fill_null(False)
    text = col.cast(pl.String).str.to_lowercase()
    wanted = value.lower()
    if op == "~":
        return text.str.contains(wanted, literal=True).fill_null(False)
    if op in ("=", "==", "!="):
        names = [name for name, code in codes.items() if code.lower() == wanted]
        same = text.is_in([wanted, *(n.lower() for n in names)]).fill_null(False)
        return ~same if op == "!=" else same
    return _compare(text, op, wanted).fill_null(False)


def _compare(col: pl.Expr, op: str, value: object) -> pl.Expr:
    if op == "<":
        return col < value
    if op == "<=":
        return col <= value
    if op == ">":
        return col > value
    if op == ">=":
        return col >= value
    if op == "!=":
        return col != value
    return col == value
