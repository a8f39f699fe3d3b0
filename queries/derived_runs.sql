-- name: derived_runs
-- description: Which derived result tables hold results, with the settings and trialtui version they were computed with
-- param: study text null only this study (default: every study)
--
-- The derived tables (fold_changes, arm_summary, arm_comparison, change_correlation,
-- response_comparison) are written by `trialtui stats --store` and `trialtui sample`;
-- check here which timepoint, LLOQ policy and FDR method the numbers in them used.
SELECT table_name,
       study_id,
       row_count,
       computed_at,
       trialtui_version,
       json_extract_string(settings_json, '$.timepoint') AS timepoint,
       json_extract_string(settings_json, '$.lloq_policy') AS lloq_policy,
       json_extract_string(settings_json, '$.fdr') AS fdr,
       json_extract_string(settings_json, '$.reference_arm') AS reference_arm,
       settings_json
FROM derived_runs
WHERE $study IS NULL OR study_id = $study
ORDER BY study_id, table_name;
