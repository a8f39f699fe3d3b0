"""The query-file API (trialtui.store.queryfiles) and every bundled query, on real DuckDB files.

Bundled queries are checked against independent computations: the store's catalog, Polars
over the raw tables, and trialtui.analysis through trialtui.study.compute.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from trialtui.analysis import AnalysisSettings
from trialtui.choices import LEVELS
from trialtui.errors import StoreError, UsageError
from trialtui.resources import queries_dir
from trialtui.store import catalog
from trialtui.store.connection import connect
from trialtui.store.derived import DERIVED_TABLE_NAMES, query_context
from trialtui.store.queryfiles import (
    PARAM_TYPES,
    QueryError,
    QueryFileError,
    QueryInterrupted,
    QueryRefused,
    bind_params,
    convert_value,
    discover_queries,
    find_query,
    open_query_connection,
    parse_query_file,
    parse_query_text,
    run_query,
)
from trialtui.study import DERIVED_TABLES, compute, load_study

STUDIES = ("PDAC-DEF-1", "PDAC-DEF-2")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def derived_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample trial with its derived result tables, built by the real CLI."""
    path = tmp_path_factory.mktemp("derived") / "sample.duckdb"
    subprocess.run(
        [sys.executable, "-m", "trialtui", "sample", "--db", str(path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return path


@pytest.fixture(scope="module")
def qcon(derived_db: Path):
    con = open_query_connection(derived_db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def results(derived_db: Path) -> dict[str, pl.DataFrame]:
    """Every result level of every study, computed by trialtui.analysis (default settings)."""
    con = connect(derived_db, read_only=True)
    try:
        computed = [compute(load_study(con, s), AnalysisSettings()) for s in STUDIES]
    finally:
        con.close()
    return {
        level: pl.concat([r.level(level) for r in computed], how="vertical_relaxed")
        for level in computed[0].frames
    } | {"counts": pl.concat([r.pairing.counts for r in computed], how="vertical_relaxed")}


@pytest.fixture(scope="module")
def raw(derived_db: Path) -> dict[str, pl.DataFrame]:
    """The raw tables, read with plain DuckDB (not the code under test)."""
    con = duckdb.connect(str(derived_db), read_only=True)
    try:
        names = ("patients", "samples", "timepoints", "measurements", "imports", "derived_runs")
        return {name: con.sql(f"SELECT * FROM {name}").pl() for name in names}
    finally:
        con.close()


def run(con, name: str, **given: str) -> pl.DataFrame:
    query = find_query(name)
    return run_query(con, query, bind_params(query, given))


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


@pytest.fixture(autouse=True)
def _no_user_queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own query files out of these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty-config"))


# ----------------------------------------------------------------------------- header parsing

FULL_HEADER = """\
-- name: demo_query
-- description: A demo with every type
-- param: biomarker text - biomarker id
-- param: n integer 10 how many
-- param: cutoff number 0.5 threshold
-- param: flag boolean true a switch
-- param: since date 2024-01-31 first day
-- param: label text 'two words' a quoted default
-- param: quote text 'it''s' an escaped quote
-- param: study text null only this study
--
-- free text: this line is not a directive
SELECT $biomarker, $n
"""


def test_parse_full_header(tmp_path: Path) -> None:
    path = tmp_path / "demo.sql"
    path.write_text(FULL_HEADER, encoding="utf-8")
    query = parse_query_file(path)
    assert query.name == "demo_query"
    assert query.description == "A demo with every type"
    assert query.path == path
    assert query.sql == FULL_HEADER
    params = {p.name: p for p in query.params}
    assert list(params) == [
        "biomarker", "n", "cutoff", "flag", "since", "label", "quote", "study"
    ]  # fmt: skip
    assert params["biomarker"].required and params["biomarker"].default is None
    assert params["biomarker"].description == "biomarker id"
    assert params["biomarker"].line == 3
    assert params["n"].default == 10 and params["n"].type == "integer"
    assert params["cutoff"].default == 0.5
    assert params["flag"].default is True
    assert params["since"].default == date(2024, 1, 31)
    assert params["label"].default == "two words"
    assert params["label"].description == "a quoted default"
    assert params["quote"].default == "it's"
    assert not params["study"].required and params["study"].default is None
    assert [p.default_text for p in query.params] == [
        "-", "10", "0.5", "true", "2024-01-31", "two words", "it's", "null"
    ]  # fmt: skip


def test_parse_without_header_uses_file_name(tmp_path: Path) -> None:
    path = tmp_path / "plain_listing.sql"
    path.write_text("SELECT 1 AS one\n", encoding="utf-8")
    query = parse_query_file(path)
    assert (query.name, query.description, query.params) == ("plain_listing", "", ())


def test_header_ends_at_first_sql_line(tmp_path: Path) -> None:
    text = "-- name: q\nSELECT 1\n-- param: late integer 1 not part of the header\n"
    assert parse_query_text(text).params == ()


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("-- param: n int 10 x", "unknown type 'int'"),
        ("-- param: n integer ten x", "default 'ten' is not an integer"),
        ("-- param: d date 2024-13-01 x", "is not a date"),
        ("-- param: b boolean maybe x", "is not a boolean"),
        ("-- param: x number nan x", "is not a finite number"),
        ("-- param: n integer", "cannot read parameter line"),
        ("-- param: 1bad text - x", "cannot read parameter line"),
        ("-- param: dup text - again", "declared twice"),
        ("-- name: second_name", "a second '-- name:' line"),
        ("-- description: again", "a second '-- description:' line"),
    ],
)
def test_header_errors_name_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(
        f"-- name: bad\n-- description: d\n-- param: dup text - x\n{line}\nSELECT 1\n",
        encoding="utf-8",
    )
    with pytest.raises(QueryFileError) as info:
        parse_query_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:4: "), message
    assert fragment in message
    assert "\n" not in message
    assert info.value.exit_code == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-- name: Not-Snake\nSELECT 1\n", "not snake_case"),
        ("-- name: ok\n-- description:\nSELECT 1\n", "empty description"),
    ],
)
def test_header_name_and_description_errors(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QueryFileError, match=fragment) as info:
        parse_query_file(path)
    assert f"{path}:" in str(info.value)


def test_not_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.sql"
    path.write_bytes("-- description: caf\xe9\nSELECT 1\n".encode("latin-1"))
    with pytest.raises(QueryFileError, match="not UTF-8"):
        parse_query_file(path)


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("text", " x' OR 1=1 -- ", " x' OR 1=1 -- "),
        ("text", "", ""),
        ("integer", "42", 42),
        ("integer", "-7", -7),
        ("integer", " 3 ", 3),
        ("number", "1.5", 1.5),
        ("number", "-2e-3", -0.002),
        ("number", "10", 10.0),
        ("boolean", "TRUE", True),
        ("boolean", "no", False),
        ("boolean", "0", False),
        ("date", "2024-02-29", date(2024, 2, 29)),
    ],
)
def test_convert_value(kind: str, text: str, expected: object) -> None:
    value = convert_value(kind, text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("integer", "1.5"),
        ("integer", "ten"),
        ("integer", ""),
        ("integer", str(2**63)),
        ("number", "nan"),
        ("number", "inf"),
        ("number", "1_000"),
        ("number", "abc"),
        ("boolean", "maybe"),
        ("date", "2024-02-30"),
        ("date", "20240101"),
        ("date", "yesterday"),
    ],
)
def test_convert_value_rejects(kind: str, text: str) -> None:
    assert kind in PARAM_TYPES
    with pytest.raises(ValueError):
        convert_value(kind, text)


def test_bind_params_defaults_and_conversion() -> None:
    query = parse_query_text(FULL_HEADER)
    bound = bind_params(query, {"biomarker": "CD8", "n": "3", "flag": "off"})
    assert bound == {
        "biomarker": "CD8",
        "n": 3,
        "cutoff": 0.5,
        "flag": False,
        "since": date(2024, 1, 31),
        "label": "two words",
        "quote": "it's",
        "study": None,
    }


@pytest.mark.parametrize(
    ("given", "fragments"),
    [
        ({}, ["missing required parameter", "biomarker (text)", "demo_query"]),
        ({"biomarker": "x", "nope": "1"}, ["unknown parameter 'nope'", "parameters: biomarker"]),
        ({"biomarker": "x", "n": "ten"}, ["parameter 'n'", "must be an integer", "'ten'"]),
        ({"biomarker": "x", "cutoff": "high"}, ["parameter 'cutoff'", "finite number"]),
        ({"biomarker": "x", "flag": "maybe"}, ["parameter 'flag'", "boolean"]),
        ({"biomarker": "x", "since": "31/01/2024"}, ["parameter 'since'", "YYYY-MM-DD"]),
    ],
)
def test_bind_params_errors(given: dict[str, str], fragments: list[str]) -> None:
    query = parse_query_text(FULL_HEADER)
    with pytest.raises(UsageError) as info:
        bind_params(query, given)
    message = str(info.value)
    assert info.value.exit_code == 2
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# ----------------------------------------------------------------------------- discovery


def test_bundled_queries_are_documented_and_consistent() -> None:
    queries = discover_queries()
    assert len(queries) >= 10
    assert len({q.name for q in queries}) == len(queries)
    scratch = duckdb.connect()
    for query in queries:
        assert query.origin == "bundled"
        assert query.path is not None and query.path.parent == queries_dir()
        assert query.name == query.path.stem
        assert query.description, query.name
        assert all(p.description for p in query.params), query.name
        statements = scratch.extract_statements(query.sql)
        assert len(statements) == 1, query.name
        assert statements[0].type == duckdb.StatementType.SELECT, query.name
        # every declared parameter is used and every used one is declared
        assert set(statements[0].named_parameters) == set(query.param_names), query.name
        assert query.sql.startswith(f"-- name: {query.name}\n-- description: ")
        if "study_id" in query.sql:
            assert "study" in query.param_names, query.name
    scratch.close()


def _write(folder: Path, name: str, sql: str, description: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.sql"
    path.write_text(f"-- name: {name}\n-- description: {description}\n{sql}\n", "utf-8")
    return path


def test_user_and_extra_folders_override_by_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    user = tmp_path / "config" / "trialtui" / "queries"
    _write(user, "top_changers", "SELECT 'user' AS source", "user version")
    _write(user, "only_user", "SELECT 1", "user only")
    extra = tmp_path / "extra"
    _write(extra, "only_user", "SELECT 2", "extra version")

    by_name = {q.name: q for q in discover_queries()}
    assert by_name["top_changers"].origin == "user"
    assert by_name["top_changers"].description == "user version"
    assert by_name["arm_summary"].origin == "bundled"

    by_name = {q.name: q for q in discover_queries([extra])}
    assert by_name["only_user"].origin == "extra"
    assert by_name["only_user"].description == "extra version"
    assert find_query("only_user", [extra]).path == extra / "only_user.sql"
    assert find_query("top_changers", [extra]).description == "user version"


def test_discovery_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        discover_queries([tmp_path / "missing"])
    folder = tmp_path / "q"
    _write(folder, "good", "SELECT 1", "fine")
    (folder / "broken.sql").write_text("-- param: x wrong - y\nSELECT 1\n", "utf-8")
    with pytest.raises(QueryFileError, match=r"broken\.sql:1: "):
        discover_queries([folder])
    seen: list[QueryFileError] = []
    names = {q.name for q in discover_queries([folder], on_error=seen.append)}
    assert "good" in names and "broken" not in names
    assert len(seen) == 1 and "broken.sql:1" in str(seen[0])

    dup = tmp_path / "dup"
    _write(dup, "a", "SELECT 1", "first")
    (dup / "b.sql").write_text("-- name: a\nSELECT 2\n", "utf-8")
    with pytest.raises(QueryFileError, match="also used by"):
        discover_queries([dup])


def test_find_query_by_name_and_path(tmp_path: Path) -> None:
    assert find_query("below_lloq").path == queries_dir() / "below_lloq.sql"
    path = _write(tmp_path, "mine", "SELECT 1", "mine")
    assert find_query(str(path)).name == "mine"
    assert find_query(path).origin == "file"
    with pytest.raises(UsageError, match="no such query file"):
        find_query(str(tmp_path / "absent.sql"))
    with pytest.raises(UsageError, match="did you mean top_changers"):
        find_query("top_changer")
    with pytest.raises(UsageError, match="unknown query 'zzz'"):
        find_query("zzz")


# ----------------------------------------------------------------------------- connection


def test_open_query_connection_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such database"):
        open_query_connection(tmp_path / "missing.duckdb")
    foreign = tmp_path / "foreign.duckdb"
    duckdb.connect(str(foreign)).close()
    with pytest.raises(StoreError, match="not a trialtui database"):
        open_query_connection(foreign)
    text = tmp_path / "text.duckdb"
    text.write_text("not a database", "utf-8")
    with pytest.raises(StoreError, match="cannot open database"):
        open_query_connection(text)


def test_query_connection_coexists_with_plain_connection(sample_db: Path) -> None:
    plain = connect(sample_db, read_only=True)
    try:
        con = open_query_connection(sample_db)
        try:
            frame = run_query(con, "SELECT count(*) AS n FROM studies")
        finally:
            con.close()
    finally:
        plain.close()
    assert frame["n"].to_list() == [2]


def test_connection_settings_are_locked(sample_db: Path) -> None:
    con = open_query_connection(sample_db)
    try:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('enable_external_access', 'lock_configuration', "
                "'autoinstall_known_extensions', 'autoload_known_extensions')"
            ).fetchall()
        )
    finally:
        con.close()
    assert settings == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


# ----------------------------------------------------------------------------- safety


@pytest.fixture
def writable_copy(tmp_path: Path, sample_db: Path) -> Path:
    """A private copy of the sample, so a failing safety test cannot harm the shared one."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(sample_db, path)
    # a readable file outside the database, for the file-reading attempts
    duckdb.sql(f"COPY (SELECT 42 AS answer) TO '{tmp_path / 'outside.parquet'}'")
    return path


def refused_statements(tmp_path: Path) -> dict[str, tuple[str, Path | None]]:
    """Statement -> (SQL, a path it would create)."""
    out = tmp_path / "out"
    return {
        "insert": ("INSERT INTO studies (study_id) VALUES ('X')", None),
        "update": ("UPDATE patients SET response = 'CR'", None),
        "delete": ("DELETE FROM measurements", None),
        "create": ("CREATE TABLE t AS SELECT 1 AS a", None),
        "create_temp": ("CREATE TEMP TABLE t AS SELECT 1 AS a", None),
        "create_view": ("CREATE VIEW v AS SELECT 1 AS a", None),
        "drop": ("DROP TABLE measurements", None),
        "alter": ("ALTER TABLE studies ADD COLUMN x INTEGER", None),
        "copy_query": (f"COPY (SELECT 1) TO '{out}.csv'", Path(f"{out}.csv")),
        "copy_table": (f"COPY studies TO '{out}.parquet' (FORMAT parquet)", Path(f"{out}.parquet")),
        "export": (f"EXPORT DATABASE '{out}_dir'", Path(f"{out}_dir")),
        "attach": (f"ATTACH '{out}.duckdb' AS other", Path(f"{out}.duckdb")),
        "install": ("INSTALL httpfs", None),
        "load": ("LOAD httpfs", None),
        "set_access": ("SET enable_external_access = true", None),
        "set_lock": ("SET lock_configuration = false", None),
        "pragma_write": ("PRAGMA enable_profiling", None),
        "read_csv": ("SELECT * FROM read_csv('/etc/passwd')", None),
        "read_parquet": (f"SELECT * FROM read_parquet('{tmp_path}/outside.parquet')", None),
        "read_text": ("SELECT * FROM read_text('/etc/hostname')", None),
        "glob": ("SELECT * FROM glob('/etc/*')", None),
        "multi": ("SELECT 1; DELETE FROM measurements", None),
    }


STATEMENT_KEYS = list(refused_statements(Path("/x")))


@pytest.mark.parametrize("key", STATEMENT_KEYS)
def test_write_and_file_access_refused(tmp_path: Path, writable_copy: Path, key: str) -> None:
    sql, creates = refused_statements(tmp_path)[key]
    before_tables, before_bytes = all_tables(writable_copy), file_digest(writable_copy)
    query = tmp_path / "attempt.sql"
    query.write_text(f"-- name: attempt\n-- description: try\n{sql}\n", "utf-8")
    con = open_query_connection(writable_copy)
    try:
        with pytest.raises(QueryError) as info:
            run_query(con, parse_query_file(query), {})
    finally:
        con.close()
    message = str(info.value)
    assert "\n" not in message
    assert f"({query})" in message, message
    if key != "multi":
        assert isinstance(info.value, QueryRefused), message
        assert "refused" in message
    if creates is not None:
        assert not creates.exists()
    assert all_tables(writable_copy) == before_tables
    assert file_digest(writable_copy) == before_bytes


# What DuckDB itself enforces on the query connection, without trialtui's statement check.
DUCKDB_ENFORCED = [
    "insert",
    "update",
    "delete",
    "create",
    "drop",
    "alter",
    "copy_query",
    "copy_table",
    "export",
    "attach",
    "install",
    "load",
    "set_access",
    "set_lock",
    "pragma_write",
    "read_csv",
    "read_parquet",
    "read_text",
    "glob",
]


@pytest.mark.parametrize("key", DUCKDB_ENFORCED)
def test_duckdb_refuses_without_the_statement_check(
    tmp_path: Path, writable_copy: Path, key: str
) -> None:
    sql, creates = refused_statements(tmp_path)[key]
    before = file_digest(writable_copy)
    con = open_query_connection(writable_copy)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(sql).fetchall()
        # and the settings stayed as they were
        assert con.execute("SELECT current_setting('enable_external_access')").fetchall() == [
            (False,)
        ]
    finally:
        con.close()
    if creates is not None:
        assert not creates.exists()
    assert file_digest(writable_copy) == before


def test_refusal_messages_are_clear(writable_copy: Path, tmp_path: Path) -> None:
    con = open_query_connection(writable_copy)
    try:
        with pytest.raises(QueryRefused, match=r"INSERT statements are not allowed"):
            run_query(con, "INSERT INTO studies (study_id) VALUES ('X')")
        with pytest.raises(QueryRefused, match=r"INSTALL/LOAD statements are not allowed"):
            run_query(con, "INSTALL httpfs")
        with pytest.raises(QueryRefused, match=r"cannot read or write files.*/etc/passwd"):
            run_query(con, "SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(QueryRefused, match="queries cannot change settings"):
            run_query(con, "PRAGMA enable_profiling")
    finally:
        con.close()


def test_read_only_statements_allowed(sample_db: Path) -> None:
    con = open_query_connection(sample_db)
    try:
        assert run_query(con, "DESCRIBE studies").height == 6
        assert "studies" in run_query(con, "SHOW TABLES")["name"].to_list()
        assert run_query(con, "PRAGMA table_info('arms')").height == 5
        assert run_query(con, "EXPLAIN SELECT * FROM studies").height == 1
        assert run_query(con, "FROM studies SELECT study_id ORDER BY 1")["study_id"].to_list() == [
            "PDAC-DEF-1",
            "PDAC-DEF-2",
        ]
    finally:
        con.close()


# ----------------------------------------------------------------------------- errors & running


def test_errors_name_file_and_line(tmp_path: Path, sample_db: Path) -> None:
    parse_error = tmp_path / "parse_error.sql"
    parse_error.write_text(
        "\n-- name: parse_error\n-- description: d\nSELECT *\nFROM studies\nWHRE x = 1\n",
        "utf-8",
    )
    convert_error = tmp_path / "convert_error.sql"
    convert_error.write_text(
        "-- name: convert_error\n-- description: d\nSELECT 1 AS a,\n  CAST('a' AS INTEGER) AS b\n",
        "utf-8",
    )
    binder_error = tmp_path / "binder_error.sql"
    binder_error.write_text("-- name: binder_error\nSELECT nope FROM studies\n", "utf-8")
    undeclared = tmp_path / "undeclared.sql"
    undeclared.write_text("-- name: undeclared\nSELECT * FROM studies WHERE $who\n", "utf-8")
    con = open_query_connection(sample_db)
    try:
        with pytest.raises(QueryError) as info:
            run_query(con, parse_query_file(parse_error))
        assert str(info.value).startswith(f"query parse_error ({parse_error}), line 6: Parser")
        with pytest.raises(QueryError) as info:
            run_query(con, parse_query_file(convert_error))
        assert f"({convert_error}), line 4: Conversion Error" in str(info.value)
        with pytest.raises(QueryError) as info:
            run_query(con, parse_query_file(binder_error))
        assert f"({binder_error}): Binder Error" in str(info.value)
        assert "\n" not in str(info.value)
        with pytest.raises(QueryFileError, match=r"uses \$who, which its header does not"):
            run_query(con, parse_query_file(undeclared))
        with pytest.raises(QueryError, match="holds no SQL statement"):
            run_query(con, "-- only a comment\n")
    finally:
        con.close()


def test_missing_derived_table_gives_a_hint(sample_db: Path) -> None:
    con = open_query_connection(sample_db)  # built without derived tables
    try:
        with pytest.raises(
            QueryError, match=r"fold_changes does not exist.*trialtui stats --store"
        ):
            run(con, "biomarker_changes", biomarker="CD8")
    finally:
        con.close()


def test_interrupt_from_another_thread(sample_db: Path) -> None:
    con = open_query_connection(sample_db)
    done = threading.Event()

    def keep_interrupting() -> None:
        # interrupt() before the query starts does nothing, so repeat until it has stopped
        while not done.wait(0.1):
            con.interrupt()

    thread = threading.Thread(target=keep_interrupting, daemon=True)
    thread.start()
    try:
        with pytest.raises(QueryInterrupted, match="interrupted"):
            run_query(con, "SELECT sum(a.range * b.range) FROM range(100000000) a, range(1000) b")
    finally:
        done.set()
        thread.join()
    # the connection is still usable afterwards
    assert run_query(con, "SELECT 1 AS one")["one"].to_list() == [1]
    con.close()


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("biomarker_changes", {"biomarker": "x' OR 1=1 --"}),
        ("top_changers", {"biomarker": "CD8' OR '1'='1"}),
        ("patient_listing", {"study": "' OR ''='"}),
        ("below_lloq", {"biomarker": "x'); DROP TABLE measurements; --"}),
    ],
)
def test_values_are_bound_not_pasted(qcon, derived_db: Path, name: str, given) -> None:
    before = file_digest(derived_db)
    assert run(qcon, name, **given).height == 0
    assert file_digest(derived_db) == before


def test_query_level_errors_from_sql(qcon) -> None:
    with pytest.raises(QueryError, match="direction must be up, down or abs"):
        run(qcon, "top_changers", biomarker="CD8", direction="sideways")
    with pytest.raises(QueryError, match="n must be at least 1"):
        run(qcon, "top_changers", biomarker="CD8", n="0")


# ----------------------------------------------------------------------------- bundled queries

REQUIRED = {"biomarker": "CD8"}


BUNDLED = sorted(queries_dir().glob("*.sql"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_query_runs_on_the_sample(qcon, path: Path) -> None:
    query = parse_query_file(path)
    given = {p.name: REQUIRED[p.name] for p in query.params if p.required}
    frame = run_query(qcon, query, bind_params(query, given))
    assert frame.height > 0, query.name
    if "study" in query.param_names:
        one = run_query(qcon, query, bind_params(query, given | {"study": "PDAC-DEF-2"}))
        assert 0 < one.height <= frame.height, query.name
        assert set(one["study_id"]) == {"PDAC-DEF-2"}, query.name
        none = run_query(qcon, query, bind_params(query, given | {"study": "NO-SUCH"}))
        assert none.height == 0


def test_paired_completeness_matches_catalog(qcon, derived_db: Path, results) -> None:
    frame = run(qcon, "paired_completeness")
    con = connect(derived_db, read_only=True)
    try:
        expected = pl.concat(
            [catalog.completeness(con, s).with_columns(study_id=pl.lit(s)) for s in STUDIES]
        )
    finally:
        con.close()
    columns = ["study_id", "biomarker", "arm", "n_patients", "n_baseline", "n_on_treatment"]
    columns += ["n_paired", "post_timepoint"]
    key = ["study_id", "biomarker", "arm"]
    assert_frame_equal(
        frame.select(columns).sort(key),
        expected.select(columns).sort(key),
        check_dtypes=False,
    )
    # and the pairs are those the analysis forms
    pairs = results["counts"].select("study_id", "biomarker", "arm", "n_pairs")
    joined = frame.join(pairs, on=key, how="inner")
    assert joined.height == frame.height
    assert (joined["n_paired"] == joined["n_pairs"]).all()
    pct = (100 * frame["n_paired"] / frame["n_patients"]).round(1)
    assert (frame["pct_paired"] - pct).abs().max() < 1e-9


def test_paired_completeness_chosen_timepoint(qcon, raw) -> None:
    frame = run(qcon, "paired_completeness", study="PDAC-DEF-1", timepoint="Surgery")
    assert set(frame["post_timepoint"]) == {"Surgery"}
    m = raw["measurements"].join(raw["samples"], on=["study_id", "sample_id"])
    m = m.filter(pl.col("study_id") == "PDAC-DEF-1")
    per_patient = m.group_by("patient_id", "biomarker_id").agg(
        has_pre=(pl.col("timepoint") == "Baseline").any(),
        has_post=(pl.col("timepoint") == "Surgery").any(),
    )
    expected = (
        per_patient.group_by("biomarker_id")
        .agg(
            n_baseline=pl.col("has_pre").sum(),
            n_on_treatment=pl.col("has_post").sum(),
            n_paired=(pl.col("has_pre") & pl.col("has_post")).sum(),
        )
        .rename({"biomarker_id": "biomarker"})
        .sort("biomarker")
    )
    got = frame.select(expected.columns).sort("biomarker")
    assert_frame_equal(got, expected, check_dtypes=False)
    assert set(frame["n_patients"]) == {14}
    # a timepoint a study does not have gives no rows for that study
    assert run(qcon, "paired_completeness", timepoint="C2D1")["study_id"].unique().to_list() == [
        "PDAC-DEF-1"
    ]


def _first_after_baseline(timepoints: pl.DataFrame) -> pl.DataFrame:
    return (
        timepoints.filter(~pl.col("is_baseline"))
        .sort("ordinal")
        .group_by("study_id", maintain_order=True)
        .first()
        .select("study_id", post="timepoint")
    )


def test_missing_on_treatment_matches_samples(qcon, raw) -> None:
    frame = run(qcon, "missing_on_treatment")
    post = _first_after_baseline(raw["timepoints"])
    baseline = raw["timepoints"].filter("is_baseline").select("study_id", pre="timepoint")
    samples = raw["samples"].join(post, on="study_id").join(baseline, on="study_id")
    has = samples.group_by("study_id", "patient_id").agg(
        has_post=(pl.col("timepoint") == pl.col("post")).any(),
        has_pre=(pl.col("timepoint") == pl.col("pre")).any(),
    )
    patients = raw["patients"].join(has, on=["study_id", "patient_id"], how="left")
    expected = patients.filter(~pl.col("has_post").fill_null(False))
    key = ["study_id", "patient_id"]
    assert frame.select(key).sort(key).rows() == expected.select(key).sort(key).rows()
    assert frame.height > 0
    joined = frame.join(expected, on=key)
    assert (joined["has_baseline"] == joined["has_pre"].fill_null(False)).all()
    # the analysis leaves exactly these patients unpaired for every biomarker
    only_baseline = run(qcon, "missing_on_treatment", with_baseline_only="true")
    assert only_baseline.height == expected.filter(pl.col("has_pre").fill_null(False)).height
    surgery = run(qcon, "missing_on_treatment", study="PDAC-DEF-1", timepoint="Surgery")
    assert set(surgery["missing_timepoint"]) <= {"Surgery"}


def test_patient_listing_matches_catalog(qcon, derived_db: Path, raw) -> None:
    frame = run(qcon, "patient_listing")
    con = connect(derived_db, read_only=True)
    try:
        expected = pl.concat([catalog.patients(con, s) for s in STUDIES])
    finally:
        con.close()
    key = ["study_id", "patient_id"]
    columns = [*key, "arm", "sex", "age", "response", "n_samples"]
    assert_frame_equal(
        frame.select(columns).sort(key), expected.select(columns).sort(key), check_dtypes=False
    )
    counts = raw["measurements"].join(raw["samples"], on=["study_id", "sample_id"])
    counts = counts.group_by(key).agg(n=pl.len())
    joined = frame.join(counts, on=key)
    assert (joined["n_measurements"] == joined["n"]).all()
    responders = run(qcon, "patient_listing", study="PDAC-DEF-2", response="cr")
    assert responders.height == 3 and set(responders["response"]) == {"CR"}


def test_below_lloq_matches_measurements(qcon, derived_db: Path) -> None:
    frame = run(qcon, "below_lloq")
    con = connect(derived_db, read_only=True)
    try:
        flagged = pl.concat([catalog.measurements(con, s) for s in STUDIES]).filter("below_lloq")
    finally:
        con.close()
    key = ["study_id", "patient_id", "timepoint", "biomarker"]
    assert frame.select(key).sort(key).rows() == flagged.select(key).sort(key).rows()
    assert frame.height == 13
    joined = frame.join(flagged, on=key, suffix="_expected")
    assert (joined["lloq"] == joined["lloq_expected"]).all()
    pfak = run(qcon, "below_lloq", biomarker="pfak")
    assert pfak.height == flagged.filter(pl.col("biomarker") == "PFAK").height > 0


def test_collection_day_deviations(qcon, raw) -> None:
    samples = raw["samples"].join(raw["timepoints"], on=["study_id", "timepoint"])
    deviation = (pl.col("collection_day") - pl.col("nominal_day")).abs()
    for days in ("3", "5.5", "0"):
        frame = run(qcon, "collection_day_deviations", days=days)
        expected = samples.filter(deviation > float(days))
        assert sorted(frame["sample_id"]) == sorted(expected["sample_id"])
        assert frame.height > 0
        dev = frame["deviation_days"]
        assert (dev == frame["collection_day"] - frame["nominal_day"]).all()
        assert dev.abs().to_list() == sorted(dev.abs().to_list(), reverse=True)
    assert run(qcon, "collection_day_deviations", days="1000").height == 0


def test_import_audit(qcon, raw) -> None:
    frame = run(qcon, "import_audit")
    expected = raw["imports"].sort("import_id", descending=True)
    assert_frame_equal(frame, expected.select(frame.columns))
    assert run(qcon, "import_audit", status="loaded").height == 2
    assert run(qcon, "import_audit", status="failed").height == 0
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert run(qcon, "import_audit", since=tomorrow).height == 0
    assert run(qcon, "import_audit", since="2000-01-01").height == 2
    assert run(qcon, "import_audit", study="PDAC-DEF-1")["import_id"].to_list() == [2]


def test_biomarker_changes_match_analysis(qcon, results) -> None:
    frame = run(qcon, "biomarker_changes", biomarker="cd8")
    expected = results["patient"].filter(pl.col("biomarker") == "CD8")
    key = ["study_id", "patient_id"]
    columns = [*key, "arm", "response", "pre", "post", "fc", "log2fc"]
    columns += ["pre_imputed", "post_imputed", "post_timepoint"]
    assert_frame_equal(frame.select(columns).sort(key), expected.select(columns).sort(key))
    one_arm = run(qcon, "biomarker_changes", biomarker="CD8", arm="Pembrolizumab")
    assert set(one_arm["arm"]) == {"Pembrolizumab"}
    assert one_arm.height == expected.filter(pl.col("arm") == "Pembrolizumab").height


@pytest.mark.parametrize(
    ("direction", "order"),
    [
        ("up", pl.col("log2fc")),
        ("down", -pl.col("log2fc")),
        ("abs", pl.col("log2fc").abs()),
    ],
)
def test_top_changers(qcon, results, direction: str, order: pl.Expr) -> None:
    frame = run(qcon, "top_changers", biomarker="FAP", n="4", direction=direction)
    fold = results["patient"].filter(pl.col("biomarker") == "FAP")
    for study in STUDIES:
        got = frame.filter(pl.col("study_id") == study)
        expected = (
            fold.filter(pl.col("study_id") == study)
            .with_columns(key=order)
            .sort(["key", "patient_id"], descending=[True, False])
            .head(4)
        )
        assert got["rank"].to_list() == [1, 2, 3, 4]
        assert got["patient_id"].to_list() == expected["patient_id"].to_list()
        assert got["log2fc"].to_list() == pytest.approx(expected["log2fc"].to_list())
    assert run(qcon, "top_changers", biomarker="FAP").height == 20  # default n = 10 per study


def test_arm_summary_matches_analysis(qcon, results) -> None:
    frame = run(qcon, "arm_summary", biomarker="CD8")
    expected = results["arm"].filter(pl.col("biomarker") == "CD8")
    key = ["study_id", "arm"]
    assert_frame_equal(frame.sort(key), expected.select(frame.columns).sort(key))
    means = dict(zip(frame["arm"], frame["mean_fc"], strict=True))
    assert round(means["Defactinib + Pembrolizumab"], 2) == 5.44
    assert round(means["Pembrolizumab"], 2) == 2.01


def test_arm_comparison_matches_analysis(qcon, results) -> None:
    frame = run(qcon, "arm_comparison")
    expected = results["comparison"]
    key = ["study_id", "biomarker", "arm"]
    assert_frame_equal(frame.sort(key), expected.select(frame.columns).sort(key))
    q = frame["q_mannwhitney"].drop_nulls().to_list()
    assert q == sorted(q)
    strict = run(qcon, "arm_comparison", max_q="0.01")
    assert strict.height == expected.filter(pl.col("q_mannwhitney") <= 0.01).height > 0


def test_correlated_changes_match_analysis(qcon, results) -> None:
    frame = run(qcon, "correlated_changes", biomarker="fap", study="PDAC-DEF-2")
    corr = results["correlation"].filter(pl.col("study_id") == "PDAC-DEF-2")
    expected = corr.filter((pl.col("biomarker_x") == "FAP") | (pl.col("biomarker_y") == "FAP"))
    assert frame.height == expected.height > 0
    assert set(frame["biomarker"]) == {"FAP"}
    assert "FAP" not in set(frame["other_biomarker"])
    rho = frame["spearman_rho"].abs().to_list()
    assert rho == sorted(rho, reverse=True)
    for row in frame.iter_rows(named=True):
        pair = sorted(["FAP", row["other_biomarker"]])
        match = corr.filter(
            (pl.col("arm") == row["arm"])
            & (pl.col("biomarker_x") == pair[0])
            & (pl.col("biomarker_y") == pair[1])
        )
        assert match["spearman_rho"].to_list() == pytest.approx([row["spearman_rho"]])
        assert match["n"].to_list() == [row["n"]]
    pooled = run(qcon, "correlated_changes", biomarker="FAP", arm="pooled (arm-adjusted)")
    assert set(pooled["arm"]) == {"pooled (arm-adjusted)"}


def test_response_changes_match_analysis(qcon, results) -> None:
    frame = run(qcon, "response_changes")
    expected = results["response"]
    key = ["study_id", "arm", "biomarker"]
    assert_frame_equal(frame.sort(key), expected.select(frame.columns).sort(key))
    assert (
        run(qcon, "response_changes", biomarker="cd8").height
        == expected.filter(pl.col("biomarker") == "CD8").height
    )


def test_derived_runs(qcon, raw) -> None:
    frame = run(qcon, "derived_runs")
    # one run per derived table (one per result level) and study of the sample
    assert frame.height == raw["derived_runs"].height == len(LEVELS) * 2
    assert set(frame["lloq_policy"]) == {"half"}
    assert set(frame["fdr"]) == {"bh"}


def test_every_stored_result_table_is_known_to_the_sql_side(qcon) -> None:
    """Provenance and the console banner find every derived table a query reads."""
    assert set(DERIVED_TABLES.values()) == set(DERIVED_TABLE_NAMES)
    sql = "SELECT * FROM timepoint_friedman JOIN arm_summary USING (study_id)"
    context = query_context(qcon, sql)
    assert context["derived_tables_read"] == ["arm_summary", "timepoint_friedman"]
    assert {r["table_name"] for r in context["derived_runs"]} == {
        "arm_summary",
        "timepoint_friedman",
    }


def test_measurements_of_one_patient_or_biomarker(sample_db: Path) -> None:
    """The filtered reads give exactly the rows of the full read for that patient or
    biomarker (the screens for one patient or one biomarker read only those)."""
    con = connect(sample_db, read_only=True)
    try:
        every = catalog.measurements(con, "PDAC-DEF-2")
        patient = every["patient_id"][0]
        one_patient = catalog.measurements(con, "PDAC-DEF-2", patient_id=patient)
        one_marker = catalog.measurements(con, "PDAC-DEF-2", biomarker="CD8")
        both = catalog.measurements(con, "PDAC-DEF-2", patient_id=patient, biomarker="CD8")
        nobody = catalog.measurements(con, "PDAC-DEF-2", patient_id="NO-SUCH-PATIENT")
    finally:
        con.close()
    key = ["patient_id", "timepoint", "biomarker"]
    assert (
        one_patient.sort(key).rows()
        == every.filter(pl.col("patient_id") == patient).sort(key).rows()
    )
    assert (
        one_marker.sort(key).rows() == every.filter(pl.col("biomarker") == "CD8").sort(key).rows()
    )
    assert 0 < both.height < one_patient.height < every.height
    assert one_marker.height > 0 and nobody.height == 0 and nobody.columns == every.columns
