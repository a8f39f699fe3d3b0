-- name: biomarker_changes
-- description: One biomarker's per-patient change (pre, post, FC, log2FC) from the stored fold-changes
-- param: biomarker text - biomarker id, e.g. CD8 (case-insensitive)
-- param: study text null only this study (default: every study)
-- param: arm text null only this arm (default: every arm)
--
-- Reads the derived table fold_changes, written by `trialtui stats --store` (and by
-- `trialtui sample`) with the settings recorded in derived_runs (see the derived_runs
-- query). pre and post are the values after LLOQ handling; *_imputed marks substituted
-- values. Sorted by study, arm and largest increase first.
SELECT study_id,
       arm,
       patient_id,
       response,
       biomarker,
       pre_timepoint,
       post_timepoint,
       pre,
       post,
       fc,
       log2fc,
       pre_imputed,
       post_imputed
FROM fold_changes
WHERE lower(biomarker) = lower($biomarker)
  AND ($study IS NULL OR study_id = $study)
  AND ($arm IS NULL OR arm = $arm)
ORDER BY study_id, arm, log2fc DESC NULLS LAST, patient_id;
