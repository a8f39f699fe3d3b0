-- name: patient_listing
-- description: Patients with arm, sex, age, response and the timepoints of their samples
-- param: study text null only this study (default: every study)
-- param: arm text null only this arm (default: every arm)
-- param: response text null only this best response: CR, PR, SD, PD or NE (default: every patient)
--
-- n_samples counts the patient's biopsies, n_measurements their biomarker values (values
-- below LLOQ included); timepoints lists the timepoints sampled, in study order.
WITH per_sample AS (
    SELECT s.study_id, s.patient_id, s.sample_id, s.timepoint, t.ordinal,
           count(m.biomarker_id) AS n_measurements
    FROM samples s
    JOIN timepoints t USING (study_id, timepoint)
    LEFT JOIN measurements m ON m.study_id = s.study_id AND m.sample_id = s.sample_id
    GROUP BY ALL
)
SELECT p.study_id,
       p.patient_id,
       p.arm_id AS arm,
       p.sex,
       p.age,
       p.response,
       count(ps.sample_id) AS n_samples,
       coalesce(sum(ps.n_measurements), 0)::BIGINT AS n_measurements,
       string_agg(ps.timepoint, ', ' ORDER BY ps.ordinal) AS timepoints
FROM patients p
LEFT JOIN per_sample ps ON ps.study_id = p.study_id AND ps.patient_id = p.patient_id
WHERE ($study IS NULL OR p.study_id = $study)
  AND ($arm IS NULL OR p.arm_id = $arm)
  AND ($response IS NULL OR p.response = upper($response))
GROUP BY ALL
ORDER BY p.study_id, p.patient_id;
