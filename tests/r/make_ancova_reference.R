#!/usr/bin/env Rscript
# Reference values for trialtui's baseline-adjusted comparison (ANCOVA), computed with R.
#
# Usage (from the repository root):
#     Rscript tests/r/make_ancova_reference.R
#
# Writes tests/r_ancova_reference.py (generated; do not edit it by hand -- change this
# script and re-run it). All data are literal numbers below (no RNG).
#
# The model, per biomarker:  fit <- lm(log2(post) ~ log2(pre) + arm)  with the reference
# arm as the first factor level, fitted on the arms with at least 3 pairs. For each other
# arm: ratio = 2^coef, CI = 2^confint(fit, level), p from summary(fit); q = p.adjust
# across the biomarkers of one arm; with more than two arms in the study, the overall
# F-test of arm after log2(pre) from anova(fit). A singular fit (a coefficient NA) or an
# arm with fewer than 3 pairs gives NA.

options(warn = 1)

script_path <- local({
  a <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(a)) normalizePath(sub("^--file=", "", a[1])) else
    normalizePath("tests/r/make_ancova_reference.R", mustWork = FALSE)
})
out_path <- file.path(dirname(dirname(script_path)), "r_ancova_reference.py")

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

# One biomarker's data: a list of arms, each a list(pre = ..., post = ...).
biomarker_frame <- function(name, arms) {
  do.call(rbind, lapply(names(arms), function(a) {
    data.frame(biomarker = name, arm = a, pre = arms[[a]]$pre, post = arms[[a]]$post,
               stringsAsFactors = FALSE)
  }))
}

ancova_rows <- function(d, reference, conf_level, n_study_arms) {
  counts <- table(d$arm)
  in_fit <- names(counts)[counts >= 3]
  others <- setdiff(sort(unique(d$arm)), reference)
  empty <- data.frame(biomarker = d$biomarker[1], arm = others, ratio = NA, lo = NA,
                      hi = NA, p = NA, p_overall = NA, stringsAsFactors = FALSE)
  if (!(reference %in% in_fit) || length(in_fit) < 2) return(empty)
  fd <- d[d$arm %in% in_fit, ]
  fd$arm <- factor(fd$arm, levels = c(reference, setdiff(sort(in_fit), reference)))
  fit <- lm(log2(post) ~ log2(pre) + arm, data = fd)
  if (any(is.na(coef(fit))) || df.residual(fit) < 1) return(empty)
  co <- summary(fit)$coefficients
  ci <- confint(fit, level = conf_level)
  p_overall <- if (n_study_arms > 2) anova(fit)["arm", "Pr(>F)"] else NA
  for (i in seq_along(others)) {
    term <- paste0("arm", others[i])
    if (!(others[i] %in% in_fit)) next
    empty$ratio[i] <- 2^co[term, "Estimate"]
    empty$lo[i] <- 2^ci[term, 1]
    empty$hi[i] <- 2^ci[term, 2]
    empty$p[i] <- co[term, "Pr(>|t|)"]
    empty$p_overall[i] <- p_overall
  }
  empty
}

cases <- list(
  list(
    name = "two_arms_three_biomarkers_bh", reference = "Control", conf_level = 0.95,
    fdr = "BH",
    biomarkers = list(
      M1 = list(
        Control = list(pre = c(7.02, 107.43, 11.47, 10.75, 29.06, 21.21, 12.23, 65.59, 116.14),
                       post = c(9.18, 71.45, 11.05, 10.81, 31.25, 7.91, 13.36, 26.92, 46.32)),
        Treated = list(pre = c(25.52, 7.42, 12.49, 10.36, 55.71, 25.21, 8.16, 10.95, 33.52, 7.14, 26.35),
                       post = c(27.75, 15.01, 10.54, 14.97, 82.96, 21.16, 16.77, 15.02, 31.98, 8.94, 22.15))),
      M2 = list(
        Control = list(pre = c(7.24, 17.18, 20.98, 27.96, 5.54, 7.03, 38.33, 24.23, 12.27),
                       post = c(6.64, 9.31, 27.64, 24.37, 6.65, 9.02, 44.97, 17.36, 11.47)),
        Treated = list(pre = c(5.22, 2.07, 21.57, 36.38, 19.18, 6.87, 4.98, 28.31, 16.59, 56.39, 6.9),
                       post = c(15.33, 3.74, 28.98, 134.51, 18.08, 28.62, 3.92, 17.37, 7.68, 43.75, 6.09))),
      M3 = list(
        Control = list(pre = c(46.11, 19.5, 11.64, 21.38, 14.5, 7.43, 12.29, 23.95, 57.44),
                       post = c(40.1, 7.51, 17.12, 30.12, 22.53, 4.64, 23.26, 22.03, 26.21)),
        Treated = list(pre = c(5.92, 34.47, 32.48, 83.67, 49.93, 23.75, 23.11, 33.07, 21.55, 46.27, 47.59),
                       post = c(6.35, 38.3, 33.84, 46.98, 12.7, 10.18, 13.75, 23.75, 8.92, 15.38, 19.71))))),
  list(
    name = "three_arms_holm_90", reference = "Placebo", conf_level = 0.9, fdr = "holm",
    biomarkers = list(
      CD8 = list(
        Placebo = list(pre = c(7.62, 12.56, 8.98, 43.42, 42.59, 78.01, 35.64, 21.2),
                       post = c(13.64, 19.65, 10.45, 22.05, 55.78, 26.72, 11.1, 35.58)),
        HighDose = list(pre = c(34.54, 14.91, 18.36, 38.89, 13.76, 11.62, 44.3),
                        post = c(44.7, 20.72, 19.31, 66.57, 40.84, 42.73, 90.73)),
        LowDose = list(pre = c(29.62, 26.13, 13.68, 10.43, 8.86, 26.91, 40.21, 24.54, 66.11),
                       post = c(41.65, 18.94, 7.67, 9.3, 4.58, 26.69, 34.48, 25.73, 36.38))),
      FAP = list(
        Placebo = list(pre = c(10.21, 42.11, 17.99, 32.91, 44.37, 6.88, 24.92, 68.46),
                       post = c(12.59, 68.34, 14.43, 9.84, 63.31, 3.67, 23.01, 51.25)),
        HighDose = list(pre = c(31.52, 24.28, 19.1, 27.77, 21.01, 22.02, 5.36),
                        post = c(35.02, 16.86, 23.51, 42.44, 23.17, 27.05, 6.52)),
        LowDose = list(pre = c(29.55, 18.11, 71.81, 6.33, 18.86, 10.31, 57.82, 24.3, 10.64),
                       post = c(40.25, 21.6, 44.09, 44.05, 12.29, 28.3, 72.53, 16.6, 4.81))))),
  list(
    # LowDose has 2 pairs of CD8: left out of the CD8 fit, empty values for it.
    name = "three_arms_one_with_two_pairs", reference = "Placebo", conf_level = 0.95,
    fdr = "BH",
    biomarkers = list(
      CD8 = list(
        Placebo = list(pre = c(7.62, 12.56, 8.98, 43.42, 42.59, 78.01, 35.64, 21.2),
                       post = c(13.64, 19.65, 10.45, 22.05, 55.78, 26.72, 11.1, 35.58)),
        HighDose = list(pre = c(34.54, 14.91, 18.36, 38.89, 13.76, 11.62, 44.3),
                        post = c(44.7, 20.72, 19.31, 66.57, 40.84, 42.73, 90.73)),
        LowDose = list(pre = c(29.62, 26.13), post = c(41.65, 18.94))),
      FAP = list(
        Placebo = list(pre = c(10.21, 42.11, 17.99, 32.91, 44.37, 6.88, 24.92, 68.46),
                       post = c(12.59, 68.34, 14.43, 9.84, 63.31, 3.67, 23.01, 51.25)),
        HighDose = list(pre = c(31.52, 24.28, 19.1, 27.77, 21.01, 22.02, 5.36),
                        post = c(35.02, 16.86, 23.51, 42.44, 23.17, 27.05, 6.52)),
        LowDose = list(pre = c(29.55, 18.11, 71.81, 6.33, 18.86, 10.31, 57.82, 24.3, 10.64),
                       post = c(40.25, 21.6, 44.09, 44.05, 12.29, 28.3, 72.53, 16.6, 4.81))))),
  list(
    # S100: baseline constant within each arm, so log2(pre) is collinear with arm and
    # lm reports an NA coefficient (singular fit). GZMB is an ordinary fit.
    name = "singular_fit", reference = "A", conf_level = 0.95, fdr = "BH",
    biomarkers = list(
      S100 = list(
        A = list(pre = c(10, 10, 10, 10), post = c(12.5, 8.1, 11.2, 9.9)),
        B = list(pre = c(20, 20, 20, 20, 20), post = c(31.2, 25.4, 40.3, 22.8, 35.5))),
      GZMB = list(
        A = list(pre = c(3.1, 5.7, 2.2, 8.4), post = c(2.9, 7.1, 2.6, 6.3)),
        B = list(pre = c(4.4, 1.9, 6.6, 3.3, 9.8), post = c(9.2, 3.5, 15.1, 6.0, 17.7)))))
)

blocks <- character(0)
for (case in cases) {
  d <- do.call(rbind, lapply(names(case$biomarkers), function(b) {
    biomarker_frame(b, case$biomarkers[[b]])
  }))
  n_study_arms <- length(unique(d$arm))
  res <- do.call(rbind, lapply(split(d, d$biomarker), ancova_rows,
                               reference = case$reference, conf_level = case$conf_level,
                               n_study_arms = n_study_arms))
  res$q <- ave(res$p, res$arm, FUN = function(p) p.adjust(p, method = case$fdr))
  print(case$name)
  print(res, digits = 17)
  rows <- vapply(seq_len(nrow(res)), function(i) {
    sprintf(paste0("            {\"biomarker\": \"%s\", \"arm\": \"%s\", \"ancova_ratio\": %s, ",
                   "\"ancova_lo\": %s, \"ancova_hi\": %s, \"p_ancova\": %s, \"q_ancova\": %s, ",
                   "\"p_ancova_overall\": %s},"),
            res$biomarker[i], res$arm[i], py_num1(res$ratio[i]), py_num1(res$lo[i]),
            py_num1(res$hi[i]), py_num1(res$p[i]), py_num1(res$q[i]),
            py_num1(res$p_overall[i]))
  }, "")
  blocks <- c(blocks, paste0(
    "    {\n",
    "        \"name\": \"", case$name, "\",\n",
    "        \"reference_arm\": \"", case$reference, "\",\n",
    "        \"conf_level\": ", py_in1(case$conf_level), ",\n",
    "        \"fdr\": \"", tolower(case$fdr), "\",\n",
    "        \"biomarker\": ", py_strs(d$biomarker), ",\n",
    "        \"arm\": ", py_strs(d$arm), ",\n",
    "        \"pre\": ", py_nums(d$pre), ",\n",
    "        \"post\": ", py_nums(d$post), ",\n",
    "        \"expected\": [\n", paste(rows, collapse = "\n"), "\n        ],\n",
    "    },"))
}

header <- paste0(
  '"""Reference values for the ANCOVA of log2 post on log2 pre and arm, computed with R.\n\n',
  "Produced by ", R.version.string, " via\n\n",
  "    Rscript tests/r/make_ancova_reference.R\n\n",
  "GENERATED FILE -- do not edit by hand. Every expected number is R output printed\n",
  "with sprintf(\"%.17g\"); R NA is written as None.\n",
  '"""\n\n')
code <- paste0(
  "ANCOVA_R_CODE = (\n",
  "    \"fit <- lm(log2(post) ~ log2(pre) + arm) on arms with >= 3 pairs, reference first; \"\n",
  "    \"ratio = 2^coef, CI = 2^confint(fit, level), p from summary(fit), \"\n",
  "    \"q = p.adjust(p, fdr) per arm across biomarkers, overall = anova(fit)['arm', 'Pr(>F)']\"\n",
  ")\n\n")
writeLines(c(paste0(header, code, "# fmt: off\nANCOVA_CASES = ["), blocks, "]", "# fmt: on"), out_path)
cat("wrote", out_path, "\n")
