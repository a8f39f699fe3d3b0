"""Read-side queries: what a trialtui database holds, as Polars frames."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb
import numpy as np
import polars as pl

from trialtui.errors import UsageError
from trialtui.store.sql import fetch_frame, fetch_row


def studies(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Columns: study_id, title, indication, phase, design, source, n_arms, n_patients."""
    return fetch_frame(
        con,
        """
        SELECT s.study_id, s.title, s.indication, s.phase, s.design, s.source,
               (SELECT count(*) FROM arms a WHERE a.study_id = s.study_id) AS n_arms,
               (SELECT count(*) FROM patients p WHERE p.study_id = s.study_id) AS n_patients
        FROM studies s ORDER BY s.study_id
        """,
    )


def resolve_study(con: duckdb.DuckDBPyConnection, study: str | None) -> str:
    """The study to work on: ``study`` if it exists, else the only study in the database."""
    ids = [r[0] for r in con.execute("SELECT study_id FROM studies ORDER BY 1").fetchall()]
    if study is not None:
        if study not in ids:
            known = ", ".join(ids) or "none"
            raise UsageError(f"unknown study '{study}' (studies: {known})")
        return study
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise UsageError("the database holds no study yet; import a file first")
    raise UsageError(
        f"the database holds several studies ({', '.join(ids)}); choose one with --study"
    )


def arms(con: duckdb.DuckDBPyConnection, study_id: str) -> pl.DataFrame:
    """Columns: study_id, arm, label, description, is_reference, n_patients; in the order
    the arms were first imported."""
    return fetch_frame(
        con,
        """
        SELECT a.study_id, a.arm_id AS arm, a.label, a.description, a.is_reference,
               count(p.patient_id) AS n_patients
        FROM arms a LEFT JOIN patients p USING (study_id, arm_id)
        WHERE a.study_id = ?
        GROUP BY a.rowid, a.study_id, a.arm_id, a.label, a.description, a.is_reference
        ORDER BY a.rowid
        """,
        [study_id],
    )


def timepoints(con: duckdb.DuckDBPyConnection, study_id: str) -> pl.DataFrame:
    """Columns: study_id, timepoint, ordinal, is_baseline, nominal_day, n_samples."""
    return fetch_frame(
        con,
        """
        SELECT t.study_id, t.timepoint, t.ordinal, t.is_baseline, t.nominal_day,
               count(s.sample_id) AS n_samples
        FROM timepoints t LEFT JOIN samples s USING (study_id, timepoint)
        WHERE t.study_id = ? GROUP BY ALL ORDER BY t.ordinal
        """,
        [study_id],
    )


def biomarkers(con: duckdb.DuckDBPyConnection, study_id: str | None = None) -> pl.DataFrame:
    """The biomarkers measured in a study (``study_id`` None: in every study).

    Columns: study_id, biomarker, label, assay, compartment, unit, lloq, n_values (values
    in that study). Each study keeps its own definition of a biomarker.
    """
    return fetch_frame(
        con,
        """
        WITH counted AS (
            SELECT study_id, biomarker_id,
                   (count(value) + count_if(below_lloq))::BIGINT AS n_values
            FROM measurements WHERE $study IS NULL OR study_id = $study
            GROUP BY study_id, biomarker_id
        )
        SELECT b.study_id, b.biomarker_id AS biomarker, b.label, b.assay, b.compartment,
               b.unit, b.lloq, c.n_values
        FROM biomarkers b JOIN counted c USING (study_id, biomarker_id)
        ORDER BY b.biomarker_id, b.study_id
        """,
        {"study": study_id},
    )


def unit_differences(con: duckdb.DuckDBPyConnection, study_id: str | None = None) -> pl.DataFrame:
    """Biomarker ids that two studies measure in different units (both known).

    Columns: biomarker, study_id, unit, other_study_id, other_unit; with ``study_id``,
    only the rows of that study (each pair of studies appears from both sides).
    """
    return fetch_frame(
        con,
        """
        SELECT a.biomarker_id AS biomarker, a.study_id, a.unit,
               b.study_id AS other_study_id, b.unit AS other_unit
        FROM biomarkers a
        JOIN biomarkers b ON b.biomarker_id = a.biomarker_id AND b.study_id <> a.study_id
        WHERE a.unit <> b.unit AND (? IS NULL OR a.study_id = ?)
        ORDER BY 1, 2, 4
        """,
        [study_id, study_id],
    )


def describe_unit_differences(con: duckdb.DuckDBPyConnection, study_id: str) -> list[str]:
    """One line per biomarker of ``study_id`` that another study measures in another unit."""
    lines = []
    differences = unit_differences(con, study_id)
    for (marker,), group in differences.group_by("biomarker", maintain_order=True):
        unit = group["unit"][0]
        others = ", ".join(
            f"'{u}' in {s}"
            for s, u in zip(group["other_study_id"], group["other_unit"], strict=True)
        )
        lines.append(
            f"note: biomarker {marker} is in '{unit}' here but {others}; "
            "compare across studies with care"
        )
    return lines


def patients(con: duckdb.DuckDBPyConnection, study_id: str) -> pl.DataFrame:
    """Columns: study_id, patient_id, arm, sex, age, race, response, n_samples."""
    return fetch_frame(
        con,
        """
        SELECT p.study_id, p.patient_id, p.arm_id AS arm, p.sex, p.age, p.race, p.response,
               count(s.sample_id) AS n_samples
        FROM patients p LEFT JOIN samples s USING (study_id, patient_id)
        WHERE p.study_id = ? GROUP BY ALL ORDER BY p.patient_id
        """,
        [study_id],
    )


def measurements(
    con: duckdb.DuckDBPyConnection,
    study_id: str,
    *,
    patient_id: str | None = None,
    biomarker: str | None = None,
) -> pl.DataFrame:
    """Every measurement of a study with its patient, arm and timepoint; with
    ``patient_id`` or ``biomarker``, only that patient's or biomarker's (screens that show
    one patient or one biomarker read just those rows).

    Columns: study_id, patient_id, arm, response, timepoint, ordinal, is_baseline,
    biomarker, unit (the study's unit of the biomarker), value (null when below LLOQ),
    below_lloq, lloq (the measurement's LLOQ, else the study's LLOQ of the biomarker).

    The rows come in no particular order: every consumer groups, joins or sorts them, and
    sorting millions of rows here cost a third of the read's time and a fifth of its memory.
    """
    return fetch_frame(
        con,
        """
        SELECT m.study_id, s.patient_id, p.arm_id AS arm, p.response, s.timepoint,
               t.ordinal, t.is_baseline, m.biomarker_id AS biomarker, b.unit, m.value,
               m.below_lloq, coalesce(m.lloq, b.lloq) AS lloq
        FROM measurements m
        JOIN samples s USING (study_id, sample_id)
        JOIN patients p ON p.study_id = s.study_id AND p.patient_id = s.patient_id
        JOIN timepoints t ON t.study_id = s.study_id AND t.timepoint = s.timepoint
        JOIN biomarkers b ON b.study_id = m.study_id AND b.biomarker_id = m.biomarker_id
        WHERE m.study_id = $study
          AND ($patient IS NULL OR s.patient_id = $patient)
          AND ($biomarker IS NULL OR m.biomarker_id = $biomarker)
        """,
        {"study": study_id, "patient": patient_id, "biomarker": biomarker},
    )


def measured_timepoints(con: duckdb.DuckDBPyConnection, study_id: str) -> pl.DataFrame:
    """The timepoints at which the study has measurements, in visit order.

    Columns: timepoint, ordinal, is_baseline (what pairing chooses its defaults from).
    """
    return fetch_frame(
        con,
        """
        SELECT t.timepoint, t.ordinal, t.is_baseline
        FROM timepoints t
        WHERE t.study_id = $study AND t.timepoint IN (
            SELECT s.timepoint FROM samples s
            WHERE s.study_id = $study AND s.sample_id IN (
                SELECT DISTINCT m.sample_id FROM measurements m WHERE m.study_id = $study
            )
        )
        ORDER BY t.ordinal
        """,
        {"study": study_id},
    )


def raw_pairs(
    con: duckdb.DuckDBPyConnection,
    study_id: str,
    baseline: str,
    timepoint: str,
    measured: list[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Each patient's measurements of a biomarker at ``baseline`` and at ``timepoint``,
    side by side, and what pairing needs to know about every (biomarker, arm).

    The join happens here, in DuckDB, so that a study of millions of measurements is never
    read whole: only the patients and biomarkers measured at both timepoints come back,
    as numbers: patient and biomarker names are in two small lookup frames.
    ``measured``: the study's measured timepoints (:func:`measured_timepoints`), when the
    caller has them already.

    Returns
    -------
    rows
        One row per patient, biomarker and pair of measurements at the two timepoints,
        sorted by biomarker, arm and patient_id (strings compared byte-wise, as Polars
        sorts them). Columns: patient and marker (row numbers of the two lookups),
        pre_value, pre_below, pre_lloq, post_value, post_below, post_lloq (value null when
        below LLOQ; lloq the measurement's, else the study's).
    patients
        The study's patients (study_id, patient_id, arm, response), row i for index i.
    markers
        The study's biomarkers (study_id, biomarker, unit), row j for index j.
    context
        One row per (biomarker, arm) measured at any timepoint. Columns: study_id,
        biomarker, arm, unit, n_patients (patients with a measurement at any timepoint),
        n_below_window (measurements below LLOQ at either timepoint), smallest_positive
        (the biomarker's smallest value above zero in the study, any arm or timepoint),
        n_at_baseline, n_at_timepoint, n_at_both (patients measured at the baseline, at
        the timepoint, at both).
    """
    params = {"study": study_id, "pre": baseline, "post": timepoint}
    patients = (
        fetch_frame(
            con,
            "SELECT patient_id, arm_id AS arm, response FROM patients WHERE study_id = $study",
            {"study": study_id},
        )
        .sort("arm", "patient_id")
        .with_row_index("patient_rank")
    )
    markers = (
        fetch_frame(
            con,
            "SELECT biomarker_id AS biomarker, unit, lloq FROM biomarkers WHERE study_id = $study",
            {"study": study_id},
        )
        .sort("biomarker")
        .with_row_index("marker_rank")
    )
    with _registered(
        con,
        _patient_order=patients.select("patient_id", "patient_rank"),
        _marker_order=markers.select("biomarker", "marker_rank", "lloq"),
    ):
        # Every patient and biomarker measured at either timepoint (a full join): the
        # rows measured at both are the pairs, and all of them give the counts. Names
        # become ranks before the join: it matches two integers, not two strings.
        numbers = fetch_frame(
            con,
            """
            WITH sampled AS (
                SELECT s.sample_id, p.patient_rank, s.timepoint = $pre AS at_pre
                FROM samples s JOIN _patient_order p ON p.patient_id = s.patient_id
                WHERE s.study_id = $study AND s.timepoint IN ($pre, $post)
            ),
            measured AS (
                SELECT x.patient_rank, b.marker_rank, x.at_pre, m.value, m.below_lloq,
                       coalesce(m.lloq, b.lloq) AS lloq
                FROM measurements m
                JOIN sampled x ON x.sample_id = m.sample_id
                JOIN _marker_order b ON b.biomarker = m.biomarker_id
                WHERE m.study_id = $study
            ),
            pre AS (SELECT * FROM measured WHERE at_pre),
            post AS (SELECT * FROM measured WHERE NOT at_pre)
            SELECT coalesce(a.patient_rank, z.patient_rank) AS patient_rank,
                   coalesce(a.marker_rank, z.marker_rank) AS marker_rank,
                   a.patient_rank IS NOT NULL AS has_pre, z.patient_rank IS NOT NULL AS has_post,
                   a.value AS pre_value, a.below_lloq AS pre_below, a.lloq AS pre_lloq,
                   z.value AS post_value, z.below_lloq AS post_below, z.lloq AS post_lloq
            FROM pre a FULL JOIN post z
              ON z.patient_rank = a.patient_rank AND z.marker_rank = a.marker_rank
            """,
            params,
        )
    # one chunk: gathering across the many chunks DuckDB returns is several times slower
    numbers = numbers.rechunk()
    if measured is None:
        measured = measured_timepoints(con, study_id)["timepoint"].to_list()
    other_timepoints = len(set(measured) - {baseline, timepoint})
    in_order, once = _order_by_key(
        numbers["marker_rank"].to_numpy(), numbers["patient_rank"].to_numpy(), patients.height
    )
    if other_timepoints == 0 and once:
        context = _context_of_two_timepoints(study_id, numbers, patients, markers)
    else:
        context = _context_of_every_timepoint(con, params)
    # the pairs, in order, in one gather (one copy of the columns, not three)
    paired = (numbers["has_pre"] & numbers["has_post"]).to_numpy()
    rows = (
        numbers.drop("has_pre", "has_post")
        .gather(in_order[paired[in_order]])
        .rename({"patient_rank": "patient", "marker_rank": "marker"})
    )
    study = pl.lit(study_id, dtype=pl.String).alias("study_id")
    return (
        rows,
        patients.select(study, "patient_id", "arm", "response"),
        markers.select(study, "biomarker", "unit"),
        context,
    )


def _context_of_two_timepoints(
    study_id: str,
    numbers: pl.DataFrame,
    patients: pl.DataFrame,
    markers: pl.DataFrame,
) -> pl.DataFrame:
    """The context of :func:`raw_pairs` when the two timepoints are all the study measured
    and no patient has a biomarker twice at one of them: from the joined rows alone,
    counted by (biomarker rank, arm code) and ordered by biomarker and arm."""
    arms = patients["arm"].unique().sort()
    n_arms = max(len(arms), 1)
    arm_code = patients["arm"].cast(pl.Enum(arms.to_list())).to_physical().to_numpy()
    # one count per (biomarker, arm, has_pre, has_post, pre_below, post_below): every
    # count below is a sum of these sixteen (built in place: four bytes a row)
    code = numbers["marker_rank"].to_numpy().astype(np.int32)
    code *= n_arms
    code += arm_code.astype(np.int32)[numbers["patient_rank"].to_numpy()]
    for name in ("has_pre", "has_post", "pre_below", "post_below"):
        code *= 2
        code += numbers[name].fill_null(False).to_numpy()
    table = np.bincount(code, minlength=markers.height * n_arms * 16).reshape(-1, 4, 4)
    del code
    n_patients = table.sum(axis=(1, 2))
    present = np.flatnonzero(n_patients)
    table = table[present]
    by_presence = table.sum(axis=2)  # [key, 2 * has_pre + has_post]
    by_below = table.sum(axis=1)  # [key, 2 * pre_below + post_below]
    # the smallest value above zero of each biomarker, any arm or timepoint
    positive = [
        pl.when(pl.col(f"{side}_value") > 0).then(pl.col(f"{side}_value"))
        for side in ("pre", "post")
    ]
    smallest = numbers.group_by("marker_rank").agg(pl.min_horizontal(positive).min())
    by_marker = np.full(markers.height, np.nan)
    by_marker[smallest["marker_rank"].to_numpy()] = smallest[:, 1].fill_null(np.nan).to_numpy()
    marker = present // n_arms
    counts = pl.DataFrame(
        {
            "biomarker": markers["biomarker"].gather(marker),
            "arm": arms.gather(present % n_arms),
            "unit": markers["unit"].gather(marker),
            "n_patients": n_patients[present],
            "n_below_window": by_below[:, 1] + by_below[:, 2] + 2 * by_below[:, 3],
            "smallest_positive": pl.Series(by_marker[marker]).fill_nan(None),
            "n_at_baseline": by_presence[:, 2] + by_presence[:, 3],
            "n_at_timepoint": by_presence[:, 1] + by_presence[:, 3],
            "n_at_both": by_presence[:, 3],
        }
    )
    return counts.select(pl.lit(study_id).alias("study_id"), pl.all())


def _context_of_every_timepoint(con: duckdb.DuckDBPyConnection, params: dict) -> pl.DataFrame:
    """The context of :func:`raw_pairs` counted over every measurement of the study."""
    return fetch_frame(
        con,
        """
        WITH per_patient AS (
            SELECT m.biomarker_id, s.patient_id,
                   count_if(m.below_lloq AND s.timepoint IN ($pre, $post)) AS n_below,
                   min(m.value) FILTER (WHERE m.value > 0) AS smallest,
                   bool_or(s.timepoint = $pre) AS has_pre,
                   bool_or(s.timepoint = $post) AS has_post
            FROM measurements m JOIN samples s USING (study_id, sample_id)
            WHERE m.study_id = $study
            GROUP BY ALL
        ),
        per_arm AS (
            SELECT x.biomarker_id, p.arm_id, count(*) AS n_patients,
                   sum(x.n_below) AS n_below_window, min(x.smallest) AS smallest,
                   count_if(x.has_pre) AS n_at_baseline,
                   count_if(x.has_post) AS n_at_timepoint,
                   count_if(x.has_pre AND x.has_post) AS n_at_both
            FROM per_patient x
            JOIN patients p ON p.study_id = $study AND p.patient_id = x.patient_id
            GROUP BY ALL
        )
        SELECT $study AS study_id, a.biomarker_id AS biomarker, a.arm_id AS arm, b.unit,
               a.n_patients, a.n_below_window::BIGINT AS n_below_window,
               min(a.smallest) OVER (PARTITION BY a.biomarker_id) AS smallest_positive,
               a.n_at_baseline, a.n_at_timepoint, a.n_at_both
        FROM per_arm a
        JOIN biomarkers b ON b.study_id = $study AND b.biomarker_id = a.biomarker_id
        """,
        params,
    )


def _order_by_key(major: np.ndarray, minor: np.ndarray, minor_size: int) -> tuple[np.ndarray, bool]:
    """Row indices that sort rows by (major, minor), small non-negative integers, and
    whether every key occurs once.

    When every key occurs once (one measurement per patient, timepoint and biomarker, as
    the importer guarantees) each row's place is its key's rank among the keys present:
    found by counting in O(n), not by sorting."""
    if len(major) == 0:
        return np.empty(0, dtype=np.int64), True
    size = max(minor_size, 1)
    # four-byte keys and places when they fit: half the memory to fill and read
    narrow = (int(major.max()) + 1) * size < 2**31 and len(major) < 2**31
    kind = np.int32 if narrow else np.int64
    key = np.asarray(major, dtype=kind) * kind(size) + np.asarray(minor, dtype=kind)
    if key.max() <= 4 * len(key) + 1024:  # dense keys: place each row by its key
        slots = np.full(int(key.max()) + 1, -1, dtype=kind)
        slots[key] = np.arange(len(key), dtype=kind)
        order = slots[slots >= 0]
        if len(order) == len(key):
            return order, True
    order = np.argsort(key, kind="stable")  # sparse keys, or a key twice
    ordered = key[order]
    return order, bool(np.all(ordered[1:] != ordered[:-1]))


@contextlib.contextmanager
def _registered(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Make small Polars frames queryable by name on ``con`` for the duration."""
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


def completeness(con: duckdb.DuckDBPyConnection, study_id: str) -> pl.DataFrame:
    """Paired completeness per biomarker and arm: baseline vs first on-treatment timepoint.

    Columns: biomarker, arm, n_patients, n_baseline, n_on_treatment, n_paired, post_timepoint.
    """
    return fetch_frame(
        con,
        """
        WITH tp AS (
            SELECT pre_timepoint AS pre, post_timepoint AS post FROM timepoint_pairs
            WHERE study_id = $1 AND is_default
        ),
        per_patient AS (
            SELECT m.biomarker_id, s.patient_id,
                   bool_or(s.timepoint = tp.pre) AS has_pre,
                   bool_or(s.timepoint = tp.post) AS has_post
            FROM measurements m JOIN samples s USING (study_id, sample_id), tp
            WHERE m.study_id = $1 AND s.timepoint IN (tp.pre, tp.post)
            GROUP BY ALL
        ),
        counted AS (
            SELECT pp.biomarker_id, p.arm_id,
                   count_if(pp.has_pre) AS n_baseline,
                   count_if(pp.has_post) AS n_on_treatment,
                   count_if(pp.has_pre AND pp.has_post) AS n_paired
            FROM per_patient pp
            JOIN patients p ON p.study_id = $1 AND p.patient_id = pp.patient_id
            GROUP BY ALL
        ),
        markers AS (SELECT DISTINCT biomarker_id FROM measurements WHERE study_id = $1),
        arm_sizes AS (
            SELECT arm_id, count(*) AS n_patients FROM patients WHERE study_id = $1
            GROUP BY arm_id
        )
        SELECT b.biomarker_id AS biomarker, a.arm_id AS arm, a.n_patients,
               coalesce(c.n_baseline, 0)::BIGINT AS n_baseline,
               coalesce(c.n_on_treatment, 0)::BIGINT AS n_on_treatment,
               coalesce(c.n_paired, 0)::BIGINT AS n_paired,
               tp.post AS post_timepoint
        FROM markers b CROSS JOIN arm_sizes a CROSS JOIN tp
        LEFT JOIN counted c ON c.biomarker_id = b.biomarker_id AND c.arm_id = a.arm_id
        ORDER BY 1, 2
        """,
        [study_id],
    )


def imports(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The import audit trail, newest first."""
    return fetch_frame(con, "SELECT * FROM imports ORDER BY import_id DESC")


def source_files(con: duckdb.DuckDBPyConnection, study_id: str | None = None) -> pl.DataFrame:
    """Imported source files with their sha256 (for provenance)."""
    return fetch_frame(
        con,
        """
        SELECT import_id, source_file, sha256, format, study_id, CAST(finished_at AS VARCHAR)
               AS imported_at
        FROM imports WHERE status = 'loaded' AND (? IS NULL OR study_id = ?)
        ORDER BY import_id
        """,
        [study_id, study_id],
    )


def data_version(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """A token that changes whenever an import is recorded: (number of import records,
    the last import id). The app compares it before computing or exporting to notice
    imports made by another process."""
    # fetch_row reads the whole result: DuckDB refuses more work while one is unfinished
    row = fetch_row(con, "SELECT count(*), coalesce(max(import_id), 0) FROM imports")
    assert row is not None
    return int(row[0]), int(row[1])
