"""One source of truth in the app: per-study settings, stored results that follow Apply,
the SQL console's note on stored settings, truthful provenance and commands, the heatmap,
single-arm studies, and noticing a database changed by another process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from conftest import imported
from polars.testing import assert_frame_equal
from rich.text import Text
from textual.widgets import Input, Select, Static, TextArea

from trialtui.analysis import AnalysisSettings
from trialtui.analysis.correlation import BLOCK_PAIRS_ONLY
from trialtui.store.connection import connect
from trialtui.study import compute, load_study, store_results
from trialtui.tui.app import TrialApp
from trialtui.tui.screens.console import ConsoleScreen
from trialtui.tui.screens.correlations import CorrelationsScreen
from trialtui.tui.screens.settings import SettingsScreen
from trialtui.tui.widgets.frame_table import FrameTable
from trialtui.tui.widgets.plots import heatmap_text

SIZE = (120, 36)
STUDY = "PDAC-DEF-2"
SINGLE = "PDAC-DEF-1"
COMBINATION = "Defactinib + Pembrolizumab"


pytestmark = pytest.mark.usefixtures("private_dirs")  # user folders in tmp_path


@pytest.fixture
def db(sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample (Apply writes to it), with each study's results under
    the default settings stored as ``trialtui sample`` stores them."""
    path = Path(shutil.copy(sample_db, tmp_path / "trial.duckdb"))
    for study in (STUDY, SINGLE):
        con = connect(path, read_only=True)
        try:
            data = load_study(con, study)
        finally:
            con.close()
        store_results(path, compute(data, AnalysisSettings()))
    return path


def expected(path: Path, study: str, settings: AnalysisSettings) -> dict[str, pl.DataFrame]:
    con = connect(path, read_only=True)
    try:
        data = load_study(con, study)
    finally:
        con.close()
    return compute(data, settings).frames


def stored(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


async def settle(app: TrialApp, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def correlations(app: TrialApp, pilot) -> CorrelationsScreen:
    """The app settled on the Correlations screen (key 5), its pairs computed."""
    await settle(app, pilot)
    await pilot.press("5")
    await settle(app, pilot)
    assert isinstance(app.screen, CorrelationsScreen)
    return app.screen


async def apply_settings(app: TrialApp, pilot, **values: str) -> None:
    await pilot.press("7")
    await settle(app, pilot)
    assert isinstance(app.screen, SettingsScreen)
    for field, value in values.items():
        app.screen.query_one(f"#set-{field}", Select).value = value
    await pilot.click("#apply")
    await settle(app, pilot)


async def run_sql(app: TrialApp, pilot, sql: str) -> ConsoleScreen:
    await pilot.press("6")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ConsoleScreen)
    screen.query_one("#sql-editor", TextArea).text = sql
    await pilot.press("ctrl+r")
    await settle(app, pilot)
    return screen


ARM_N_SQL = (
    "SELECT biomarker, n_pairs, gmean_fc FROM arm_summary "
    f"WHERE study_id = '{STUDY}' AND arm = '{COMBINATION}' ORDER BY biomarker"
)


async def test_apply_stores_results_the_sql_console_reads(db: Path, tmp_path: Path) -> None:
    exclude = AnalysisSettings(lloq_policy="exclude")
    want = expected(db, STUDY, exclude)["arm"].filter(pl.col("arm") == COMBINATION)
    before = stored(db, ARM_N_SQL)
    assert [r[1] for r in before] != want.sort("biomarker")["n_pairs"].to_list()
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await apply_settings(app, pilot, lloq="exclude")
        assert app.store_error is None
        screen = await run_sql(app, pilot, ARM_N_SQL)
        shown = screen.query_one("#sql-results", FrameTable).frame
        assert shown["n_pairs"].to_list() == want.sort("biomarker")["n_pairs"].to_list()
        assert not screen.query_one("#stored-banner", Static).display  # same settings
        target = tmp_path / "sql.csv"
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-ok")
        await pilot.pause()
    # every derived table of the study was written by one Apply, with the same settings
    runs = stored(
        db, "SELECT table_name, settings_json FROM derived_runs WHERE study_id = ?", [STUDY]
    )
    assert {r[0] for r in runs} == {
        "fold_changes",
        "arm_summary",
        "arm_comparison",
        "change_correlation",
        "response_comparison",
        "timepoint_friedman",
    }
    assert {json.loads(r[1])["lloq_policy"] for r in runs} == {"exclude"}
    correlation = stored(db, "SELECT count(*) FROM change_correlation WHERE study_id = ?", [STUDY])
    assert correlation[0][0] == expected(db, STUDY, exclude)["correlation"].height
    # the export says what the stored rows were made with, not what the screen shows
    record = json.loads(target.with_name("sql.csv.provenance.json").read_text())
    assert record["settings"] == {}
    assert record["query"]["sql"] == ARM_N_SQL
    assert record["derived_tables_read"] == ["arm_summary"]
    runs_read = {r["study_id"]: r for r in record["derived_runs"]}
    assert runs_read[STUDY]["table_name"] == "arm_summary"
    assert runs_read[STUDY]["settings"]["lloq_policy"] == "exclude"
    assert runs_read[SINGLE]["settings"]["lloq_policy"] == "half"  # untouched study
    assert len(record["source_files"]) == 2


async def test_read_only_database_says_so_and_console_shows_stored_settings(db: Path) -> None:
    app = TrialApp(db, study=STUDY, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await apply_settings(app, pilot, lloq="exclude")
        assert app.results is not None and app.results.settings.lloq_policy == "exclude"
        assert app.store_error is not None and "read-only" in app.store_error
        assert "\n" not in app.store_error
        await pilot.press("6")
        await settle(app, pilot)
        banner = app.screen.query_one("#stored-banner", Static)
        assert banner.display and "results not stored" in str(banner.render())
        screen = await run_sql(app, pilot, ARM_N_SQL)
        banner = screen.query_one("#stored-banner", Static)
        assert banner.display
        text = str(banner.render())
        assert "arm_summary holds other settings for PDAC-DEF-2" in text
        assert "lloq_policy half (screen: exclude)" in text
    assert {
        json.loads(r[0])["lloq_policy"]
        for r in stored(db, "SELECT settings_json FROM derived_runs")
    } == {"half"}


async def test_each_study_keeps_its_own_settings(db: Path) -> None:
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await apply_settings(app, pilot, lloq="exclude", reference=COMBINATION)
        assert app.results.reference_arm == COMBINATION
        await pilot.press("1")
        await settle(app, pilot)
        app.screen.query_one("#study-select", Select).value = SINGLE
        await settle(app, pilot)
        assert app.last_error is None
        assert app.results.study_id == SINGLE
        assert app.results.settings == AnalysisSettings()  # its defaults, nothing carried
        await pilot.press("7")
        await settle(app, pilot)
        options = app.screen.query_one("#set-reference", Select)._options
        assert [v for _, v in options if isinstance(v, str)] == [
            "Defactinib + Pembrolizumab + Gemcitabine"
        ]
        points = app.screen.query_one("#set-timepoint", Select)._options
        assert [v for _, v in points if isinstance(v, str)] == ["C2D1", "Surgery"]
        await apply_settings(app, pilot, timepoint="Surgery")
        assert app.results.pairing.timepoint == "Surgery"
        await pilot.press("1")
        await settle(app, pilot)
        app.screen.query_one("#study-select", Select).value = STUDY
        await settle(app, pilot)
        assert app.last_error is None
        assert app.results.study_id == STUDY
        assert app.results.settings.lloq_policy == "exclude"
        assert app.results.reference_arm == COMBINATION
        assert app.results.reference_reason == "chosen"
        app.screen.query_one("#study-select", Select).value = SINGLE
        await settle(app, pilot)
        assert app.results.pairing.timepoint == "Surgery"


async def test_command_palette_opens_a_study(db: Path) -> None:
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Study: PDAC-DEF-1")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.results.study_id == SINGLE


async def test_show_command_reproduces_the_arms_table(db: Path, tmp_path: Path) -> None:
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await apply_settings(app, pilot, lloq="exclude", fdr="holm")
        await pilot.press("3")
        await settle(app, pilot)
        shown = app.screen.query_one("#arms-summary", FrameTable).frame
        await pilot.press("ctrl+g")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
    line = next(n for n in notes if n.startswith("trialtui stats"))
    argv = line.split()
    assert argv[argv.index("--level") + 1] == "arm"
    assert argv[argv.index("--lloq") + 1] == "exclude"
    import shlex

    command = shlex.split(line)
    result = subprocess.run(
        [sys.executable, "-m", "trialtui", *command[1:]],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    from io import StringIO

    rerun = pl.read_csv(StringIO(result.stdout))
    assert rerun["n_pairs"].to_list() == shown["n_pairs"].to_list()
    assert rerun["q_wilcoxon"].to_list() == pytest.approx(
        shown["q_wilcoxon"].to_list(), rel=1e-12, nan_ok=True
    )


def test_heatmap_labels_meet_at_the_strong_cell() -> None:
    """Only A-C is strongly correlated (and B-D strongly anti-correlated): the rendered
    text must put the strong cells where row A meets column C's number and vice versa."""
    names = ["A", "B", "C", "D"]
    rho = {
        ("A", "B"): 0.01,
        ("A", "C"): 0.93,
        ("A", "D"): 0.02,
        ("B", "C"): 0.03,
        ("B", "D"): -0.81,
        ("C", "D"): 0.04,
    }
    corr = pl.DataFrame(
        [(x, y, r) for (x, y), r in rho.items()],
        schema=["biomarker_x", "biomarker_y", "spearman_rho"],
        orient="row",
    )
    lines = heatmap_text(corr, names, "rho, arm X", width=60).plain.splitlines()
    assert lines[0] == "rho, arm X"
    header = lines[1].split()
    assert header == ["1", "2", "3", "4"]
    rows = {}
    for line in lines[2:6]:
        number, name, *cells = line.split()
        rows[name] = (int(number), cells)
    assert [rows[n][0] for n in names] == [1, 2, 3, 4]  # numbered top to bottom

    def meet(value: str) -> set[tuple[str, str]]:
        return {
            (name, names[int(header[j]) - 1])
            for name, (_, cells) in rows.items()
            for j, cell in enumerate(cells)
            if cell == value
        }

    assert meet("+.93") == {("A", "C"), ("C", "A")}
    assert meet("-.81") == {("B", "D"), ("D", "B")}
    assert meet("1.0") == {(n, n) for n in names}
    assert lines[-1].split() == ["scale", "-1.0", "-0.5", "0", "+0.5", "+1.0"]


def test_heatmap_of_many_biomarkers_shows_the_strongest() -> None:
    from trialtui.tui.widgets.plots import heatmap_biomarkers

    names = [f"M{i:02d}" for i in range(60)]
    pairs = [
        (a, b, 0.9 if (a, b) == ("M10", "M50") else 0.01)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    corr = pl.DataFrame(pairs, schema=["biomarker_x", "biomarker_y", "spearman_rho"], orient="row")
    shown = heatmap_biomarkers(corr, names, limit=40)
    assert len(shown) == 40 and "M10" in shown and "M50" in shown
    text = heatmap_text(corr, shown, "t", width=200, total=60).plain
    assert "40 of 60 biomarkers" in text


async def test_correlations_screen_opens_on_first_arm_with_heatmap(
    db: Path, tmp_path: Path
) -> None:
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await correlations(app, pilot)
        assert screen.arm == COMBINATION
        heatmap = screen.query_one("#corr-heatmap", Static)
        assert heatmap.display
        text = str(heatmap.render())
        assert f"Spearman rho of log2FC, {COMBINATION}" in text and "scale" in text
        values = [v for _, v in screen.query_one("#corr-arm", Select)._options]
        assert "pooled (arm-adjusted)" in values
        target = tmp_path / "corr.csv"
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-ok")
        await pilot.pause()
    record = json.loads(target.with_name("corr.csv.provenance.json").read_text())
    assert record["row_count"] == 45
    assert record["rows_note"] == "45 of the 135 rows the command writes (chosen on screen)"
    assert record["command"][record["command"].index("--level") + 1] == "correlation"


async def test_single_arm_study_through_every_screen(db: Path) -> None:
    app = TrialApp(db, study=SINGLE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        overview = app.screen
        title = str(overview.query_one("#study-title", Static).render())
        assert "single arm" in title and "reference" not in title
        arms = overview.query_one("#arms-table", FrameTable).frame
        assert arms["role"].to_list() == [""]
        assert "within arm" in str(overview.query_one("#findings-label").render())
        findings = overview.query_one("#findings-table", FrameTable).frame
        assert findings.height > 0 and (findings["q_wilcoxon"] < 0.05).all()
        for keys in ("2", "3", "4", "v", "5", "6", "7"):
            await pilot.press(keys)
            await settle(app, pilot)
            assert app.last_error is None, keys
            assert app.is_running, keys
        await pilot.press("5")
        await settle(app, pilot)
        values = [
            v for _, v in app.screen.query_one("#corr-arm", Select)._options if isinstance(v, str)
        ]
        assert values == ["Defactinib + Pembrolizumab + Gemcitabine"]
        assert set(app.results.level("correlation")["arm"]) == {
            "Defactinib + Pembrolizumab + Gemcitabine"
        }
        await pilot.press("7")
        await settle(app, pilot)
        assert app.screen.query_one("#set-reference", Select).disabled


CONTROL_CSV = """\
study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
T,P1,Drug,pre,true,M,10
T,P1,Drug,post,false,M,20
T,P2,Placebo,pre,true,M,10
T,P2,Placebo,post,false,M,9
T,P3,Drug,pre,true,M,12
T,P3,Drug,post,false,M,30
T,P4,Placebo,pre,true,M,9
T,P4,Placebo,post,false,M,10
T,P5,Drug,pre,true,M,8
T,P5,Drug,post,false,M,20
T,P6,Placebo,pre,true,M,11
T,P6,Placebo,post,false,M,11
"""


async def test_overview_shows_the_reference_arm_with_its_reason(tmp_path: Path) -> None:
    path = imported(tmp_path, "t", CONTROL_CSV)
    app = TrialApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        title = str(app.screen.query_one("#study-title", Static).render())
        assert "reference: Placebo (name)" in title
        roles = app.screen.query_one("#arms-table", FrameTable).frame
        assert dict(zip(roles["arm"], roles["role"], strict=True)) == {
            "Drug": "",
            "Placebo": "reference (name)",
        }
        comparison = app.results.level("comparison")
        assert comparison["arm"].to_list() == ["Drug"]  # Drug vs Placebo, not inverted


NEW_BIOMARKER_CSV = """\
study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
PDAC-DEF-2,{p1},{arm},Baseline,true,NEWMARK,10
PDAC-DEF-2,{p1},{arm},Surgery,false,NEWMARK,20
"""


async def test_app_notices_an_import_by_another_process(db: Path, tmp_path: Path) -> None:
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        patient = app.data.patients.row(0, named=True)
        assert "NEWMARK" not in app.data.biomarkers["biomarker"].to_list()
        before = len(app.results.sources)
        source = tmp_path / "new.csv"
        source.write_text(
            NEW_BIOMARKER_CSV.format(p1=patient["patient_id"], arm=patient["arm"]),
            encoding="utf-8",
        )
        done = subprocess.run(
            [sys.executable, "-m", "trialtui", "import", str(source), "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("ctrl+e")  # export refuses stale numbers and reloads
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert any("the database changed: 1 new import" in n for n in notes), notes
        assert not app.screen.is_modal
        assert "NEWMARK" in app.data.biomarkers["biomarker"].to_list()
        assert len(app.results.sources) == before + 1
        target = tmp_path / "arms.csv"
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-ok")
        await pilot.pause()
    exported = pl.read_csv(target)
    assert "NEWMARK" in exported["biomarker"].to_list()
    record = json.loads(target.with_name("arms.csv.provenance.json").read_text())
    assert [s["source_file"] for s in record["source_files"]][-1].endswith("new.csv")
    assert len(record["source_files"]) == before + 1
    assert record["command"][:2] == ["trialtui", "stats"]
    assert record["settings"]["reference_arm_reason"] == "study metadata"


async def test_apply_after_an_import_reloads_with_a_note(db: Path, tmp_path: Path) -> None:
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        patient = app.data.patients.row(0, named=True)
        source = tmp_path / "new.csv"
        source.write_text(
            NEW_BIOMARKER_CSV.format(p1=patient["patient_id"], arm=patient["arm"]),
            encoding="utf-8",
        )
        done = subprocess.run(
            [sys.executable, "-m", "trialtui", "import", str(source), "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        await apply_settings(app, pilot, fdr="holm")
        notes = [n.message for n in app._notifications]
        assert any("1 new import" in n for n in notes), notes
        assert "NEWMARK" in app.results.level("arm")["biomarker"].to_list()
        want = expected(db, STUDY, AnalysisSettings(fdr="holm"))["arm"]
        assert_frame_equal(app.results.level("arm"), want)


async def test_a_setting_the_study_lacks_is_reset_with_a_note(db: Path) -> None:
    chosen = AnalysisSettings(reference_arm="Pembrolizumab", timepoint="Surgery", fdr="holm")
    app = TrialApp(db, study=SINGLE, settings=chosen)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.last_error is None
        assert app.results.settings == chosen.with_changes(reference_arm=None)
        notes = [n.message for n in app._notifications]
        assert any(
            "PDAC-DEF-1 has no arm 'Pembrolizumab'" in n and "default" in n for n in notes
        ), notes


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def test_storing_into_a_locked_database_is_one_line(db: Path) -> None:
    con = connect(db, read_only=True)
    try:
        results = compute(load_study(con, STUDY), AnalysisSettings(lloq_policy="exclude"))
    finally:
        con.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        from trialtui.errors import StoreError

        with pytest.raises(StoreError) as caught:
            store_results(db, results)
        assert "locked by another process" in str(caught.value)
        assert "\n" not in str(caught.value)
    finally:
        holder.kill()
        holder.wait()
    runs = stored(db, "SELECT DISTINCT settings_json FROM derived_runs")
    assert {json.loads(r[0])["lloq_policy"] for r in runs} == {"half"}


def test_cli_provenance_command_reproduces_the_export(db: Path, tmp_path: Path) -> None:
    def trialtui(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "trialtui", *args],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=tmp_path,
        )

    out = tmp_path / "cmp.csv"
    done = trialtui(
        "stats",
        "--db",
        str(db),
        "--study",
        STUDY,
        "--level",
        "comparison",
        "--lloq",
        "exclude",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(out.with_name("cmp.csv.provenance.json").read_text())
    command = record["command"]
    assert command[:2] == ["trialtui", "stats"]
    assert command[command.index("--reference-arm") + 1] == "Pembrolizumab"
    assert record["settings"]["reference_arm_reason"] == "study metadata"
    rerun = trialtui(*command[1:])
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout == out.read_text()


async def test_a_locked_database_keeps_the_open_study(db: Path) -> None:
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(db)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            app.screen.query_one("#study-select", Select).value = SINGLE
            await settle(app, pilot)
            assert app.last_error is not None and "locked by another process" in app.last_error
            assert "\n" not in app.last_error
            assert app.study_id == STUDY and app.results.study_id == STUDY
            assert app.screen.query_one("#study-select", Select).value == STUDY
        finally:
            holder.kill()
            holder.wait()
        app.open_study(SINGLE)
        await settle(app, pilot)
        assert app.results.study_id == SINGLE and app.last_error is None


def scattered_study_csv(patients: int = 40, biomarkers: int = 40) -> str:
    """A panel whose values are missing one at a time (each biomarker its own pattern of
    missing patients), with ties: the correlations take the compiled pair loop."""
    rng = np.random.default_rng(31)
    lines = ["study_id,patient_id,arm,timepoint,is_baseline,biomarker,value"]
    for p in range(patients):
        arm = "Drug" if p % 2 else "Placebo"
        for b in range(biomarkers):
            pre = round(float(rng.lognormal(3, 0.5)), 1)
            post = round(pre * float(rng.lognormal(0.3 if arm == "Drug" else 0, 0.4)), 1)
            for visit, baseline, value in (("Baseline", "true", pre), ("Week 6", "false", post)):
                if rng.random() < 0.05:
                    continue  # this value missing
                lines.append(f"OMICS,P{p:02d},{arm},{visit},{baseline},M{b:02d},{value}")
    return "\n".join(lines) + "\n"


async def test_correlations_screen_shows_the_compiled_loops_numbers(tmp_path: Path) -> None:
    """A panel with values missing one at a time: the Correlations screen shows, per arm
    and pooled, the numbers the command line writes, every pair of every arm."""
    path = imported(tmp_path, "omics", scattered_study_csv())
    want = expected(path, "OMICS", AnalysisSettings())["correlation"]
    patterns = want.filter(pl.col("arm") == "Drug").group_by("n").len()
    assert patterns.height > 5  # pairs share different numbers of patients
    assert BLOCK_PAIRS_ONLY < 40 * 41 // 2  # one block per biomarker: too many
    app = TrialApp(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await correlations(app, pilot)
        table = screen.query_one("#pairs-table", FrameTable)
        for arm in ("Drug", "Placebo", "pooled (arm-adjusted)"):
            screen.query_one("#corr-arm", Select).value = arm
            await settle(app, pilot)
            shown = table.frame.select("biomarker_x", "biomarker_y", "n", "spearman_rho", "q")
            assert shown.height == 40 * 39 // 2
            assert_frame_equal(
                shown.sort("biomarker_x", "biomarker_y"),
                want.filter(pl.col("arm") == arm)
                .select(shown.columns)
                .sort("biomarker_x", "biomarker_y"),
            )


async def test_correlations_screen_follows_new_results_after_returning(db: Path) -> None:
    """Each arm's pairs are sorted once per set of results: returning to the screen or to
    an arm shows them again, and new settings show the new results' pairs."""
    holm = AnalysisSettings(fdr="holm")
    columns = ["biomarker_x", "biomarker_y", "spearman_rho", "q"]

    def want(settings: AnalysisSettings, arm: str) -> pl.DataFrame:
        frame = expected(db, STUDY, settings)["correlation"].filter(pl.col("arm") == arm)
        return frame.select(columns).sort("biomarker_x", "biomarker_y")

    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await correlations(app, pilot)
        for arm in ("pooled (arm-adjusted)", COMBINATION):
            screen.query_one("#corr-arm", Select).value = arm
            await settle(app, pilot)
        await pilot.press("3")
        screen = await correlations(app, pilot)
        shown = screen.query_one("#pairs-table", FrameTable).frame.select(columns)
        assert_frame_equal(shown.sort(columns[:2]), want(AnalysisSettings(), COMBINATION))
        await apply_settings(app, pilot, fdr="holm")
        screen = await correlations(app, pilot)
        table = screen.query_one("#pairs-table", FrameTable)
        assert screen.arm == COMBINATION
        assert_frame_equal(table.frame.select(columns).sort(columns[:2]), want(holm, COMBINATION))
        assert not want(holm, COMBINATION).equals(want(AnalysisSettings(), COMBINATION))


def _style_at(text: Text, offset: int):
    """The style last applied to the character at ``offset`` of ``text``."""
    found = None
    for span in text.spans:
        if span.start <= offset < span.end:
            found = span.style
    return found


def test_heatmap_column_numbers_stand_over_their_cells_when_cells_are_narrow() -> None:
    """Forty biomarkers in cells two columns wide: a number of two digits is written down
    its column (tens above units), so that every number stands over its own cells, and
    the one strong pair is coloured where its row meets its column's number."""
    names = [f"M{i:03d}" for i in range(40)]
    strong = ("M004", "M031")  # rows 5 and 32
    corr = pl.DataFrame(
        [
            (a, b, 0.95 if (a, b) == strong else 0.0)
            for i, a in enumerate(names)
            for b in names[i + 1 :]
        ],
        schema=["biomarker_x", "biomarker_y", "spearman_rho"],
        orient="row",
    )
    label = len("40 M004 ")
    width = label + 2 * 40
    text = heatmap_text(corr, names, "rho", width=width)
    lines = text.plain.splitlines()
    header, rows = lines[1:3], lines[3:43]
    for j in range(40):
        digits = "".join(line[label + 2 * j] for line in header).strip()
        assert digits == str(j + 1), j
    assert all(len(line) <= width for line in header + rows)
    offsets = np.cumsum([0] + [len(line) + 1 for line in lines])  # each line's start
    starts = {names[i]: offsets[3 + i] for i in range(40)}
    red, white = (255, 12, 12), (255, 255, 255)

    def colour(row: str, column: int) -> tuple[int, int, int]:
        style = _style_at(text, starts[row] + label + 2 * column)
        return style.bgcolor.triplet

    assert colour("M004", 31) == red and colour("M031", 4) == red
    assert colour("M004", 30) == white and colour("M005", 31) == white
    assert colour("M017", 17) == (255, 0, 0)  # the diagonal, rho = 1


@pytest.mark.parametrize(
    ("width", "height"), [(40, 21), (58, 33), (30, 14), (100, 60), (200, 80), (14, 10)]
)
def test_heatmap_fits_the_panel_it_is_drawn_in(width: int, height: int) -> None:
    """As many biomarkers as the panel shows whole: no row longer than the panel is wide
    (it would wrap and shift every cell after it), no line below its bottom, and one
    biomarker more would not fit."""
    from trialtui.tui.widgets.plots import heatmap_capacity

    names = [f"BIOMARKER{i:04d}" for i in range(1000)]
    corr = pl.DataFrame(
        {"biomarker_x": names[:-1], "biomarker_y": names[1:], "spearman_rho": [0.5] * 999}
    )
    title = "Spearman rho of log2FC, pooled (arm-adjusted)"
    n = heatmap_capacity(names, width, height, title)
    if width < 20:
        assert n == 0
        return
    assert 2 <= n <= 40
    lines = heatmap_text(corr, names[:n], title, width=width, total=1000).plain.splitlines()
    assert all(len(line) <= width for line in lines[1:-3])  # column numbers and rows
    assert sum(_wrapped(line, width) for line in lines) <= height
    if n < 40:  # one more would not fit
        more = heatmap_text(corr, names[: n + 1], title, width=width, total=1000).plain
        more_lines = more.splitlines()
        assert max(len(line) for line in more_lines[1:-3]) > width or (
            sum(_wrapped(line, width) for line in more_lines) > height
        )


def _wrapped(line: str, width: int) -> int:
    """Lines ``line`` can take on screen in ``width`` columns, wrapped at words."""
    return 1 if len(line) <= width else -(-len(line) // width) + 1


async def test_heatmap_laid_out_again_when_the_terminal_is_resized(db: Path) -> None:
    """At 80x24 the heatmap's cells are two wide, its column numbers written down; widened
    to 120x36 it stays on screen, laid out for the wider panel (cells twice as wide,
    numbers on one line), every row within the panel."""
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await correlations(app, pilot)
        heatmap = screen.query_one("#corr-heatmap", Static)
        narrow = str(heatmap.render()).splitlines()
        assert heatmap.display
        width = screen.query_one("#corr-view").size.width
        assert all(len(line) <= width for line in narrow[1 : narrow.index("")])  # the matrix
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        await pilot.pause()
        assert heatmap.display  # a resize is no move of the cursor: no scatter
        wide = str(heatmap.render()).splitlines()
        assert len(wide) == len(narrow) - 1  # the column numbers on one line
        label = len(narrow[-3]) - 2 * 10  # the last row: its label and ten cells of two
        assert {len(row) for row in wide[2:12]} == {label + 4 * 10}
        width = screen.query_one("#corr-view").size.width
        assert all(len(line) <= width for line in wide[1 : wide.index("")])


def test_heatmap_cells_too_narrow_for_a_signed_value_show_colours_only() -> None:
    """A value with its sign ("+.09", "-1.0") takes four characters and the space after
    it a fifth: in cells of four, values would push every later cell out from under its
    column's number. Colours only there; every row as long as the labels and cells."""
    names = [f"B{i}" for i in range(10)]
    corr = pl.DataFrame(
        [(a, b, 0.09) for i, a in enumerate(names) for b in names[i + 1 :]],
        schema=["biomarker_x", "biomarker_y", "spearman_rho"],
        orient="row",
    )
    label = len("10 B0   ")  # names padded to four
    for cell in (2, 3, 4, 5):
        rows = heatmap_text(corr, names, "t", width=label + cell * 10).plain.splitlines()[2:12]
        assert {len(row) for row in rows} == {label + cell * 10}, cell
        assert ("+.09" in rows[0]) == (cell == 5)


@pytest.mark.parametrize(
    ("study", "rule", "column", "level"),
    [
        (STUDY, "smallest between-arm q (Welch)", "q_welch", "comparison"),
        (SINGLE, "smallest within-arm p (paired t)", "p_ttest", "arm"),
    ],
)
async def test_patients_say_which_biomarkers_their_changes_show(
    db: Path, study: str, rule: str, column: str, level: str
) -> None:
    """The Patients table shows the log2FC of three biomarkers: the screen says how they
    were chosen, and no biomarker left out has a smaller q (p) than one shown."""
    app = TrialApp(db, study=study)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        note = " ".join(str(app.screen.query_one("#key-biomarkers", Static).render()).split())
        assert note == f"log2FC shown for the 3 biomarkers of {rule}"
        table = app.screen.query_one("#patients-table", FrameTable)
        shown = [c.name.removeprefix("log2fc_") for c in table.columns_shown if "log2fc" in c.name]
    frame = expected(db, study, AnalysisSettings())[level]
    best = frame.group_by("biomarker").agg(pl.col(column).min())
    assert len(shown) == 3
    worst_shown = best.filter(pl.col("biomarker").is_in(shown))[column].max()
    assert best.filter(~pl.col("biomarker").is_in(shown))[column].min() >= worst_shown
