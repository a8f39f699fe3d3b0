-- name: import_audit
-- description: The import audit trail: every imported file with its sha256, row counts and status, newest first
-- param: study text null only imports of this study (default: every import)
-- param: status text null only imports with this status, e.g. loaded (default: every status)
-- param: since date null only imports started on or after this day (YYYY-MM-DD)
SELECT import_id,
       started_at,
       finished_at,
       source_file,
       sha256,
       format,
       study_id,
       rows_read,
       rows_loaded,
       rows_rejected,
       status,
       message
FROM imports
WHERE ($study IS NULL OR study_id = $study)
  AND ($status IS NULL OR status = $status)
  AND ($since IS NULL OR started_at >= $since)
ORDER BY import_id DESC;
