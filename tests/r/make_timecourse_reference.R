#!/usr/bin/env Rscript
# Reference values for trialtui's every-timepoint results and Friedman level, computed with R.
#
# Usage (from the repository root):
#     Rscript tests/r/make_timecourse_reference.R
#
# Writes tests/r_timecourse_reference.py (generated; do not edit it by hand -- change this
# script and re-run it). The data below are literal: two arms, three timepoints (BL, C2,
# C4), three biomarkers; C03 has no C4 sample, T05 no C2 sample of CD8 and FAP, T02 no C4
# sample of FAP; KI67 is a whole-number count with tied values within patients (T02 and
# C02 are equal at every timepoint).
#
# Per on-treatment timepoint t (BL paired with t, patients with both values):
#   arm level:        x <- log2(post) - log2(pre); t.test(x): 2^estimate, 2^conf.int, p;
#                     q = p.adjust(p, "BH") across the biomarkers of one arm and timepoint
#   comparison level: t.test(x_Treated, x_Control) (Welch): 2^estimate diff, p, q;
#                     lm(log2(post) ~ log2(pre) + arm): 2^coef, p
# Friedman level: friedman.test(y) on the patients x timepoints matrix y of log2 values of
# the patients with a value at every timepoint; q = p.adjust(p, "BH") across biomarkers.

options(warn = 1)

script_path <- local({
  a <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(a)) normalizePath(sub("^--file=", "", a[1])) else
    normalizePath("tests/r/make_timecourse_reference.R", mustWork = FALSE)
})
out_path <- file.path(dirname(dirname(script_path)), "r_timecourse_reference.py")

py_num1 <- function(v) {
  if (is.na(v)) return("None")
  s <- sprintf("%.17g", v)
  if (!grepl("[.eE]", s)) s <- paste0(s, ".0")
  s
}
py_in1 <- function(v) {
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), v)
    if (as.numeric(s) == v) break
  }
  if (!grepl("[.eE]", s)) s <- paste0(s, ".0")
  s
}
py_nums <- function(v) paste0("[", paste(vapply(as.numeric(v), py_in1, ""), collapse = ", "), "]")
py_strs <- function(v) paste0("[", paste0("\"", v, "\"", collapse = ", "), "]")
py_row <- function(fields) {
  parts <- vapply(names(fields), function(k) {
    v <- fields[[k]]
    val <- if (is.character(v)) paste0("\"", v, "\"") else py_num1(v)
    paste0("\"", k, "\": ", val)
  }, "")
  paste0("    {", paste(parts, collapse = ", "), "},")
}

d <- data.frame(
patient=c("C01","C01","C01","C01","C01","C01","C01","C01","C01","C02","C02","C02","C02","C02","C02","C02","C02","C02","C03","C03","C03","C03","C03","C03","C04","C04","C04","C04","C04","C04","C04","C04","C04","C05","C05","C05","C05","C05","C05","C05","C05","C05","C06","C06","C06","C06","C06","C06","C06","C06","C06","T01","T01","T01","T01","T01","T01","T01","T01","T01","T02","T02","T02","T02","T02","T02","T02","T02","T03","T03","T03","T03","T03","T03","T03","T03","T03","T04","T04","T04","T04","T04","T04","T04","T04","T04","T05","T05","T05","T05","T05","T05","T05","T06","T06","T06","T06","T06","T06","T06","T06","T06","T07","T07","T07","T07","T07","T07","T07","T07","T07"),
arm=rep(c("Control","Treated"),c(51,60)),
timepoint=c("BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","BL","C2","BL","C2","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C4","BL","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4","BL","C2","C4"),
biomarker=c("CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","FAP","FAP","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67","CD8","CD8","CD8","FAP","FAP","FAP","KI67","KI67","KI67"),
value=c(16.2,18.1,17.0,8.0,4.6,5.5,12,12,19,13.3,6.5,6.9,25.2,26.1,15.7,28,28,28,55.0,36.4,28.0,22.2,38,55,23.4,22.2,34.4,14.1,7.7,10.2,12,12,6,31.1,24.0,10.9,13.0,9.1,14.4,8,7,9,24.3,21.5,9.6,14.0,12.5,8.2,23,18,20,18.8,32.7,75.2,20.8,10.6,22.3,69,69,223,16.0,74.6,28.1,17.2,5.4,47,47,47,13.6,64.3,68.1,44.1,30.4,7.5,45,25,162,12.8,20.5,51.6,11.8,7.8,3.1,10,10,24,49.2,141.0,20.6,4.2,34,53,121,8.0,12.7,36.7,26.2,21.6,11.1,21,39,43,105.7,320.7,742.8,30.1,9.4,6.5,6,6,14),
stringsAsFactors = FALSE)
stopifnot(nrow(d) == 111)

arm_rows <- character(0)
comparison_rows <- character(0)
for (tp in c("C2", "C4")) {
  pre <- d[d$timepoint == "BL", c("patient", "arm", "biomarker", "value")]
  post <- d[d$timepoint == tp, c("patient", "biomarker", "value")]
  pairs <- merge(pre, post, by = c("patient", "biomarker"), suffixes = c("_pre", "_post"))
  pairs$x <- log2(pairs$value_post) - log2(pairs$value_pre)
  arm_res <- do.call(rbind, lapply(split(pairs, list(pairs$biomarker, pairs$arm)), function(g) {
    tt <- t.test(g$x, conf.level = 0.95)
    data.frame(biomarker = g$biomarker[1], arm = g$arm[1], n_pairs = nrow(g),
               gmean_fc = 2^unname(tt$estimate), gmean_fc_lo = 2^tt$conf.int[1],
               gmean_fc_hi = 2^tt$conf.int[2], p_ttest = tt$p.value,
               stringsAsFactors = FALSE)
  }))
  arm_res$q_ttest <- ave(arm_res$p_ttest, arm_res$arm, FUN = function(p) p.adjust(p, "BH"))
  for (i in seq_len(nrow(arm_res))) {
    arm_rows <- c(arm_rows, py_row(c(list(timepoint = tp), as.list(arm_res[i, ]))))
  }
  cmp <- do.call(rbind, lapply(split(pairs, pairs$biomarker), function(g) {
    w <- t.test(g$x[g$arm == "Treated"], g$x[g$arm == "Control"])
    g$arm <- factor(g$arm, levels = c("Control", "Treated"))
    fit <- lm(log2(value_post) ~ log2(value_pre) + arm, data = g)
    co <- summary(fit)$coefficients
    data.frame(biomarker = g$biomarker[1], arm = "Treated",
               gmfc_ratio = 2^unname(w$estimate[1] - w$estimate[2]), p_welch = w$p.value,
               ancova_ratio = 2^co["armTreated", "Estimate"],
               p_ancova = co["armTreated", "Pr(>|t|)"], stringsAsFactors = FALSE)
  }))
  cmp$q_welch <- p.adjust(cmp$p_welch, "BH")
  cmp$q_ancova <- p.adjust(cmp$p_ancova, "BH")
  for (i in seq_len(nrow(cmp))) {
    comparison_rows <- c(comparison_rows, py_row(c(list(timepoint = tp), as.list(cmp[i, ]))))
  }
}

friedman_rows <- character(0)
fr <- do.call(rbind, lapply(split(d, list(d$biomarker, d$arm)), function(g) {
  y <- reshape(g[, c("patient", "timepoint", "value")], idvar = "patient",
               timevar = "timepoint", direction = "wide")
  y <- as.matrix(y[, c("value.BL", "value.C2", "value.C4")])
  y <- log2(y[complete.cases(y), , drop = FALSE])
  ft <- friedman.test(y)
  data.frame(biomarker = g$biomarker[1], arm = g$arm[1], n_complete = nrow(y),
             n_timepoints = ncol(y), friedman_chisq = unname(ft$statistic),
             p_friedman = ft$p.value, stringsAsFactors = FALSE)
}))
fr$q_friedman <- ave(fr$p_friedman, fr$arm, FUN = function(p) p.adjust(p, "BH"))
print(fr, digits = 17)
for (i in seq_len(nrow(fr))) friedman_rows <- c(friedman_rows, py_row(as.list(fr[i, ])))

header <- paste0(
  '"""Reference values for every-timepoint results and the Friedman level, computed with R.\n\n',
  "Produced by ", R.version.string, " via\n\n",
  "    Rscript tests/r/make_timecourse_reference.R\n\n",
  "GENERATED FILE -- do not edit by hand. Every expected number is R output printed\n",
  "with sprintf(\"%.17g\"); R NA is written as None. DATA is long format: one value per\n",
  "patient, timepoint (BL day 0, C2 day 21, C4 day 63) and biomarker.\n",
  '"""\n\n',
  "# fmt: off\n")
writeLines(c(
  header,
  "DATA = {",
  paste0("    \"patient_id\": ", py_strs(d$patient), ","),
  paste0("    \"arm\": ", py_strs(d$arm), ","),
  paste0("    \"timepoint\": ", py_strs(d$timepoint), ","),
  paste0("    \"biomarker\": ", py_strs(d$biomarker), ","),
  paste0("    \"value\": ", py_nums(d$value), ","),
  "}",
  "",
  "ARM_R_CODE = \"x <- log2(post) - log2(pre) per timepoint; t.test(x); q = p.adjust(p, 'BH') per arm and timepoint\"",
  "ARM_BY_TIMEPOINT = [", arm_rows, "]",
  "",
  "COMPARISON_R_CODE = \"t.test(x_Treated, x_Control); lm(log2(post) ~ log2(pre) + arm); q = p.adjust(p, 'BH') per timepoint\"",
  "COMPARISON_BY_TIMEPOINT = [", comparison_rows, "]",
  "",
  "FRIEDMAN_R_CODE = \"friedman.test(log2(y)) on complete patients x (BL, C2, C4); q = p.adjust(p, 'BH') per arm\"",
  "FRIEDMAN = [", friedman_rows, "]",
  "# fmt: on"), out_path)
cat("wrote", out_path, "\n")
