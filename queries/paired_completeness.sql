-- name: paired_completeness
-- description: Paired biopsies per biomarker and arm: patients with baseline, on-treatment and both values
-- param: study text null only this study (default: every study)
-- param: timepoint text null on-treatment timepoint (default: each study's first timepoint after baseline)
--
-- One row per study, biomarker and arm. Every patient of the arm counts in n_patients;
-- n_baseline / n_on_treatment count patients with a measurement of the biomarker at the
-- baseline / on-treatment timepoint (a value flagged below LLOQ counts as measured), and
-- n_paired those with both. Studies without the chosen timepoint give no rows. With the
-- default timepoint the numbers equal `trialtui info`'s paired completeness.
WITH pairing AS (
    SELECT study_id, pre_timepoint, post_timepoint
    FROM timepoint_pairs
    WHERE ($study IS NULL OR study_id = $study)
      AND (($timepoint IS NULL AND is_default) OR post_timepoint = $timepoint)
),
observed AS (
    SELECT m.study_id, s.patient_id, m.biomarker_id,
           bool_or(s.timepoint = pr.pre_timepoint) AS has_pre,
           bool_or(s.timepoint = pr.post_timepoint) AS has_post
    FROM measurements m
    JOIN samples s USING (study_id, sample_id)
    JOIN pairing pr ON pr.study_id = m.study_id
    GROUP BY ALL
),
grid AS (
    SELECT p.study_id, p.patient_id, p.arm_id, b.biomarker_id
    FROM patients p
    JOIN (SELECT DISTINCT study_id, biomarker_id FROM observed) b USING (study_id)
)
SELECT g.study_id,
       g.biomarker_id AS biomarker,
       g.arm_id AS arm,
       pr.pre_timepoint,
       pr.post_timepoint,
       count(*) AS n_patients,
       count_if(o.has_pre)::BIGINT AS n_baseline,
       count_if(o.has_post)::BIGINT AS n_on_treatment,
       count_if(o.has_pre AND o.has_post)::BIGINT AS n_paired,
       round(100.0 * count_if(o.has_pre AND o.has_post) / count(*), 1) AS pct_paired
FROM grid g
JOIN pairing pr USING (study_id)
LEFT JOIN observed o USING (study_id, patient_id, biomarker_id)
GROUP BY ALL
ORDER BY g.study_id, biomarker, arm;
