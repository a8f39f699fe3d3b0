## ---------------------------------------------------------------------------
## Reading the files (they sit beside this script)
## ---------------------------------------------------------------------------
here <- local({
  a <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else getwd()
})
key_columns <- c(study_id = "character", patient_id = "character", arm = "character",
                 biomarker = "character", biomarker_x = "character",
                 biomarker_y = "character", timepoint = "character",
                 post_timepoint = "character", pre_timepoint = "character",
                 reference_arm = "character", response = "character", unit = "character")
read_table <- function(name) {
  path <- file.path(here, name)
  header <- names(read.csv(path, nrows = 1, check.names = FALSE))
  classes <- key_columns[names(key_columns) %in% header]
  read.csv(path, stringsAsFactors = FALSE, na.strings = "", check.names = FALSE,
           colClasses = classes)
}

# One row per measurement of the study: the analysed value (LLOQ and zero rules applied;
# NA when excluded), whether it was substituted, whether it was excluded.
values <- read_table(DATA_FILE)
values$imputed <- as.logical(values$imputed)
values$excluded <- as.logical(values$excluded)

## ---------------------------------------------------------------------------
## Helpers
## ---------------------------------------------------------------------------
# Largest relative difference |a - b| / max(|a|, |b|); NA on one side only counts as Inf.
# Differences below ZERO_NOISE in absolute value count as none: a correlation or shift
# that is 0 in exact arithmetic comes out as +-1e-18 from one program and 0 from another.
rel_diff <- function(got, expected) {
  got <- as.numeric(got)
  expected <- as.numeric(expected)
  d <- abs(got - expected) / pmax(abs(got), abs(expected))
  d[which(abs(got - expected) <= ZERO_NOISE)] <- 0
  d[is.na(got) & is.na(expected)] <- 0
  d[xor(is.na(got), is.na(expected))] <- Inf
  if (length(d) == 0) 0 else max(d)
}

report <- data.frame(table = character(0), column = character(0), max_rel_diff = numeric(0),
                     stringsAsFactors = FALSE)
note <- function(table, column, value) {
  report[nrow(report) + 1, ] <<- list(table, column, value)
}

# Compare every numeric column of the exported table with R's values, row by row.
check_table <- function(label, got, expected, keys) {
  if (is.null(expected) || nrow(expected) == 0) {
    note(label, "(rows)", if (nrow(got) == 0) 0 else Inf)
    return(invisible())
  }
  # settings columns are recorded, not computed: each must equal the script's setting
  recorded <- list(conf_level = CONF, pseudocount = PSEUDOCOUNT)
  for (setting in intersect(names(recorded), setdiff(names(got), names(expected)))) {
    expected[[setting]] <- recorded[[setting]]
  }
  merged <- merge(got, expected, by = keys, all = TRUE, suffixes = c("", ".R"))
  note(label, "(rows)", if (nrow(merged) == nrow(got) && nrow(merged) == nrow(expected)) 0 else Inf)
  # numeric columns; a column with no value at all reads as logical NA
  empty <- vapply(got, function(v) all(is.na(v)), TRUE)
  numeric <- names(got)[vapply(got, is.numeric, TRUE) | empty]
  for (column in setdiff(numeric, keys)) {
    if (!(column %in% names(expected))) {
      if (!empty[[column]]) note(label, paste(column, "(not recomputed)"), Inf)
      next
    }
    note(label, column, rel_diff(merged[[column]], merged[[paste0(column, ".R")]]))
  }
}

adjust <- function(p, by) ave(p, by, FUN = function(x) p.adjust(x, method = FDR))
quietly <- function(expr) tryCatch(suppressWarnings(expr), error = function(e) NULL)
value_or_na <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else unname(x)

# Each patient's baseline value paired with its value at timepoint `tp`.
pairs_at <- function(tp) {
  present <- values[!is.na(values$value), ]
  pre <- present[present$timepoint == BASELINE,
                 c("study_id", "patient_id", "arm", "response", "biomarker", "value", "imputed")]
  post <- present[present$timepoint == tp,
                  c("study_id", "patient_id", "biomarker", "value", "imputed")]
  p <- merge(pre, post, by = c("study_id", "patient_id", "biomarker"),
             suffixes = c("_pre", "_post"))
  p$fc <- p$value_post / p$value_pre
  p$log2fc <- log2(p$value_post) - log2(p$value_pre)
  p
}

# Timepoints of the exported rows ("all": one block per timepoint).
timepoints_of <- function(got, column = "timepoint") {
  tps <- unique(got[[column]])
  tps[!is.na(tps)]
}
