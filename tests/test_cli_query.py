"""``trialtui query`` through the real CLI in subprocesses, on real DuckDB files."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import assert_one_line_error
from polars.testing import assert_frame_equal

from trialtui.resources import queries_dir


@pytest.fixture(scope="module")
def derived_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample trial with derived tables, built once by ``trialtui sample``."""
    path = tmp_path_factory.mktemp("cli-query") / "sample.duckdb"
    subprocess.run(
        [sys.executable, "-m", "trialtui", "sample", "--db", str(path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return path


@pytest.fixture
def db(tmp_path: Path, derived_template: Path) -> Path:
    """A private copy of the sample with derived tables."""
    path = tmp_path / "trial.duckdb"
    shutil.copy(derived_template, path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def csv_frame(text: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), infer_schema_length=None)


def usage_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2 with one line on stderr holding ``fragments`` and no traceback."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert result.stdout == ""
    return lines[0]


def write_query(folder: Path, name: str, sql: str, header: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.sql"
    path.write_text(f"-- name: {name}\n-- description: {name} test\n{header}{sql}\n", "utf-8")
    return path


# ----------------------------------------------------------------------------- listing


def test_list_shows_every_bundled_query(run_cli) -> None:
    result = run_cli("query", "--list")
    assert result.returncode == 0, result.stderr
    names = sorted(p.stem for p in queries_dir().glob("*.sql"))
    assert len(names) >= 10
    for name in names:
        assert f"\n{name}\n" in f"\n{result.stdout}"
    assert "--param biomarker=<text>  (required)" in result.stdout
    assert "--param n=<integer>  (default 10)" in result.stdout
    assert "--param study=<text>  (optional)" in result.stdout
    assert result.stderr == ""


def test_list_as_json(run_cli) -> None:
    result = run_cli("query", "--list", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["top_changers"]["params"] == (
        "biomarker text -; n integer 10; direction text up; study text null; arm text null"
    )
    assert rows["top_changers"]["origin"] == "bundled"
    assert all(row["description"] for row in rows.values())


def test_list_with_a_query_is_a_usage_error(run_cli) -> None:
    usage_error(run_cli("query", "top_changers", "--list"), "not both")
    usage_error(run_cli("query"), "name a query")


# ----------------------------------------------------------------------------- running


def test_run_by_name_in_every_format(run_cli, db: Path) -> None:
    args = ("query", "top_changers", "--db", db, "--param", "biomarker=CD8", "-p", "n=3")
    table = run_cli(*args)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:3] == ["study_id", "rank", "patient_id"]
    assert len(table.stdout.splitlines()) == 2 + 6
    as_csv = csv_frame(run_cli(*args, "--format", "csv").stdout)
    as_json = pl.DataFrame(json.loads(run_cli(*args, "--format", "json").stdout))
    assert as_csv.height == 6
    assert as_csv["rank"].to_list() == [1, 2, 3, 1, 2, 3]
    assert_frame_equal(as_csv, as_json.select(as_csv.columns), check_dtypes=False)


def test_biomarker_changes_match_stats_patient_level(run_cli, db: Path) -> None:
    for study in ("PDAC-DEF-1", "PDAC-DEF-2"):
        stats = run_cli(
            "stats", "--db", db, "--study", study, "--level", "patient", "--format", "csv"
        )
        assert stats.returncode == 0, stats.stderr
        expected = csv_frame(stats.stdout).filter(pl.col("biomarker") == "FAP")
        query = run_cli(
            "query", "biomarker_changes", "--db", db, "--format", "csv",
            "-p", "biomarker=fap", "-p", f"study={study}",
        )  # fmt: skip
        assert query.returncode == 0, query.stderr
        got = csv_frame(query.stdout)
        key = ["patient_id"]
        columns = ["patient_id", "arm", "pre", "post", "fc", "log2fc"]
        columns += ["pre_imputed", "post_imputed"]
        assert got.height == expected.height > 0
        assert_frame_equal(
            got.select(columns).sort(key), expected.select(columns).sort(key), check_exact=False
        )


def test_run_any_file_by_path(run_cli, db: Path, tmp_path: Path) -> None:
    path = write_query(
        tmp_path / "mine",
        "count_by_arm",
        "SELECT arm_id AS arm, count(*) AS n FROM patients WHERE study_id = $study "
        "GROUP BY ALL ORDER BY arm",
        "-- param: study text PDAC-DEF-2 the study\n",
    )
    result = run_cli("query", path, "--db", db, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert csv_frame(result.stdout).rows() == [
        ("Defactinib + Pembrolizumab", 20),
        ("Pembrolizumab", 20),
    ]


def test_paired_completeness_matches_info(run_cli, db: Path) -> None:
    result = run_cli(
        "query", "paired_completeness", "--db", db, "-p", "study=PDAC-DEF-1", "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    frame = csv_frame(result.stdout)
    info = run_cli("info", "--db", db, "--study", "PDAC-DEF-1")
    assert info.returncode == 0, info.stderr
    completeness = info.stdout.split("paired completeness")[1]
    for row in frame.iter_rows(named=True):
        line = next(ln for ln in completeness.splitlines() if ln.startswith(row["biomarker"] + " "))
        numbers = [int(x) for x in line.split() if x.isdigit()]
        assert numbers == [
            row["n_patients"], row["n_baseline"], row["n_on_treatment"], row["n_paired"]
        ]  # fmt: skip


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "value", ["x' OR 1=1 --", "CD8' OR '1'='1", "'; DROP TABLE measurements; --"]
)
def test_injection_is_data(run_cli, db: Path, value: str) -> None:
    before = digest(db)
    result = run_cli(
        "query", "biomarker_changes", "--db", db, "--format", "csv", "--param", f"biomarker={value}"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert csv_frame(result.stdout).height == 0
    assert digest(db) == before


@pytest.mark.parametrize(
    ("params", "fragments"),
    [
        ([], ["missing required parameter", "biomarker (text)", "top_changers"]),
        (["biomarker=CD8", "n=ten"], ["parameter 'n'", "integer", "'ten'"]),
        (["biomarker=CD8", "n=2.5"], ["parameter 'n'", "integer"]),
        (["biomarker=CD8", "color=red"], ["unknown parameter 'color'", "parameters: biomarker"]),
        (["biomarker=CD8", "n"], ["--param 'n'", "NAME=VALUE"]),
        (["biomarker=CD8", "biomarker=FAP"], ["--param biomarker given twice"]),
    ],
)
def test_parameter_errors(run_cli, db: Path, params: list[str], fragments: list[str]) -> None:
    args = [arg for p in params for arg in ("--param", p)]
    usage_error(run_cli("query", "top_changers", "--db", db, *args), *fragments)


@pytest.mark.parametrize(
    ("query", "param", "fragment"),
    [
        ("collection_day_deviations", "days=many", "a finite number"),
        ("missing_on_treatment", "with_baseline_only=perhaps", "a boolean"),
        ("import_audit", "since=2024-31-01", "a date (YYYY-MM-DD)"),
    ],
)
def test_type_errors(run_cli, db: Path, query: str, param: str, fragment: str) -> None:
    name = param.split("=")[0]
    usage_error(run_cli("query", query, "--db", db, "-p", param), f"parameter '{name}'", fragment)


def test_typed_values_work(run_cli, db: Path) -> None:
    result = run_cli(
        "query", "import_audit", "--db", db, "-p", "since=2000-01-01", "-p", "status=loaded",
        "--format", "csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert csv_frame(result.stdout).height == 2
    result = run_cli(
        "query", "collection_day_deviations", "--db", db, "-p", "days=6.5", "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    assert (csv_frame(result.stdout)["deviation_days"].abs() > 6.5).all()


def test_unknown_query_and_missing_file(run_cli, db: Path, tmp_path: Path) -> None:
    usage_error(run_cli("query", "top_changer", "--db", db), "unknown query", "top_changers")
    usage_error(run_cli("query", tmp_path / "nope.sql", "--db", db), "no such query file")


# ----------------------------------------------------------------------------- errors


def test_missing_database(run_cli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.duckdb"
    assert_one_line_error(
        run_cli("query", "import_audit", "--db", missing), str(missing), "no such database"
    )
    assert not missing.exists()


def test_header_error_names_file_and_line(run_cli, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.sql"
    path.write_text("-- name: broken\n-- param: n int 3 how many\nSELECT $n\n", "utf-8")
    assert_one_line_error(run_cli("query", path, "--db", db), f"{path}:2:", "unknown type 'int'")


def test_sql_error_names_file_and_line(run_cli, db: Path, tmp_path: Path) -> None:
    path = write_query(tmp_path, "typo", "SELECT *\nFROM studies\nWHER 1 = 1")
    assert_one_line_error(
        run_cli("query", path, "--db", db), "query typo", str(path), "line 5", "syntax error"
    )


def test_derived_tables_missing(run_cli, sample_db: Path) -> None:
    assert_one_line_error(
        run_cli("query", "arm_summary", "--db", sample_db, "-p", "biomarker=CD8"),
        "arm_summary does not exist",
        "trialtui stats --store",
    )


# ----------------------------------------------------------------------------- refusals

REFUSED = {
    "insert": "INSERT INTO studies (study_id) VALUES ('X')",
    "update": "UPDATE patients SET response = 'CR'",
    "delete": "DELETE FROM measurements",
    "create": "CREATE TABLE t AS SELECT 1 AS a",
    "drop": "DROP TABLE measurements",
    "alter": "ALTER TABLE studies ADD COLUMN x INTEGER",
    "copy": "COPY (SELECT 1) TO '{out}'",
    "copy_table": "COPY measurements TO '{out}'",
    "attach": "ATTACH '{out}' AS other",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
    "read_parquet": "SELECT * FROM read_parquet('{outside}')",
    "set": "SET enable_external_access = true",
    "set_lock": "SET lock_configuration = false",
    "pragma": "PRAGMA enable_profiling",
}


@pytest.mark.parametrize("key", list(REFUSED))
def test_refused_statements(run_cli, db: Path, tmp_path: Path, key: str) -> None:
    out = tmp_path / "created.out"
    outside = tmp_path / "outside.parquet"
    duckdb.sql(f"COPY (SELECT 42 AS answer) TO '{outside}'")
    home = tmp_path / "home"
    home.mkdir()
    path = write_query(tmp_path, "attempt", REFUSED[key].format(out=out, outside=outside))
    tables, before = all_tables(db), digest(db)
    result = run_cli("query", path, "--db", db, env={"HOME": str(home)})
    line = assert_one_line_error(result, "query attempt", str(path), "refused")
    assert result.stdout == ""
    assert not out.exists(), line
    assert list(home.iterdir()) == []  # no extension folder, no secrets
    assert digest(db) == before
    assert all_tables(db) == tables


# ----------------------------------------------------------------------------- query folders


def test_queries_dir_and_user_config_dir_override(
    run_cli, db: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    user = Path(cli_env["XDG_CONFIG_HOME"]) / "trialtui" / "queries"
    write_query(user, "top_changers", "SELECT 'user' AS source")
    write_query(user, "mine", "SELECT 'user' AS source")
    extra = tmp_path / "team"
    write_query(extra, "mine", "SELECT 'team' AS source")

    result = run_cli("query", "top_changers", "--db", db, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["source", "user"]
    result = run_cli("query", "mine", "--db", db, "--format", "csv", "--queries", extra)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["source", "team"]

    listing = run_cli("query", "--list", "--queries", extra, "--format", "json")
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["top_changers"]["origin"] == "user"
    assert rows["mine"]["origin"] == "extra"
    assert rows["arm_summary"]["origin"] == "bundled"

    usage_error(run_cli("query", "--list", "--queries", tmp_path / "absent"), "no such folder")


def test_broken_user_file_is_skipped_with_a_warning(
    run_cli, db: Path, cli_env: dict[str, str]
) -> None:
    user = Path(cli_env["XDG_CONFIG_HOME"]) / "trialtui" / "queries"
    user.mkdir(parents=True)
    (user / "broken.sql").write_text("-- param: x nope - y\nSELECT 1\n", "utf-8")
    result = run_cli("query", "import_audit", "--db", db, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert "warning: skipped" in result.stderr and "broken.sql:1" in result.stderr
    assert csv_frame(result.stdout).height == 2


# ----------------------------------------------------------------------------- export


def test_output_with_provenance_and_force(run_cli, db: Path, tmp_path: Path) -> None:
    target = tmp_path / "below.csv"
    sidecar = tmp_path / "below.csv.provenance.json"
    args = ("query", "below_lloq", "--db", db, "-p", "study=PDAC-DEF-2", "-o", target)
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "wrote 10 rows" in result.stderr
    frame = csv_frame(target.read_text("utf-8"))
    assert frame.height == 10 and set(frame["study_id"]) == {"PDAC-DEF-2"}

    record = json.loads(sidecar.read_text("utf-8"))
    assert record["level"] == "query:below_lloq"
    assert record["study_id"] == "PDAC-DEF-2"
    assert record["settings"] == {"study": "PDAC-DEF-2", "biomarker": None}
    assert record["row_count"] == 10
    assert record["database"] == str(db.resolve())
    assert record["query"]["sql"] == (queries_dir() / "below_lloq.sql").read_text("utf-8")
    assert record["query"]["file"] == str(queries_dir() / "below_lloq.sql")
    assert [s["study_id"] for s in record["source_files"]] == ["PDAC-DEF-2"]
    assert all(len(s["sha256"]) == 64 for s in record["source_files"])

    stamp = target.read_bytes(), sidecar.read_bytes()
    again = run_cli(*args[:-2], "-p", "biomarker=TREG", "-o", target)
    usage_error(again, "already exists", "--force")
    assert (target.read_bytes(), sidecar.read_bytes()) == stamp

    forced = run_cli(*args[:-2], "-p", "biomarker=TREG", "-o", target, "--force")
    assert forced.returncode == 0, forced.stderr
    frame = csv_frame(target.read_text("utf-8"))
    assert set(frame["biomarker"]) == {"TREG"}
    record = json.loads(sidecar.read_text("utf-8"))
    assert record["settings"] == {"study": "PDAC-DEF-2", "biomarker": "TREG"}
    assert record["row_count"] == frame.height
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_output_with_typed_settings(run_cli, db: Path, tmp_path: Path) -> None:
    target = tmp_path / "audit.csv"
    result = run_cli("query", "import_audit", "--db", db, "-p", "since=2001-02-03", "-o", target)
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "audit.csv.provenance.json").read_text("utf-8"))
    assert record["settings"] == {"study": None, "status": None, "since": "2001-02-03"}
    assert record["study_id"] is None
    assert len(record["source_files"]) == 2


# ----------------------------------------------------------------------------- large results

# more rows than KEEP_ROWS: CSV output comes from rows kept in DuckDB, never one frame
LARGE = (
    "SELECT i, i * 0.37 AS x, [i, i + 1] AS pair, 'p' || (i % 7) AS label "
    "FROM range(250001) t(i) ORDER BY i DESC"
)


def test_large_csv_equals_the_frames_to_stdout_and_to_a_file(
    run_cli, db: Path, tmp_path: Path
) -> None:
    from trialtui.formatting import flatten_nested
    from trialtui.store.queryfiles import KEEP_ROWS, open_query_connection, run_query

    query = write_query(tmp_path / "q", "large", LARGE)
    con = open_query_connection(db)
    try:
        frame = run_query(con, LARGE)
    finally:
        con.close()
    assert frame.height > KEEP_ROWS
    want = flatten_nested(frame).write_csv()
    shown = run_cli("query", str(query), "--db", str(db), "--format", "csv")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == want
    target = tmp_path / "large.csv"
    written = run_cli("query", str(query), "--db", str(db), "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert target.read_text(encoding="utf-8") == want
    provenance = json.loads((tmp_path / "large.csv.provenance.json").read_text())
    assert provenance["row_count"] == frame.height
    assert provenance["query"]["sql"].strip().endswith("ORDER BY i DESC")


def test_large_csv_to_a_reader_that_stops_early(db: Path, tmp_path: Path) -> None:
    query = write_query(tmp_path / "q", "large", LARGE)
    command = [sys.executable, "-m", "trialtui", "query", str(query), "--db", str(db)]
    shell = subprocess.run(
        ["bash", "-c", f"{' '.join(command)} --format csv | head -n 2; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stderr == ""
    assert shell.stdout.splitlines()[1].startswith("250000,")
