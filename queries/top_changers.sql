-- name: top_changers
-- description: Patients with the largest change of one biomarker (by log2 fold-change), per study
-- param: biomarker text - biomarker id, e.g. FAP (case-insensitive)
-- param: n integer 10 how many patients per study
-- param: direction text up up (largest increases), down (largest decreases) or abs (largest either way)
-- param: study text null only this study (default: every study)
-- param: arm text null only this arm (default: every arm)
--
-- Reads the derived table fold_changes (see biomarker_changes). rank 1 is the largest
-- change in the chosen direction; ties are broken by patient id.
WITH checked AS (
    SELECT CASE
        WHEN $direction NOT IN ('up', 'down', 'abs')
            THEN error('direction must be up, down or abs, got ''' || $direction || '''')
        WHEN $n < 1 THEN error('n must be at least 1')
        ELSE true
    END AS ok
),
ranked AS (
    SELECT f.*,
           row_number() OVER (
               PARTITION BY f.study_id
               ORDER BY CASE $direction
                            WHEN 'up' THEN -f.log2fc
                            WHEN 'down' THEN f.log2fc
                            ELSE -abs(f.log2fc)
                        END,
                        f.patient_id
           ) AS rank
    FROM fold_changes f, checked c
    WHERE c.ok
      AND f.log2fc IS NOT NULL
      AND lower(f.biomarker) = lower($biomarker)
      AND ($study IS NULL OR f.study_id = $study)
      AND ($arm IS NULL OR f.arm = $arm)
)
SELECT study_id, rank, patient_id, arm, response, biomarker, pre, post, fc, log2fc
FROM ranked
WHERE rank <= $n
ORDER BY study_id, rank;
