-- name: missing_on_treatment
-- description: Patients without an on-treatment biopsy (no sample at the on-treatment timepoint)
-- param: study text null only this study (default: every study)
-- param: timepoint text null on-treatment timepoint (default: each study's first timepoint after baseline)
-- param: with_baseline_only boolean false only patients who do have a baseline biopsy
--
-- A patient is listed when the samples table holds no sample of theirs at the chosen
-- on-treatment timepoint; such a patient is unpaired for every biomarker. `timepoints`
-- lists the timepoints the patient does have. Studies without the chosen timepoint give
-- no rows.
WITH pairing AS (
    SELECT study_id, pre_timepoint, post_timepoint
    FROM timepoint_pairs
    WHERE ($study IS NULL OR study_id = $study)
      AND (($timepoint IS NULL AND is_default) OR post_timepoint = $timepoint)
),
per_patient AS (
    SELECT p.study_id, p.patient_id, p.arm_id, p.response, pr.post_timepoint,
           count(s.sample_id) AS n_samples,
           bool_or(coalesce(s.timepoint = pr.pre_timepoint, false)) AS has_baseline,
           bool_or(coalesce(s.timepoint = pr.post_timepoint, false)) AS has_on_treatment,
           string_agg(s.timepoint, ', ' ORDER BY t.ordinal) AS timepoints
    FROM patients p
    JOIN pairing pr USING (study_id)
    LEFT JOIN samples s ON s.study_id = p.study_id AND s.patient_id = p.patient_id
    LEFT JOIN timepoints t ON t.study_id = s.study_id AND t.timepoint = s.timepoint
    GROUP BY ALL
)
SELECT study_id,
       patient_id,
       arm_id AS arm,
       response,
       post_timepoint AS missing_timepoint,
       has_baseline,
       n_samples,
       timepoints
FROM per_patient
WHERE NOT has_on_treatment
  AND (NOT $with_baseline_only OR has_baseline)
ORDER BY study_id, arm, patient_id;
