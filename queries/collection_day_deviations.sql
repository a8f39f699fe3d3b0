-- name: collection_day_deviations
-- description: Samples collected more than a given number of days away from their timepoint's nominal day
-- param: days number 3 allowed deviation in days (samples deviating by more are listed)
-- param: study text null only this study (default: every study)
--
-- deviation_days = collection_day - nominal_day (negative: early). Samples without a
-- collection day, or timepoints without a nominal day, cannot be checked and are not
-- listed. Largest deviations first.
SELECT s.study_id,
       s.patient_id,
       p.arm_id AS arm,
       s.sample_id,
       s.timepoint,
       t.nominal_day,
       s.collection_day,
       s.collection_day - t.nominal_day AS deviation_days
FROM samples s
JOIN timepoints t USING (study_id, timepoint)
JOIN patients p ON p.study_id = s.study_id AND p.patient_id = s.patient_id
WHERE abs(s.collection_day - t.nominal_day) > $days
  AND ($study IS NULL OR s.study_id = $study)
ORDER BY abs(deviation_days) DESC, s.study_id, s.patient_id, t.ordinal;
