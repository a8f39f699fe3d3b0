-- name: response_changes
-- description: Change of each biomarker in responders (CR/PR) against non-responders (SD/PD), sorted by q-value
-- param: biomarker text null only this biomarker (case-insensitive; default: every biomarker)
-- param: study text null only this study (default: every study)
--
-- Reads the derived table response_comparison: per study and arm (all = pooled), the
-- median log2FC in each group and the Wilcoxon rank-sum test between them.
SELECT study_id,
       arm,
       biomarker,
       n_responders,
       n_nonresponders,
       median_log2fc_responders,
       median_log2fc_nonresponders,
       p_mannwhitney,
       q_mannwhitney
FROM response_comparison
WHERE ($biomarker IS NULL OR lower(biomarker) = lower($biomarker))
  AND ($study IS NULL OR study_id = $study)
ORDER BY q_mannwhitney NULLS LAST, p_mannwhitney NULLS LAST, study_id, arm, biomarker;
