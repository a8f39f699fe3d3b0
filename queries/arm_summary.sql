-- name: arm_summary
-- description: Per-arm summary of one biomarker: n pairs, mean and geometric mean FC with CI, median, within-arm tests
-- param: biomarker text - biomarker id, e.g. CD8 (case-insensitive)
-- param: study text null only this study (default: every study)
--
-- Reads the derived table arm_summary (written by `trialtui stats --store` / `trialtui
-- sample`). gmean_fc_lo/hi is the t-interval of the geometric mean FC; p_wilcoxon is the
-- Wilcoxon signed-rank test and p_ttest the paired t-test, both on log2FC, with q-values
-- across the biomarkers of the study and arm.
SELECT study_id,
       biomarker,
       arm,
       timepoint,
       n_pairs,
       n_unpaired,
       mean_fc,
       gmean_fc,
       gmean_fc_lo,
       gmean_fc_hi,
       median_fc,
       fc_q1,
       fc_q3,
       p_wilcoxon,
       q_wilcoxon,
       p_ttest,
       q_ttest,
       n_imputed,
       lloq_policy
FROM arm_summary
WHERE lower(biomarker) = lower($biomarker)
  AND ($study IS NULL OR study_id = $study)
ORDER BY study_id, arm;
