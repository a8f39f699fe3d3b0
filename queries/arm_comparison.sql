-- name: arm_comparison
-- description: Between-arm comparisons (each arm vs the reference arm) of every biomarker, sorted by q-value
-- param: study text null only this study (default: every study)
-- param: max_q number null only rows with q_mannwhitney at most this (default: every row)
--
-- Reads the derived table arm_comparison. gmfc_ratio is the ratio of geometric mean FCs
-- (Welch t-test on log2FC) with its CI; hl_shift the Hodges-Lehmann shift of log2FC with
-- its CI; q-values adjust across the biomarkers of one arm-vs-reference comparison. Rows
-- without a q-value (fewer than 3 pairs) sort last and are dropped by max_q.
SELECT study_id,
       biomarker,
       arm,
       reference_arm,
       n,
       n_reference,
       gmfc_ratio,
       gmfc_ratio_lo,
       gmfc_ratio_hi,
       hl_shift,
       hl_lo,
       hl_hi,
       rank_biserial,
       p_mannwhitney,
       q_mannwhitney,
       p_welch,
       q_welch
FROM arm_comparison
WHERE ($study IS NULL OR study_id = $study)
  AND ($max_q IS NULL OR q_mannwhitney <= $max_q)
ORDER BY q_mannwhitney NULLS LAST, p_mannwhitney NULLS LAST, study_id, biomarker, arm;
