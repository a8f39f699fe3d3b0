-- name: correlated_changes
-- description: Biomarkers whose change correlates with one biomarker's change (Spearman rho of log2FC), strongest first
-- param: biomarker text - biomarker id, e.g. FAP (case-insensitive)
-- param: study text null only this study (default: every study)
-- param: arm text null only this arm, or pooled (arm-adjusted) (default: per arm and pooled)
-- param: max_q number null only pairs with q at most this (default: every pair)
--
-- Reads the derived table change_correlation, which holds each pair of biomarkers once;
-- this query shows the pair from the chosen biomarker's side. q-values adjust across the
-- pairs of one study and arm.
SELECT study_id,
       arm,
       CASE WHEN lower(biomarker_x) = lower($biomarker) THEN biomarker_x ELSE biomarker_y END
           AS biomarker,
       CASE WHEN lower(biomarker_x) = lower($biomarker) THEN biomarker_y ELSE biomarker_x END
           AS other_biomarker,
       n,
       spearman_rho,
       p,
       q
FROM change_correlation
WHERE (lower(biomarker_x) = lower($biomarker) OR lower(biomarker_y) = lower($biomarker))
  AND ($study IS NULL OR study_id = $study)
  AND ($arm IS NULL OR arm = $arm)
  AND ($max_q IS NULL OR q <= $max_q)
ORDER BY abs(spearman_rho) DESC NULLS LAST, study_id, arm, other_biomarker;
