#!/usr/bin/env Rscript
# Reference values for the correlation of changes with missing values: every pair of
# biomarkers of several studies, per arm and pooled (arm-adjusted), computed pair by pair
# in base R on the rows both biomarkers have:
#   per arm:  rho <- cor(x, y, method = "spearman", use = "pairwise.complete.obs")
#             p   <- cor.test(x[ok], y[ok], method = "spearman", exact = FALSE)$p.value
#   pooled:   rho <- cor(resid(lm(rank(x[ok]) ~ factor(arm[ok]))),
#                        resid(lm(rank(y[ok]) ~ factor(arm[ok]))))
#             df  <- n - 2 - (k - 1); p <- 2 * pt(-abs(rho * sqrt(df / (1 - rho^2))), df)
#   q <- p.adjust(p, "BH") over the pairs of one study and arm.
# n < 3 (or df < 1) gives no p-value; a biomarker constant on the shared rows (after the
# arm adjustment, for the pooled rows) gives no rho. A pair where a biomarker is constant
# on the rows of every arm is left out of the pooled reference: R's lm leaves residuals of
# order 1e-16 there and cor() returns a number made of rounding.
#
# The studies are designed for the ways missing values reach the computation:
#   blocks     no value missing, or whole patients missing (columns sharing a pattern),
#              with ties, a constant column and two blocks missing different patients;
#   scattered  one value missing at a time (a pattern per column), ties, a column with
#              two values (n < 3), a column constant in one arm;
#   mixed      both at once, three arms, one arm of three patients.
#
# Usage (from the repository root):
#     Rscript tests/r/make_correlation_reference.R
# Writes tests/data/correlation_missing_input.csv (study_id, arm, patient_id, biomarker,
# log2fc) and tests/data/correlation_missing_reference.csv (GENERATED; change this script
# and re-run).

options(warn = 1)
script_path <- local({
  a <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(a)) normalizePath(sub("^--file=", "", a[1])) else
    normalizePath("tests/r/make_correlation_reference.R", mustWork = FALSE)
})
data_dir <- file.path(dirname(dirname(script_path)), "data")

set.seed(20261125)

# one study: a patients x biomarkers matrix (NA = missing) and each patient's arm
make_study <- function(sizes, k, digits) {
  arm <- rep(paste0("arm", LETTERS[seq_along(sizes)]), sizes)
  n <- length(arm)
  shift <- rnorm(length(sizes), sd = 1.5)[as.integer(factor(arm))]
  m <- sapply(seq_len(k), function(j) round(shift * (j %% 3 - 1) + rnorm(n), digits[j]))
  colnames(m) <- sprintf("B%02d", seq_len(k))
  list(arm = arm, m = m)
}

blocks <- make_study(c(11, 10), 9, c(2, 2, 0, 3, 3, 1, 3, 3, 3))
b <- blocks$m
b[, "B05"] <- 1.5                          # constant everywhere
b[c(2, 14), c("B06", "B07")] <- NA         # whole patients missing: one block
b[c(5, 17, 18), c("B08", "B09")] <- NA     # other patients: shared rows differ from both
blocks$m <- b

scattered <- make_study(c(13, 12), 8, c(3, 1, 3, 3, 0, 3, 3, 3))
s <- scattered$m
for (j in c(1, 2, 3, 4, 6, 7)) s[sample(nrow(s), j %% 3 + 1), j] <- NA  # a pattern each
s[-c(3, 20), "B05"] <- NA                  # two values only: n <= 2 with every other
s[scattered$arm == "armA", "B08"] <- 0.25  # constant in one arm
scattered$m <- s

mixed <- make_study(c(10, 9, 3), 10, c(3, 3, 3, 1, 3, 3, 3, 3, 3, 0))
x <- mixed$m
x[c(4, 12), c("B01", "B02", "B03")] <- NA  # a block missing whole patients
x[7, "B04"] <- NA                          # single values
x[c(1, 15), "B05"] <- NA
x[21, "B06"] <- NA                         # in the arm of three: two left there
x[c(2, 3), c("B07", "B08")] <- NA          # a second block
mixed$m <- x

studies <- list(blocks = blocks, scattered = scattered, mixed = mixed)

per_arm <- function(m) {
  out <- list()
  names <- colnames(m)
  for (i in seq_along(names)) for (j in seq_along(names)) {
    if (names[i] >= names[j]) next
    ok <- complete.cases(m[, i], m[, j])
    n <- sum(ok)
    if (n == 0 || all(is.na(m[, i])) || all(is.na(m[, j]))) next
    rho <- suppressWarnings(cor(m[, i], m[, j], method = "spearman",
                                use = "pairwise.complete.obs"))
    p <- NA_real_
    if (n >= 3 && !is.na(rho)) {
      p <- suppressWarnings(cor.test(m[ok, i], m[ok, j], method = "spearman",
                                     exact = FALSE)$p.value)
    }
    out[[length(out) + 1]] <- data.frame(biomarker_x = names[i], biomarker_y = names[j],
                                         n = n, spearman_rho = rho, p = p)
  }
  do.call(rbind, out)
}

pooled <- function(m, arm) {
  out <- list()
  names <- colnames(m)
  for (i in seq_along(names)) for (j in seq_along(names)) {
    if (names[i] >= names[j]) next
    ok <- complete.cases(m[, i], m[, j])
    n <- sum(ok)
    if (n < 2) next
    a <- factor(arm[ok])
    ex <- resid(lm(rank(m[ok, i]) ~ a))
    ey <- resid(lm(rank(m[ok, j]) ~ a))
    constant <- function(v, w) all(tapply(v, a, function(z) length(unique(z)) == 1))
    if (constant(m[ok, i]) || constant(m[ok, j])) next
    rho <- cor(ex, ey)
    df <- n - 2 - (nlevels(droplevels(a)) - 1)
    p <- if (n >= 3 && df >= 1) 2 * pt(-abs(rho * sqrt(df / (1 - rho^2))), df) else NA_real_
    out[[length(out) + 1]] <- data.frame(biomarker_x = names[i], biomarker_y = names[j],
                                         n = n, spearman_rho = rho, p = p)
  }
  do.call(rbind, out)
}

inputs <- list()
refs <- list()
for (study in names(studies)) {
  st <- studies[[study]]
  m <- st$m
  for (i in seq_len(nrow(m))) for (j in seq_len(ncol(m))) {
    if (!is.na(m[i, j])) {
      inputs[[length(inputs) + 1]] <- data.frame(
        study_id = study, arm = st$arm[i], patient_id = sprintf("%s-%02d", study, i),
        biomarker = colnames(m)[j], log2fc = m[i, j])
    }
  }
  for (arm in unique(st$arm)) {
    r <- per_arm(m[st$arm == arm, , drop = FALSE])
    r$q <- p.adjust(r$p, "BH")
    refs[[length(refs) + 1]] <- cbind(study_id = study, arm = arm, r)
  }
  r <- pooled(m, st$arm)
  # q over every pooled pair: the left-out (constant) pairs have no p-value anyway
  r$q <- p.adjust(r$p, "BH")
  refs[[length(refs) + 1]] <- cbind(study_id = study, arm = "pooled (arm-adjusted)", r)
}
input <- do.call(rbind, inputs)
ref <- do.call(rbind, refs)
fmt <- function(v) ifelse(is.na(v), "", sprintf("%.17g", v))
input$log2fc <- fmt(input$log2fc)
for (col in c("spearman_rho", "p", "q")) ref[[col]] <- fmt(ref[[col]])
write.csv(input, file.path(data_dir, "correlation_missing_input.csv"), row.names = FALSE,
          quote = FALSE)
write.csv(ref, file.path(data_dir, "correlation_missing_reference.csv"), row.names = FALSE,
          quote = FALSE)
cat(sprintf("R %s.%s: %d input rows, %d reference rows (%d without rho, %d without p)\n",
            R.version$major, R.version$minor, nrow(input), nrow(ref),
            sum(ref$spearman_rho == ""), sum(ref$p == "")))
