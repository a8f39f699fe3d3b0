#!/usr/bin/env Rscript
# Reference values for `trialtui stats` on the bundled sample study PDAC-DEF-2, computed
# with R from the per-patient pairs.
#
# Usage (from the repository root):
#     Rscript tests/r/make_sample_reference.R
#
# Input: tests/data/sample_fold_changes.csv, exported once with
#     trialtui stats --db SAMPLE --study PDAC-DEF-2 --level patient --format csv
# It holds input data only (the paired pre/post values after LLOQ/2 substitution); R
# recomputes FC = post / pre and log2FC = log2(post) - log2(pre) from pre and post itself,
# and first checks pre/post against the raw bundled file sample_data/pdac_defactinib_long.csv
# (Baseline vs Surgery, "<LLOQ" -> LLOQ/2), so the pairs are not taken on trust either.
#
# Sections 1-4 cover the sample (per arm, between arms, Spearman, response). Sections 5-7
# are small literal datasets for cases the sample lacks: raw values with LLOQ flags, zeros
# and equal ratios (R does the substitution and log2 itself), R's qnorm quantiles, and
# rank-sum tests on all-tied data.
#
# Writes tests/r_sample_reference.py (GENERATED; change this script and re-run it), laid
# out as `ruff format` would. Every result is printed with sprintf("%.17g"). Each value's
# R code is stored beside it.

options(warn = 1)

script_path <- local({
  a <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(a)) normalizePath(sub("^--file=", "", a[1])) else
    normalizePath("tests/r/make_sample_reference.R", mustWork = FALSE)
})
tests_dir <- dirname(dirname(script_path))
repo_dir <- dirname(tests_dir)
in_path <- file.path(tests_dir, "data", "sample_fold_changes.csv")
raw_path <- file.path(repo_dir, "sample_data", "pdac_defactinib_long.csv")
out_path <- file.path(tests_dir, "r_sample_reference.py")

STUDY <- "PDAC-DEF-2"
ARM <- "Defactinib + Pembrolizumab"
REFERENCE <- "Pembrolizumab"

## ---------------------------------------------------------------------------
## Python literal helpers
## ---------------------------------------------------------------------------
py_num1 <- function(v) {
  if (is.na(v) && !is.nan(v)) return("None")
  if (is.nan(v)) return("float(\"nan\")")
  if (is.infinite(v)) return(if (v > 0) "float(\"inf\")" else "float(\"-inf\")")
  s <- sprintf("%.17g", v)
  if (!grepl("[.eE]", s)) s <- paste0(s, ".0")
  s
}
py_str <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  single <- grepl("\"", s, fixed = TRUE) & !grepl("'", s, fixed = TRUE)
  ifelse(single, paste0("'", s, "'"),  # as ruff format writes strings holding quotes
         paste0("\"", gsub("\"", "\\\"", s, fixed = TRUE), "\""))
}
# Nested Python values laid out as `ruff format` does (line length 100): a list or dict
# stays on one line when it fits, else one item per line with a trailing comma. Atoms
# are formatted strings; collections are lists marked py = "list" or "dict".
py_list_of <- function(items) structure(as.list(items), py = "list")
py_dict_of <- function(named) structure(named, py = "dict")
py_flat <- function(x) {
  kind <- attr(x, "py")
  if (is.null(kind)) return(x)
  parts <- vapply(seq_along(x), function(i) {
    v <- py_flat(x[[i]])
    if (kind == "dict") paste0(py_str(names(x)[i]), ": ", v) else v
  }, "")
  if (kind == "dict") paste0("{", paste(parts, collapse = ", "), "}") else
    paste0("[", paste(parts, collapse = ", "), "]")
}
py_lines <- function(x, indent = "", prefix = "", suffix = "") {
  line <- paste0(indent, prefix, py_flat(x), suffix)
  kind <- attr(x, "py")
  if (is.null(kind) || nchar(line) <= 100) return(line)
  inner <- unlist(lapply(seq_along(x), function(i) {
    key <- if (kind == "dict") paste0(py_str(names(x)[i]), ": ") else ""
    py_lines(x[[i]], paste0(indent, "    "), key, ",")
  }))
  c(paste0(indent, prefix, if (kind == "dict") "{" else "["), inner,
    paste0(indent, if (kind == "dict") "}" else "]", suffix))
}
emit_list <- function(name, items) {
  emit(name, " = [")
  for (item in items) emit(py_lines(item, "    ", "", ","))
  emit("]\n")
}
py_bool <- function(b) if (isTRUE(b)) "True" else "False"
py_int <- function(v) sprintf("%d", as.integer(v))
py_dict <- function(fields, indent = "    ") {
  body <- paste0(indent, "    ", py_str(names(fields)), ": ", unlist(fields), ",",
                 collapse = "\n")
  paste0(indent, "{\n", body, "\n", indent, "},")
}
out <- character(0)
emit <- function(...) out <<- c(out, paste0(...))
fmt_row <- function(r) {
  fields <- lapply(r, function(v) {
    if (is.character(v)) py_str(v) else if (is.logical(v)) py_bool(v) else
      if (is.integer(v)) py_int(v) else py_num1(v)
  })
  py_dict(fields)
}
emit_rows <- function(name, rows) {
  emit(name, " = [")
  for (r in rows) emit(fmt_row(r))
  emit("]\n")
}
emit_code <- function(name, code) {
  emit(name, " = {")
  for (k in names(code)) emit("    ", py_str(k), ": ", py_str(code[[k]]), ",")
  emit("}\n")
}

# Evaluate R code given as text in an environment holding the data; warnings are muffled
# (wilcox.test warns that it cannot compute exact p-values with ties, as expected).
ev <- function(code, data) {
  env <- list2env(data, parent = globalenv())
  withCallingHandlers(eval(parse(text = code), envir = env),
                      warning = function(w) invokeRestart("muffleWarning"))
}

## ---------------------------------------------------------------------------
## Input, recomputed fold-changes, cross-check against the raw bundled file
## ---------------------------------------------------------------------------
pairs <- read.csv(in_path, colClasses = c(study_id = "character", patient_id = "character",
                                          arm = "character", biomarker = "character",
                                          response = "character"),
                  stringsAsFactors = FALSE)
stopifnot(all(pairs$study_id == STUDY))
pairs$fc <- pairs$post / pairs$pre
pairs$log2fc <- log2(pairs$post) - log2(pairs$pre)

raw <- read.csv(raw_path, colClasses = "character", stringsAsFactors = FALSE)
raw$used <- ifelse(startsWith(raw$value, "<"), as.numeric(raw$lloq) / 2,
                   suppressWarnings(as.numeric(raw$value)))
key <- function(d, tp) paste(d$patient_id, d$biomarker, tp, sep = "|")
raw_used <- setNames(raw$used, key(raw, raw$timepoint))
stopifnot(identical(unname(raw_used[key(pairs, "Baseline")]), pairs$pre))
stopifnot(identical(unname(raw_used[key(pairs, "Surgery")]), pairs$post))
# Every patient with both a Baseline and a Surgery value is in the pairs, and no other.
has <- function(tp) unique(paste(raw$patient_id, raw$biomarker)[raw$timepoint == tp])
both <- intersect(has("Baseline"), has("Surgery"))
stopifnot(setequal(both, paste(pairs$patient_id, pairs$biomarker)))
cat("input checked against", raw_path, ":", nrow(pairs), "pairs\n")

biomarkers <- sort(unique(pairs$biomarker), method = "radix")  # C-locale order
arms <- sort(unique(pairs$arm), method = "radix")
raw_patients <- unique(raw[, c("patient_id", "arm", "biomarker")])

## ---------------------------------------------------------------------------
## 1. Per arm (one row per biomarker and arm)
## ---------------------------------------------------------------------------
ARM_CODE <- c(
  n_pairs = "length(fc)",
  n_unpaired = "n_patients - length(fc)",
  mean_fc = "mean(fc)",
  gmean_fc = "2^mean(log2fc)",
  gmean_fc_lo = "2^t.test(log2fc)$conf.int[1]",
  gmean_fc_hi = "2^t.test(log2fc)$conf.int[2]",
  median_fc = "median(fc)",
  fc_q1 = "unname(quantile(fc, 0.25, type = 7))",
  fc_q3 = "unname(quantile(fc, 0.75, type = 7))",
  p_wilcoxon = "wilcox.test(log2fc)$p.value",
  p_ttest = "t.test(log2fc)$p.value",
  v_wilcoxon = "unname(wilcox.test(log2fc)$statistic)",
  t_ttest = "unname(t.test(log2fc)$statistic)"
)
ARM_Q_CODE <- c(
  q_wilcoxon = "p.adjust(p_wilcoxon, method = \"BH\")  # over the biomarkers of one arm",
  q_ttest = "p.adjust(p_ttest, method = \"BH\")  # over the biomarkers of one arm",
  q_wilcoxon_holm = "p.adjust(p_wilcoxon, method = \"holm\")  # trialtui stats --fdr holm",
  q_ttest_holm = "p.adjust(p_ttest, method = \"holm\")  # trialtui stats --fdr holm"
)

arm_rows <- list()
for (a in arms) {
  rows <- list()
  for (b in biomarkers) {
    d <- pairs[pairs$arm == a & pairs$biomarker == b, ]
    n_patients <- sum(raw_patients$arm == a & raw_patients$biomarker == b)
    data <- list(fc = d$fc, log2fc = d$log2fc, n_patients = n_patients)
    vals <- lapply(ARM_CODE, ev, data = data)
    exact <- grepl("exact", ev("wilcox.test(log2fc)$method", data), fixed = TRUE)
    rows[[b]] <- c(list(biomarker = b, arm = a), vals, list(exact_wilcoxon = exact))
  }
  p_w <- vapply(rows, function(r) r$p_wilcoxon, 0)
  p_t <- vapply(rows, function(r) r$p_ttest, 0)
  q_w <- ev(ARM_Q_CODE[["q_wilcoxon"]], list(p_wilcoxon = p_w))
  q_t <- ev(ARM_Q_CODE[["q_ttest"]], list(p_ttest = p_t))
  q_wh <- ev(ARM_Q_CODE[["q_wilcoxon_holm"]], list(p_wilcoxon = p_w))
  q_th <- ev(ARM_Q_CODE[["q_ttest_holm"]], list(p_ttest = p_t))
  for (i in seq_along(rows)) {
    rows[[i]]$q_wilcoxon <- q_w[i]
    rows[[i]]$q_ttest <- q_t[i]
    rows[[i]]$q_wilcoxon_holm <- q_wh[i]
    rows[[i]]$q_ttest_holm <- q_th[i]
  }
  arm_rows <- c(arm_rows, unname(rows))
}

## ---------------------------------------------------------------------------
## 2. Between arms: ARM (x) vs REFERENCE (y), per biomarker
## ---------------------------------------------------------------------------
CMP_CODE <- c(
  n = "length(x)",
  n_reference = "length(y)",
  gmfc_ratio = "2^(mean(x) - mean(y))",
  gmfc_ratio_lo = "2^t.test(x, y)$conf.int[1]",
  gmfc_ratio_hi = "2^t.test(x, y)$conf.int[2]",
  hl_shift = "unname(wilcox.test(x, y, conf.int = TRUE)$estimate)",
  hl_lo = "wilcox.test(x, y, conf.int = TRUE)$conf.int[1]",
  hl_hi = "wilcox.test(x, y, conf.int = TRUE)$conf.int[2]",
  rank_biserial = "2 * unname(wilcox.test(x, y)$statistic) / (length(x) * length(y)) - 1",
  p_mannwhitney = "wilcox.test(x, y, conf.int = TRUE)$p.value",
  p_welch = "t.test(x, y)$p.value",
  w_mannwhitney = "unname(wilcox.test(x, y)$statistic)",
  t_welch = "unname(t.test(x, y)$statistic)",
  df_welch = "unname(t.test(x, y)$parameter)"
)
CMP_Q_CODE <- c(
  q_mannwhitney = "p.adjust(p_mannwhitney, method = \"BH\")  # over the biomarkers",
  q_welch = "p.adjust(p_welch, method = \"BH\")  # over the biomarkers"
)
cmp_rows <- list()
for (b in biomarkers) {
  x <- pairs$log2fc[pairs$arm == ARM & pairs$biomarker == b]
  y <- pairs$log2fc[pairs$arm == REFERENCE & pairs$biomarker == b]
  data <- list(x = x, y = y)
  vals <- lapply(CMP_CODE, ev, data = data)
  exact <- grepl("exact", ev("wilcox.test(x, y)$method", data), fixed = TRUE)
  cmp_rows[[b]] <- c(list(biomarker = b, arm = ARM, reference_arm = REFERENCE), vals,
                     list(exact_mannwhitney = exact))
}
p_mw <- vapply(cmp_rows, function(r) r$p_mannwhitney, 0)
p_we <- vapply(cmp_rows, function(r) r$p_welch, 0)
q_mw <- ev(CMP_Q_CODE[["q_mannwhitney"]], list(p_mannwhitney = p_mw))
q_we <- ev(CMP_Q_CODE[["q_welch"]], list(p_welch = p_we))
for (i in seq_along(cmp_rows)) {
  cmp_rows[[i]]$q_mannwhitney <- q_mw[i]
  cmp_rows[[i]]$q_welch <- q_we[i]
}
cmp_rows <- unname(cmp_rows)

## ---------------------------------------------------------------------------
## 3. Spearman correlation of log2FC between every pair of biomarkers, per arm, and pooled
##    over arms only as the arm-adjusted (partial) Spearman correlation given arm (arm
##    "pooled (arm-adjusted)"): ranks of the pooled changes, residuals of a regression on
##    arm as a factor, Pearson correlation of the residuals, t on n - 2 - (k - 1) df.
##    Patients with both changes. CD8 vs FAP is among them.
## ---------------------------------------------------------------------------
POOLED <- "pooled (arm-adjusted)"
COR_CODE <- c(
  n = "length(x)",
  spearman_rho = "unname(cor.test(x, y, method = \"spearman\", exact = FALSE)$estimate)",
  p = "cor.test(x, y, method = \"spearman\", exact = FALSE)$p.value"
)
COR_ADJ_CODE <- c(
  n = "length(x)",
  spearman_rho = paste(
    "cor(resid(lm(rank(x) ~ factor(arm))), resid(lm(rank(y) ~ factor(arm))))"
  ),
  p = paste(
    "{r <- cor(resid(lm(rank(x) ~ factor(arm))), resid(lm(rank(y) ~ factor(arm)))); ",
    "df <- length(x) - 2 - (length(unique(arm)) - 1); ",
    "2 * pt(-abs(r * sqrt(df / (1 - r^2))), df)}",
    sep = ""
  )
)
# With two arms this is ppcor::pcor.test(x, y, arm, method = "spearman") (ppcor ranks the
# arm too; a two-level variable is a factor either way): checked below from the inverse of
# the rank correlation matrix, as ppcor computes it.
ppcor_spearman <- function(x, y, arm) {
  p <- solve(cor(cbind(rank(x), rank(y), rank(as.integer(factor(arm))))))
  -p[1, 2] / sqrt(p[1, 1] * p[2, 2])
}
COR_Q_CODE <- c(q = "p.adjust(p, method = \"BH\")  # over the biomarker pairs of one arm")
cor_rows <- list()
for (a in c(arms, POOLED)) {
  d <- if (a == POOLED) pairs else pairs[pairs$arm == a, ]
  rows <- list()
  for (i in seq_along(biomarkers)) for (j in seq_along(biomarkers)) if (i < j) {
    bx <- biomarkers[i]
    by <- biomarkers[j]
    dx <- d[d$biomarker == bx, c("patient_id", "arm", "log2fc")]
    dy <- d[d$biomarker == by, c("patient_id", "log2fc")]
    m <- merge(dx, dy, by = "patient_id")
    data <- list(x = m$log2fc.x, y = m$log2fc.y, arm = m$arm)
    vals <- lapply(if (a == POOLED) COR_ADJ_CODE else COR_CODE, ev, data = data)
    if (a == POOLED) {
      stopifnot(isTRUE(all.equal(vals$spearman_rho, ppcor_spearman(data$x, data$y, data$arm),
                                 tolerance = 1e-12)))
    }
    rows[[length(rows) + 1]] <- c(list(arm = a, biomarker_x = bx, biomarker_y = by), vals)
  }
  q <- ev(COR_Q_CODE[["q"]], list(p = vapply(rows, function(r) r$p, 0)))
  for (k in seq_along(rows)) rows[[k]]$q <- q[k]
  cor_rows <- c(cor_rows, rows)
}

## ---------------------------------------------------------------------------
## 4. Response: log2FC of responders (CR/PR) vs non-responders (SD/PD), per arm and pooled
## ---------------------------------------------------------------------------
RESP_CODE <- c(
  n_responders = "length(r)",
  n_nonresponders = "length(nr)",
  median_log2fc_responders = "median(r)",
  median_log2fc_nonresponders = "median(nr)",
  p_mannwhitney = "wilcox.test(r, nr)$p.value"
)
RESP_Q_CODE <- c(
  q_mannwhitney = "p.adjust(p_mannwhitney, method = \"BH\")  # over the biomarkers of one arm"
)
resp_rows <- list()
for (a in c(arms, "all")) {
  d <- if (a == "all") pairs else pairs[pairs$arm == a, ]
  rows <- list()
  for (b in biomarkers) {
    db <- d[d$biomarker == b, ]
    data <- list(r = db$log2fc[db$response %in% c("CR", "PR")],
                 nr = db$log2fc[db$response %in% c("SD", "PD")])
    rows[[b]] <- c(list(arm = a, biomarker = b), lapply(RESP_CODE, ev, data = data))
  }
  q <- ev(RESP_Q_CODE[["q_mannwhitney"]],
          list(p_mannwhitney = vapply(rows, function(r) r$p_mannwhitney, 0)))
  for (k in seq_along(rows)) rows[[k]]$q_mannwhitney <- q[k]
  resp_rows <- c(resp_rows, unname(rows))
}

## ---------------------------------------------------------------------------
## Write the module
## ---------------------------------------------------------------------------
for (r in arm_rows) cat(sprintf("arm  %-9s %-27s mean_fc=%.17g p_w=%.17g p_t=%.17g\n",
                                r$biomarker, r$arm, r$mean_fc, r$p_wilcoxon, r$p_ttest))
for (r in cmp_rows) cat(sprintf("cmp  %-9s hl=%.17g p_mw=%.17g p_welch=%.17g\n",
                                r$biomarker, r$hl_shift, r$p_mannwhitney, r$p_welch))

header <- c(
  "\"\"\"R reference values for `trialtui stats` on the bundled sample study PDAC-DEF-2.",
  "",
  paste0("Produced by ", R.version.string, " via"),
  "",
  "    Rscript tests/r/make_sample_reference.R",
  "",
  "GENERATED FILE -- do not edit by hand. Input: tests/data/sample_fold_changes.csv (the",
  "paired pre/post values, checked against sample_data/pdac_defactinib_long.csv by the script);",
  "R recomputes fc = post / pre and log2fc = log2(post) - log2(pre) and every statistic below.",
  "Numbers are printed with sprintf(\"%.17g\"). *_R_CODE maps each field to the R code that",
  "computed it (data: fc, log2fc of one biomarker and arm; x = arm, y = reference arm log2fc;",
  "r / nr = responders' / non-responders' log2fc). RAW_CASES, QNORM_CASES and",
  "TIED_RANKSUM_CASES are literal datasets for cases the sample lacks (see the script).",
  "\"\"\"",
  "",
  paste0("STUDY = ", py_str(STUDY)),
  paste0("ARM = ", py_str(ARM)),
  paste0("REFERENCE_ARM = ", py_str(REFERENCE)),
  paste0("R_VERSION = ", py_str(R.version.string)),
  ""
)
emit_code("ARM_R_CODE", c(ARM_CODE, ARM_Q_CODE))
emit_rows("ARM_REFERENCE", arm_rows)
emit_code("COMPARISON_R_CODE", c(CMP_CODE, CMP_Q_CODE))
emit_rows("COMPARISON_REFERENCE", cmp_rows)
emit_code("CORRELATION_R_CODE", c(COR_CODE, COR_Q_CODE))
emit_code("CORRELATION_ADJUSTED_R_CODE", c(COR_ADJ_CODE, COR_Q_CODE))
emit_rows("CORRELATION_REFERENCE", cor_rows)
emit_code("RESPONSE_R_CODE", c(RESP_CODE, RESP_Q_CODE))
emit_rows("RESPONSE_REFERENCE", resp_rows)
## ---------------------------------------------------------------------------
## 5. Raw-value cases (not from the sample): R does the pairing arithmetic itself
##    (LLOQ/2 for values flagged below the LLOQ, half the smallest positive value for zeros,
##    log2FC = log2(post) - log2(pre)) and the tests, per arm A and B and B vs A.
##    "ratio_ties" has equal ratios post/pre from different values (e.g. 7 -> 20 and
##    40 -> 14): whether their log2FC tie depends on log2's rounding, and R uses C's log2.
## ---------------------------------------------------------------------------
RAW_PREP_CODE <- paste(
  "pos <- c(pre_value, post_value); pseudo <- min(pos[which(pos > 0)]) / 2",
  "used <- function(v, below) ifelse(below, lloq / 2, ifelse(v == 0, pseudo, v))",
  "pre <- used(pre_value, pre_below); post <- used(post_value, post_below)",
  "fc <- post / pre; log2fc <- log2(post) - log2(pre)",
  sep = "; ")
RAW_ARM_CODE <- c(
  v_wilcoxon = "unname(wilcox.test(log2fc[arm == a])$statistic)",
  p_wilcoxon = "wilcox.test(log2fc[arm == a])$p.value",
  exact_wilcoxon = "grepl(\"exact\", wilcox.test(log2fc[arm == a])$method)",
  p_ttest = "t.test(log2fc[arm == a])$p.value",
  gmean_fc_lo = "2^t.test(log2fc[arm == a])$conf.int[1]",
  gmean_fc_hi = "2^t.test(log2fc[arm == a])$conf.int[2]"
)
RAW_CMP_CODE <- c(
  p_mannwhitney = "wilcox.test(log2fc[arm == \"B\"], log2fc[arm == \"A\"], conf.int = TRUE)$p.value",
  hl_shift = "unname(wilcox.test(log2fc[arm == \"B\"], log2fc[arm == \"A\"], conf.int = TRUE)$estimate)",
  hl_lo = "wilcox.test(log2fc[arm == \"B\"], log2fc[arm == \"A\"], conf.int = TRUE)$conf.int[1]",
  hl_hi = "wilcox.test(log2fc[arm == \"B\"], log2fc[arm == \"A\"], conf.int = TRUE)$conf.int[2]",
  exact_mannwhitney = "grepl(\"exact\", wilcox.test(log2fc[arm == \"B\"], log2fc[arm == \"A\"])$method)",
  p_welch = "t.test(log2fc[arm == \"B\"], log2fc[arm == \"A\"])$p.value"
)
RAW_CASES <- list(
  ratio_ties = list(
    arm = rep(c("A", "B"), c(8, 8)),
    pre_value = c(7, 40, 12.3, 45.1, 8.8, 30.2, 5.5, 17.9, 100, 120, 10, 3, 25, 64, 11, 9),
    pre_below = rep(FALSE, 16),
    post_value = c(20, 14, 30.1, 51.2, 4.1, 62.7, 11.9, 9.4, 50, 60, 5, 1.5, 12.5, 32, 5.5, 27),
    post_below = rep(FALSE, 16),
    lloq = 1),
  integer_hscores = list(
    arm = rep(c("A", "B"), c(9, 9)),
    pre_value = c(120, 90, 200, 60, 150, 45, 80, 210, 33, 100, 75, 140, 50, 180, 66, 120, 95, 30),
    pre_below = rep(FALSE, 18),
    post_value = c(60, 45, 100, 30, 75, 90, 20, 70, 11, 50, 25, 70, 100, 60, 22, 40, 38, 10),
    post_below = rep(FALSE, 18),
    lloq = 5),
  lloq_and_zeros = list(
    arm = rep(c("A", "B"), c(7, 6)),
    pre_value = c(12.5, NA, 3.2, 0, 8.1, 15.4, 2.2, 9.9, 4.4, 0, 7.7, NA, 5.1),
    pre_below = c(FALSE, TRUE, FALSE, FALSE, FALSE, FALSE, FALSE,
                  FALSE, FALSE, FALSE, FALSE, TRUE, FALSE),
    post_value = c(NA, 2.4, 0, 6.6, NA, 30.8, 5.5, 11.2, NA, 3.3, 7.0, 1.9, 0),
    post_below = c(TRUE, FALSE, FALSE, FALSE, TRUE, FALSE, FALSE,
                   FALSE, TRUE, FALSE, FALSE, FALSE, FALSE),
    lloq = 1)
)
py_vec <- function(v, f) py_list_of(vapply(v, f, ""))
py_any <- function(v) if (is.logical(v)) py_bool(v) else py_num1(v)
emit("RAW_PREP_R_CODE = ", py_str(RAW_PREP_CODE), "\n")
emit_code("RAW_ARM_R_CODE", RAW_ARM_CODE)
emit_code("RAW_COMPARISON_R_CODE", RAW_CMP_CODE)
raw_items <- list()
for (nm in names(RAW_CASES)) {
  d <- RAW_CASES[[nm]]
  env <- list2env(d, parent = globalenv())
  eval(parse(text = RAW_PREP_CODE), envir = env)
  arm_results <- list()
  for (a in c("A", "B")) {
    env$a <- a
    vals <- lapply(RAW_ARM_CODE, function(code) ev(code, as.list(env)))
    arm_results[[a]] <- py_dict_of(lapply(vals, py_any))
  }
  cmp <- lapply(RAW_CMP_CODE, function(code) ev(code, as.list(env)))
  cat(sprintf("raw  %-16s p_A=%.17g p_B=%.17g p_mw=%.17g\n", nm,
              ev(RAW_ARM_CODE[["p_wilcoxon"]], c(as.list(env), a = "A")),
              ev(RAW_ARM_CODE[["p_wilcoxon"]], c(as.list(env), a = "B")), cmp$p_mannwhitney))
  raw_items[[nm]] <- py_dict_of(list(
    name = py_str(nm),
    arm = py_vec(d$arm, py_str),
    pre_value = py_vec(d$pre_value, py_num1),
    pre_below = py_vec(d$pre_below, py_bool),
    post_value = py_vec(d$post_value, py_num1),
    post_below = py_vec(d$post_below, py_bool),
    lloq = py_num1(d$lloq),
    pre = py_vec(env$pre, py_num1),
    post = py_vec(env$post, py_num1),
    fc = py_vec(env$fc, py_num1),
    log2fc = py_vec(env$log2fc, py_num1),
    arms = py_dict_of(arm_results),
    comparison = py_dict_of(lapply(cmp, py_any))))
}
emit_list("RAW_CASES", raw_items)

## ---------------------------------------------------------------------------
## 6. qnorm: the normal quantiles behind the normal-approximation Hodges-Lehmann
##    interval (alpha / 2 for several confidence levels, and points in every branch of
##    AS 241: |p - 0.5| <= 0.425, the tail, and the far tail below exp(-25)).
## ---------------------------------------------------------------------------
QNORM_CODE <- "qnorm(p, lower.tail = lower_tail)"
qnorm_p <- c((1 - c(0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999)) / 2,
             0.075, 0.0749, 0.3, 0.5, 0.61, 0.925, 0.93, 1e-5, 1e-12, 1e-20, 1e-100, 0.9999999)
emit("QNORM_R_CODE = ", py_str(QNORM_CODE), "\n")
qnorm_items <- list()
for (p in qnorm_p) for (lt in c(TRUE, FALSE)) {
  v <- ev(QNORM_CODE, list(p = p, lower_tail = lt))
  qnorm_items[[length(qnorm_items) + 1]] <-
    py_dict_of(list(p = py_num1(p), lower_tail = py_bool(lt), q = py_num1(v)))
}
emit_list("QNORM_CASES", qnorm_items)

## ---------------------------------------------------------------------------
## 7. Rank-sum tests where every value, or each sample, is tied (unchanged biomarkers):
##    R gives a p-value of NaN (all tied) or a normal-approximation p-value.
## ---------------------------------------------------------------------------
TIED_CODE <- "wilcox.test(x, y)$p.value"
tied <- list(
  all_zero_3_vs_3 = list(x = c(0, 0, 0), y = c(0, 0, 0)),
  one_vs_one_equal = list(x = c(2), y = c(2)),
  constant_1_vs_0 = list(x = c(1, 1, 1), y = c(0, 0, 0)),
  constant_4_vs_3 = list(x = c(0.5, 0.5, 0.5, 0.5), y = c(-1, -1, -1))
)
emit("TIED_RANKSUM_R_CODE = ", py_str(TIED_CODE), "\n")
tied_items <- lapply(names(tied), function(nm) {
  d <- tied[[nm]]
  py_dict_of(list(name = py_str(nm), x = py_vec(d$x, py_num1), y = py_vec(d$y, py_num1),
                  p_value = py_num1(ev(TIED_CODE, d))))
})
emit_list("TIED_RANKSUM_CASES", tied_items)

out[length(out)] <- sub("\n$", "", out[length(out)])  # one newline at the end
writeLines(c(header, out), out_path)
cat("wrote", out_path, "\n")
