"""SQL query files: parse their documented header, bind parameters, run them read-only.

A query file is one SQL statement with a header of comment lines at the top::

    -- name: top_changers
    -- description: Patients with the largest change of one biomarker
    -- param: biomarker text - biomarker id (case-insensitive)
    -- param: n integer 10 how many patients per study
    -- param: study text null only this study
    SELECT ... WHERE lower(biomarker) = lower($biomarker) ... LIMIT $n

``-- param: NAME TYPE DEFAULT description``: TYPE is one of :data:`PARAM_TYPES`; DEFAULT is
``-`` for a required parameter, ``null`` for an optional one that binds SQL NULL, else a
value of the type (``'quoted'`` or ``"quoted"`` when it holds spaces). The SQL refers to a
parameter as ``$NAME``; DuckDB binds the value, it is never pasted into the SQL text.

Safety: :func:`open_query_connection` attaches the database read-only in a DuckDB instance
whose external access (files, URLs, extensions) is switched off and whose configuration is
locked, so DuckDB itself refuses writes, ``COPY ... TO``, ``ATTACH``, ``INSTALL``/``LOAD``,
``read_csv('/any/file')`` and ``SET``. :func:`run_query` also checks the statement type
before running it, to give a clear message; DuckDB's refusal is the safety net.

This module knows nothing of the command line or the TUI.
"""

from __future__ import annotations

import atexit
import difflib
import math
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from trialtui.errors import InputError, StoreError, UsageError
from trialtui.paths import user_queries_dir
from trialtui.resources import queries_dir
from trialtui.store.connection import _check_schema, _describe, special_database_name
from trialtui.store.derived import DERIVED_TABLE_NAMES
from trialtui.store.paged import PagedResult
from trialtui.store.sql import interruptible, plain_columns

PARAM_TYPES: tuple[str, ...] = ("text", "integer", "number", "boolean", "date")

# Statement types a query file may hold. Everything else is refused before it runs.
ALLOWED_STATEMENTS: tuple[str, ...] = ("SELECT", "EXPLAIN", "PRAGMA", "CALL")

# The alias under which the database file is attached (see open_query_connection).
DATABASE_ALIAS = "trial"

# A result of more rows is kept in DuckDB and read a page at a time where a whole frame is
# not needed (the SQL console, CSV output): a Polars frame of 10 M measurement rows takes
# over a gigabyte.
KEEP_ROWS = 200_000
# DuckDB's memory for such queries: beyond it sorts, joins and kept results spill to the
# connection's private temporary folder.
QUERY_MEMORY = "400MB"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DIRECTIVE = re.compile(r"^--\s*(name|description|param)\s*:\s*(.*?)\s*$")
_PARAM = re.compile(
    r"""^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>\S+)\s+
        (?P<default>'(?:[^']|'')*'|"[^"]*"|\S+)(?:\s+(?P<description>.*))?$""",
    re.VERBOSE,
)
# ASCII digits only: Python's \d and int() also accept other scripts' digits ('٣').
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})
_INT64 = 2**63
_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)

_TYPE_HINTS = {
    "text": "text",
    "integer": "an integer",
    "number": "a finite number",
    "boolean": "a boolean (true/false, yes/no, 1/0)",
    "date": "a date (YYYY-MM-DD)",
}
# Names of statement types as a user writes them.
_STATEMENT_WORDS = {
    "LOAD": "INSTALL/LOAD",
    "VARIABLE_SET": "SET VARIABLE",
    "COPY_DATABASE": "COPY DATABASE",
    "CREATE_FUNC": "CREATE FUNCTION",
    "MERGE_INTO": "MERGE INTO",
    "MULTI": "multi-part (e.g. PIVOT)",
    "OTHER": "UPDATE EXTENSIONS and other non-query",
}


class QueryFileError(InputError):
    """A query file cannot be read or its header is malformed (names file and line)."""


class QueryError(InputError):
    """Running a query failed; the message names the query file and, if known, the line."""


class QueryRefused(QueryError):
    """The query tried to write, to reach outside the database or to change settings."""


class QueryInterrupted(QueryError):
    """The query was stopped by ``con.interrupt()`` from another thread."""


class QueryTimeout(QueryError):
    """The query ran longer than its time limit and was stopped."""


@dataclass(frozen=True)
class QueryParam:
    """One named parameter declared in a query file's header.

    ``default`` is the converted default value; it is None both for a required parameter
    (``required`` True, declared with ``-``) and for an optional one that binds SQL NULL
    (declared with ``null``).
    """

    name: str
    type: str
    default: Any
    required: bool
    description: str = ""
    line: int = 0

    @property
    def default_text(self) -> str:
        """The default as a user would type it: ``-`` (required), ``null`` or the value."""
        if self.required:
            return "-"
        if self.default is None:
            return "null"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, float):
            return format(self.default, "g")
        return str(self.default)


@dataclass(frozen=True)
class QueryFile:
    """A parsed query file.

    ``sql`` is the whole text of the file, header comments included, so that the line
    numbers DuckDB reports are line numbers of the file. ``origin`` says where it was found:
    ``bundled``, ``user`` (the user's config folder), ``extra`` (``--queries``), ``file``
    (given by path) or ``text`` (not from a file).
    """

    name: str
    path: Path | None
    description: str
    params: tuple[QueryParam, ...]
    sql: str
    origin: str = "file"
    param_names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_names", tuple(p.name for p in self.params))

    def param(self, name: str) -> QueryParam:
        """The declared parameter ``name`` (KeyError if not declared)."""
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    @property
    def label(self) -> str:
        """How errors name the query: its name and file."""
        return f"query {self.name} ({self.path})" if self.path else f"query {self.name}"


# ----------------------------------------------------------------------------- parsing


def parse_query_file(path: str | Path, *, origin: str = "file") -> QueryFile:
    """Read and parse the query file at ``path``.

    Raises
    ------
    QueryFileError
        The file cannot be read, is not UTF-8, or its header is malformed; the message
        names the file and the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise QueryFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise QueryFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_query_text(text, path=path, origin=origin)


def parse_query_text(
    text: str, *, path: Path | None = None, name: str | None = None, origin: str = "text"
) -> QueryFile:
    """Parse a query's text (header and SQL). ``name`` is used when the header has none.

    Without a ``-- name:`` line the name is ``name``, else the file's stem, else ``query``.
    """
    where = str(path) if path is not None else "query text"
    found_name: str | None = None
    description: str | None = None
    params: list[QueryParam] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("--"):
            break  # the header ends at the first line of SQL
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        key, value = match.groups()

        def fail(problem: str, number: int = number) -> QueryFileError:
            return QueryFileError(f"{where}:{number}: {problem}")

        if key == "name":
            if found_name is not None:
                raise fail("a second '-- name:' line")
            if not _NAME.match(value):
                raise fail(f"query name '{value}' is not snake_case (a-z, 0-9, _)")
            found_name = value
        elif key == "description":
            if description is not None:
                raise fail("a second '-- description:' line (the description is one line)")
            if not value:
                raise fail("empty description")
            description = value
        else:
            param = _parse_param(value, fail)
            if any(p.name == param.name for p in params):
                raise fail(f"parameter '{param.name}' is declared twice")
            params.append(replace(param, line=number))
    fallback = name or (path.stem if path is not None else "query")
    return QueryFile(
        name=found_name or fallback,
        path=path,
        description=description or "",
        params=tuple(params),
        sql=text,
        origin=origin,
    )


def _parse_param(value: str, fail: Callable[[str], QueryFileError]) -> QueryParam:
    match = _PARAM.match(value)
    if match is None:
        raise fail(
            f"cannot read parameter line '{value}' "
            "(expected: -- param: NAME TYPE DEFAULT description)"
        )
    name, kind, default_token = match["name"], match["type"], match["default"]
    description = (match["description"] or "").strip()
    if kind not in PARAM_TYPES:
        raise fail(f"parameter '{name}': unknown type '{kind}' (types: {', '.join(PARAM_TYPES)})")
    if default_token == "-":
        return QueryParam(name, kind, None, True, description)
    if default_token.lower() == "null":
        return QueryParam(name, kind, None, False, description)
    if default_token[0] == "'" and default_token[-1] == "'" and len(default_token) >= 2:
        default_text = default_token[1:-1].replace("''", "'")
    elif default_token[0] == '"' and default_token[-1] == '"' and len(default_token) >= 2:
        default_text = default_token[1:-1]
    else:
        default_text = default_token
    try:
        default = convert_value(kind, default_text)
    except ValueError:
        raise fail(
            f"parameter '{name}': default '{default_text}' is not {_TYPE_HINTS[kind]}"
        ) from None
    return QueryParam(name, kind, default, False, description)


# ----------------------------------------------------------------------------- discovery


ErrorHandler = Callable[[QueryFileError], None]


def query_dirs(extra_dirs: Iterable[str | Path] = ()) -> list[tuple[Path, str]]:
    """The folders searched for query files, in override order, with their origin."""
    dirs = [(queries_dir(), "bundled"), (user_queries_dir(), "user")]
    dirs.extend((Path(d), "extra") for d in extra_dirs)
    return dirs


def discover_queries(
    extra_dirs: Iterable[str | Path] = (), *, on_error: ErrorHandler | None = None
) -> list[QueryFile]:
    """Every available query file, sorted by name.

    Searched in order: the bundled ``queries/`` folder, ``queries/`` in the user's config
    folder (:func:`trialtui.paths.user_queries_dir`), then ``extra_dirs``; a query found
    later replaces an earlier one of the same name. Missing bundled or user folders are
    skipped; a missing extra folder is a :class:`UsageError`.

    A malformed file raises :class:`QueryFileError`, or, with ``on_error``, is passed to
    ``on_error`` and skipped.
    """
    found: dict[str, QueryFile] = {}
    for folder, origin in query_dirs(extra_dirs):
        if not folder.is_dir():
            if origin == "extra":
                raise UsageError(f"{folder}: no such folder of query files")
            continue
        in_folder: dict[str, QueryFile] = {}
        for path in sorted(folder.glob("*.sql")):
            try:
                query = parse_query_file(path, origin=origin)
                if query.name in in_folder:
                    raise QueryFileError(
                        f"{path}: query name '{query.name}' is also used by "
                        f"{in_folder[query.name].path}"
                    )
            except QueryFileError as exc:
                if on_error is None:
                    raise
                on_error(exc)
                continue
            in_folder[query.name] = query
        found.update(in_folder)
    return [found[name] for name in sorted(found)]


def find_query(
    name_or_path: str | Path,
    extra_dirs: Iterable[str | Path] = (),
    *,
    on_error: ErrorHandler | None = None,
) -> QueryFile:
    """A query by name (see :func:`discover_queries`) or a query file by path.

    An argument ending in ``.sql`` or holding a path separator is a path.

    Raises
    ------
    UsageError
        No query of that name, or no such file.
    QueryFileError
        The file's header is malformed.
    """
    text = str(name_or_path)
    if text.endswith(".sql") or "/" in text or "\\" in text or isinstance(name_or_path, Path):
        path = Path(text)
        if not path.is_file():
            raise UsageError(f"{path}: no such query file")
        return parse_query_file(path)
    queries = {q.name: q for q in discover_queries(extra_dirs, on_error=on_error)}
    if text in queries:
        return queries[text]
    close = difflib.get_close_matches(text, list(queries), n=3)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(queries)}"
    raise UsageError(f"unknown query '{text}' ({hint})")


# ----------------------------------------------------------------------------- parameters


def convert_value(kind: str, text: str) -> Any:
    """Convert a parameter value given as text to the Python value DuckDB binds.

    Raises ValueError when ``text`` is not a value of ``kind``.
    """
    if kind == "text":
        return text
    value = text.strip()
    if kind == "integer":
        if not _INTEGER.match(value):
            raise ValueError(text)
        number = int(value)
        if not -_INT64 <= number < _INT64:
            raise ValueError(text)
        return number
    if kind == "number":
        if not _NUMBER.match(value):
            raise ValueError(text)
        result = float(value)
        if not math.isfinite(result):
            raise ValueError(text)
        return result
    if kind == "boolean":
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(text)
    if kind == "date":
        if not _DATE.match(value):
            raise ValueError(text)
        return date.fromisoformat(value)
    raise ValueError(f"unknown parameter type {kind}")


def bind_params(query: QueryFile, given: Mapping[str, Any]) -> dict[str, Any]:
    """The values to bind for ``query``: ``given`` (text) checked and converted, plus defaults.

    ``given`` maps parameter names to values as text (other values are converted with
    ``str``; None counts as not given). Parameters left out take their default.

    Raises
    ------
    UsageError
        An unknown parameter, a missing required parameter, or a value that is not of the
        declared type. The message names the parameter and the type.
    """
    unknown = [name for name in given if name not in query.param_names]
    if unknown:
        known = ", ".join(query.param_names) if query.params else "none"
        raise UsageError(
            f"unknown parameter '{unknown[0]}' for {query.label} (parameters: {known})"
        )
    bound: dict[str, Any] = {}
    missing: list[str] = []
    for param in query.params:
        raw = given.get(param.name)
        if raw is None:
            if param.required:
                missing.append(f"{param.name} ({param.type})")
            bound[param.name] = param.default
            continue
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        text = raw if isinstance(raw, str) else str(raw)
        try:
            bound[param.name] = convert_value(param.type, text)
        except ValueError:
            raise UsageError(
                f"parameter '{param.name}' of {query.label} must be "
                f"{_TYPE_HINTS[param.type]}, got '{text}'"
            ) from None
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise UsageError(
            f"missing required parameter{plural} {', '.join(missing)} for {query.label}"
        )
    return bound


# ----------------------------------------------------------------------------- running


def open_query_connection(
    db_path: str | Path, *, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection for query files: the database read-only, no access outside it.

    The trialtui database at ``db_path`` is attached ``READ_ONLY`` (as ``trial``, the
    default catalog) to a fresh in-memory DuckDB instance; then ``enable_external_access``
    is switched off and ``lock_configuration`` on, so that no statement can read or write
    files, attach databases, install or load extensions, or change a setting (including
    switching external access back on). Extension auto-install and auto-load are off from
    the start.

    Attaching (rather than ``duckdb.connect(path, read_only=True, config=...)``) lets this
    connection coexist with plain connections to the same file in the same process: DuckDB
    refuses a second ``connect`` to one file with a different configuration.

    The in-memory catalog remains writable scratch space (as temp tables are on any DuckDB
    connection); :func:`run_query` refuses ``CREATE`` and every other non-query statement
    before it could use it. Close the connection when done.

    ``memory_limit`` (DuckDB's, e.g. ``"400MB"``): beyond it DuckDB spills sorts, joins and
    kept results to the private temporary folder (default: DuckDB's own limit).

    Raises
    ------
    StoreError
        The file is missing, locked by a writer, not a DuckDB file or not a trialtui
        database.
    """
    problem = special_database_name(str(db_path))
    if problem:
        raise StoreError(f"{db_path}: {problem}")
    path = Path(db_path)
    if not path.exists():
        raise StoreError(f"{path}: no such database (create one with `trialtui sample` or import)")
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        literal = str(path).replace("'", "''")
        try:
            con.execute(f"ATTACH '{literal}' AS {DATABASE_ALIAS} (READ_ONLY)")
        except duckdb.Error as exc:
            raise StoreError(_describe(exc, path)) from None
        con.execute(f"USE {DATABASE_ALIAS}")
        _check_schema(con, path, read_only=True)
        # DuckDB lets queries read its temporary folder even without external access; the
        # default is ./.tmp under the working directory, so give it a private one.
        temp = _private_temp_dir().replace("'", "''")
        con.execute(f"SET temp_directory = '{temp}'")
        if memory_limit is not None:
            con.execute("SET memory_limit = ?", [memory_limit])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


_TEMP_DIR: str | None = None


def _private_temp_dir() -> str:
    """A folder only this process uses (mode 0700) for DuckDB's spill files, removed at exit."""
    global _TEMP_DIR
    if _TEMP_DIR is None:
        _TEMP_DIR = tempfile.mkdtemp(prefix="trialtui-duckdb-")
        atexit.register(shutil.rmtree, _TEMP_DIR, True)
    return _TEMP_DIR


def run_query(
    con: duckdb.DuckDBPyConnection,
    query_or_sql: QueryFile | str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float | None = None,
    keep_above: int | None = None,
) -> pl.DataFrame | PagedResult:
    """Run one query file (or SQL text) on a connection from :func:`open_query_connection`.

    ``timeout``: stop the query after this many seconds (None or 0: no limit).

    ``keep_above``: a ``SELECT`` whose result has more rows than this is returned as a
    :class:`~trialtui.store.paged.PagedResult`, its rows kept in the connection's in-memory
    catalog and read a page at a time; the result then owns the connection (close the
    result, not the connection), which no longer has the database attached (no lock on
    the file is kept). None: always a frame.

    ``params`` are bound values, usually from :func:`bind_params`; declared parameters left
    out take their defaults. Only parameters the SQL refers to are bound.

    The call blocks. To stop it, call ``con.interrupt()`` from another thread (the only
    call on a DuckDB connection that is safe from another thread); ``run_query`` then raises
    :class:`QueryInterrupted`. Use one connection per worker thread.

    Raises
    ------
    QueryRefused
        The statement would write, reach outside the database or change a setting.
    QueryInterrupted
        ``con.interrupt()`` was called.
    QueryError
        Any other SQL error, or not exactly one statement; one line naming the query (and
        its file) and, where DuckDB gives it, the line.
    QueryFileError
        The SQL uses a ``$parameter`` its header does not declare.
    """
    query = (
        query_or_sql
        if isinstance(query_or_sql, QueryFile)
        else parse_query_text(query_or_sql, name="sql")
    )
    where = query.label if isinstance(query_or_sql, QueryFile) else "SQL"
    # DuckDB counts a statement's lines from its first non-blank character; strip leading
    # blank lines and add them back to line numbers so that errors point into the file.
    text = query.sql.lstrip()
    offset = query.sql[: len(query.sql) - len(text)].count("\n")

    try:
        statements = con.extract_statements(text)
    except duckdb.Error as exc:
        raise _query_error(exc, where, offset) from None
    if len(statements) != 1:
        count = "no SQL statement" if not statements else f"{len(statements)} statements"
        raise QueryError(f"{where}: holds {count}; a query holds exactly one statement")
    statement = statements[0]
    _check_statement(con, statement, text, where)

    used = set(statement.named_parameters)
    values = dict(params or {})
    if isinstance(query_or_sql, QueryFile):
        undeclared = sorted(used - set(query.param_names))
        if undeclared:
            raise QueryFileError(
                f"{where}: uses ${undeclared[0]}, which its header does not declare "
                f"(add '-- param: {undeclared[0]} TYPE DEFAULT description')"
            )
        for param in query.params:
            if not param.required:
                values.setdefault(param.name, param.default)
    bound = {name: value for name, value in values.items() if name in used}

    expired = threading.Event()

    def stop() -> None:
        expired.set()
        con.interrupt()

    timer = threading.Timer(timeout, stop) if timeout else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        with interruptible(con):
            relation = con.sql(text, params=bound or None)
            if relation is None:
                return pl.DataFrame()
            if keep_above is None or _statement_kind(statement) != "SELECT":
                return plain_columns(relation).pl()
            return _kept(con, relation, keep_above)
    except duckdb.Error as exc:
        error = _query_error(exc, where, offset)
        if isinstance(error, QueryInterrupted) and expired.is_set():
            raise QueryTimeout(
                f"{where}: stopped after the time limit of {timeout:g} s "
                "(raise it with --timeout SECONDS, 0 for none)"
            ) from None
        raise error from None
    finally:
        if timer is not None:
            timer.cancel()


# The table of the query connection's in-memory catalog that holds a kept result.
KEPT_TABLE = "memory.main.query_result"


def _kept(
    con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, keep_above: int
) -> pl.DataFrame | PagedResult:
    """The relation's rows written to :data:`KEPT_TABLE` in its order; read back as a frame
    when there are ``keep_above`` or fewer."""
    kept = PagedResult.keep(con, relation, KEPT_TABLE)
    if kept.height <= keep_above:
        frame = kept.slice(0)
        kept.drop()
        return frame
    # the rows are all the result needs: let go of the database file, so that other
    # connections and processes can write to it while the result is browsed
    con.execute("USE memory")
    con.execute(f"DETACH {DATABASE_ALIAS}")
    return kept


def _statement_kind(statement: Any) -> str:
    """The statement type's name as DuckDB's parser sees it (``OTHER`` if Python lacks it)."""
    try:
        return statement.type.name
    except ValueError:  # a type newer than the Python enum (e.g. UPDATE EXTENSIONS)
        return "OTHER"


def _check_statement(con: duckdb.DuckDBPyConnection, statement: Any, text: str, where: str) -> None:
    """Refuse every statement but a query, judged by DuckDB's own parser.

    ``EXPLAIN ANALYZE`` runs the statement it explains, so an ``EXPLAIN`` (with or without
    ``ANALYZE`` and options) is allowed only around a ``SELECT``.
    """
    kind = _statement_kind(statement)
    if kind not in ALLOWED_STATEMENTS:
        word = _STATEMENT_WORDS.get(kind, kind)
        raise QueryRefused(
            f"{where}: refused: {word} statements are not allowed; queries run read-only "
            f"(allowed: {', '.join(ALLOWED_STATEMENTS)})"
        )
    if kind != "EXPLAIN":
        return
    inner = _explained(text)
    try:
        parsed = con.extract_statements(inner) if inner is not None else []
    except duckdb.Error:
        parsed = []
    inner_kind = _statement_kind(parsed[0]) if len(parsed) == 1 else "OTHER"
    if inner_kind != "SELECT":
        word = _STATEMENT_WORDS.get(inner_kind, inner_kind)
        raise QueryRefused(
            f"{where}: refused: EXPLAIN is allowed for SELECT statements only (here: {word}); "
            "EXPLAIN ANALYZE runs the statement it explains"
        )


def _explained(text: str) -> str | None:
    """The statement after ``EXPLAIN [ANALYZE] [(options)]``, found with DuckDB's tokenizer."""
    found = duckdb.tokenize(text)
    bounds = [pos for pos, _ in found[1:]] + [len(text)]
    tokens = [
        (pos, text[pos:end].strip().upper())
        for (pos, kind), end in zip(found, bounds, strict=True)
        if kind != duckdb.token_type.comment
    ]
    if not tokens or tokens[0][1] != "EXPLAIN":
        return None
    index = 1
    if index < len(tokens) and tokens[index][1] in ("ANALYZE", "ANALYSE"):
        index += 1
    if index < len(tokens) and tokens[index][1].startswith("("):  # (FORMAT json, ...)
        depth = 0
        while index < len(tokens):
            depth += tokens[index][1].count("(") - tokens[index][1].count(")")
            index += 1
            if depth <= 0:
                break
    return text[tokens[index][0] :] if index < len(tokens) else None


def _query_error(exc: duckdb.Error, where: str, offset: int) -> QueryError:
    """One line for a DuckDB error: refusals explained, the file's line number added."""
    message = str(exc).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    match = _LINE.search(message)
    at = f", line {int(match.group(1)) + offset}" if match else ""
    lowered = first.lower()
    if isinstance(exc, duckdb.InterruptException):
        return QueryInterrupted(f"{where}: interrupted")
    if isinstance(exc, duckdb.PermissionException) or "disabled by configuration" in lowered:
        return QueryRefused(
            f"{where}{at}: refused: queries cannot read or write files, attach databases or "
            f"load extensions ({first})"
        )
    if "read-only mode" in lowered:
        return QueryRefused(
            f"{where}{at}: refused: the database is open read-only; queries cannot change "
            f"it ({first})"
        )
    if "configuration has been locked" in lowered:
        return QueryRefused(f"{where}{at}: refused: queries cannot change settings ({first})")
    missing = re.search(r"Table with name (\w+) does not exist", first)
    if missing and missing.group(1).lower() in DERIVED_TABLE_NAMES:
        return QueryError(
            f"{where}{at}: {first} (derived result tables are written by "
            "`trialtui stats --store` or `trialtui sample`)"
        )
    return QueryError(f"{where}{at}: {first}")
