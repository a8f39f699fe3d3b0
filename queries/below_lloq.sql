-- name: below_lloq
-- description: Measurements flagged below the lower limit of quantification (LLOQ)
-- param: study text null only this study (default: every study)
-- param: biomarker text null only this biomarker (case-insensitive; default: every biomarker)
--
-- lloq is the measurement's own LLOQ when the transfer gave one, else the study's LLOQ of the
-- biomarker; unit is the study's unit of the biomarker;
-- raw_value is the value as written in the source file (e.g. "<0.5").
SELECT m.study_id,
       s.patient_id,
       p.arm_id AS arm,
       s.timepoint,
       m.sample_id,
       m.biomarker_id AS biomarker,
       m.raw_value,
       m.value,
       coalesce(m.lloq, b.lloq) AS lloq,
       b.unit,
       m.import_id
FROM measurements m
JOIN samples s USING (study_id, sample_id)
JOIN patients p ON p.study_id = s.study_id AND p.patient_id = s.patient_id
JOIN timepoints t ON t.study_id = s.study_id AND t.timepoint = s.timepoint
JOIN biomarkers b ON b.study_id = m.study_id AND b.biomarker_id = m.biomarker_id
WHERE m.below_lloq
  AND ($study IS NULL OR m.study_id = $study)
  AND ($biomarker IS NULL OR lower(m.biomarker_id) = lower($biomarker))
ORDER BY m.study_id, biomarker, s.patient_id, t.ordinal;
