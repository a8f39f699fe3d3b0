#!/usr/bin/env Rscript
# Reference values for trialtui's statistical tests, computed with R.
#
# Usage (from the repository root):
#     Rscript tests/r/make_reference.R
#
# Writes tests/r_reference.py (a generated Python module; do not edit it by
# hand -- change this script and re-run it instead) and prints every computed
# value to stdout with sprintf("%.17g").
#
# All datasets are literal numbers written out below (no RNG is used).
# Values meant to be tie-free have 3-4 decimals and were checked to contain no
# accidental ties (in |x| for the signed-rank cases, in the pooled sample for
# the rank-sum cases).

options(warn = 1)

## ---------------------------------------------------------------------------
## Output location: tests/r_reference.py (relative to this script)
## ---------------------------------------------------------------------------
script_path <- local({
  a <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(a)) normalizePath(sub("^--file=", "", a[1])) else
    normalizePath("tests/r/make_reference.R", mustWork = FALSE)
})
out_path <- file.path(dirname(dirname(script_path)), "r_reference.py")

## ---------------------------------------------------------------------------
## Formatting helpers (R value -> Python literal text)
## ---------------------------------------------------------------------------
# Results: always %.17g (exact round trip of the double).
py_num1 <- function(v) {
  if (is.na(v) && !is.nan(v)) return("None")
  if (is.nan(v)) return("float('nan')")
  if (is.infinite(v)) return(if (v > 0) "float('inf')" else "float('-inf')")
  s <- sprintf("%.17g", v)
  if (!grepl("[.eE]", s)) s <- paste0(s, ".0")  # keep Python floats floats
  s
}
# Inputs: shortest of %.15g / %.16g / %.17g that round-trips exactly
# (so 2.1 is written as 2.1, still denoting the identical double).
py_in1 <- function(v) {
  if (is.na(v)) return("None")
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), v)
    if (as.numeric(s) == v) break
  }
  if (!grepl("[.eE]", s)) s <- paste0(s, ".0")
  s
}
py_num  <- function(v) vapply(as.numeric(v), py_num1, "")
py_list <- function(v, f = py_in1) {
  paste0("[", paste(vapply(as.numeric(v), f, ""), collapse = ", "), "]")
}
py_str <- function(s) {
  if (is.null(s) || length(s) == 0 || is.na(s)) return("None")
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  paste0("\"", s, "\"")
}
py_bool <- function(b) if (isTRUE(b)) "True" else "False"

# Evaluate an R call given as text in an environment holding the data,
# collecting (and muffling) warnings.
run_call <- function(code, data) {
  env <- list2env(data, parent = globalenv())
  warns <- character(0)
  res <- withCallingHandlers(
    eval(parse(text = code), envir = env),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(res = res, warning = if (length(warns)) paste(warns, collapse = "; ") else NA)
}

# A case is a named list of already-formatted Python literal strings.
py_dict <- function(fields) {
  keys <- names(fields)
  body <- paste0("        \"", keys, "\": ", unlist(fields), ",", collapse = "\n")
  paste0("    {\n", body, "\n    },")
}

out <- character(0)
emit <- function(...) out <<- c(out, paste0(...))
report <- function(section, name, vals) {
  cat(sprintf("%-10s %-34s %s\n", section, name,
              paste(names(vals), vapply(vals, function(v) sprintf("%.17g", v), ""),
                    sep = "=", collapse = " ")))
}

## ---------------------------------------------------------------------------
## 1. One-sample Wilcoxon signed-rank test, wilcox.test(x), mu = 0
## ---------------------------------------------------------------------------
signrank_data <- list(
  n8_no_ties = c(1.2345, -0.5123, 2.3018, 0.8871, -1.1042, 1.7763, 0.4419, 2.9057),
  n12_no_ties_mostly_positive = c(0.8132, 1.4471, 2.0913, -0.3187, 0.6624, 1.9058,
                                  0.2719, 1.1286, -0.1543, 2.6671, 0.9945, 1.5802),
  n15_mixed_signs_no_ties = c(-0.7321, 0.4158, -1.2236, 0.9087, -0.0562, 1.3344, -0.6619,
                              0.2071, -1.8452, 0.5536, -0.3398, 1.0719, -0.8807, 0.1265,
                              -1.4133),
  n10_ties_in_abs = c(0.5, -0.5, 1.25, 1.25, 2, -0.75, 3.1, 0.75, 1.6, 2.4),
  n9_one_zero = c(0.6213, -0.2874, 1.3391, 0, 0.9542, 2.0167, -0.4725, 1.7038, 0.3316),
  n3_no_ties = c(0.8123, -0.2311, 1.4417),
  n5_all_positive = c(0.4127, 1.0358, 0.7794, 2.2461, 1.5932),
  n60_no_ties_normal_approx = c(
    -1.2551, -0.9415, 0.3120, 1.0327, -0.1260, -2.0039, -0.0918, 1.1007,
    -0.7788, -1.9726, 0.6229, 0.6203, -0.2861, 1.1376, -0.2599, -0.1033,
    1.3971, 0.5567, 0.4461, 1.3612, -0.3596, 0.7692, 2.0007, 0.0753,
    0.2056, -0.8033, 2.4605, -0.5553, 0.3906, 2.2399, 1.8200, -0.1784,
    -0.4512, 1.1993, 1.0967, -0.9318, 2.0281, -0.3743, 1.0884, -1.2660,
    -0.4134, 1.1025, 2.1480, -0.1229, -0.0965, 0.6485, -1.2917, 1.3198,
    -0.8537, 2.5023, 1.5639, 1.4406, 0.1766, -0.0439, -0.6020, -1.1621,
    -0.0863, -1.5322, -0.6137, -2.7661),
  n20_ties_and_zero = c(0.5, 1.2, -0.5, 0, 2.25, 1.2, -1.2, 0.8, 3.1, 0.5,
                        1.75, -0.25, 2.25, 0.8, 1.5, -2, 0.25, 1.2, 2.6, 0.9),
  log2fc_n8 = c(2.1, 1.7, 3.0, -0.4, 2.5, 1.1, 0.9, 2.8),
  n49_no_ties_exact_boundary = c(
    1.1688, -0.0725, -1.9638, -0.2386, 0.4100, 1.3437, 0.6206, -1.1945,
    0.1270, 0.5371, 0.6326, -1.8124, 1.6761, -0.6437, 1.5820, -0.8455,
    0.2881, 1.7949, -0.9365, 0.7990, 0.0872, 0.1112, 0.9487, -0.2736,
    -0.5004, 0.7637, 1.0249, 0.7335, -2.4399, 0.5233, 0.1703, -0.1983,
    0.3246, 0.7367, 1.3456, -0.4517, 0.7162, 0.3258, -1.1849, 0.9666,
    0.7980, -1.0428, 0.7591, -0.5010, 0.7494, 0.1105, 0.3756, 0.3312,
    0.2476),
  n50_no_ties_approx_boundary = c(
    -0.2853, -0.6868, 2.3030, -1.5291, 1.5067, -0.0229, 0.0742, -0.5689,
    -0.2947, 0.6392, 0.0754, 1.3327, 0.2697, -1.1088, 0.5250, -0.2278,
    1.9725, -0.7769, 0.9360, 0.5500, -0.0519, 0.0173, 1.1025, 0.5842,
    1.8880, -0.8287, 1.3190, 0.4661, -0.7366, -0.2631, -0.6612, 0.4225,
    0.3203, 0.8069, -0.5040, -0.4850, -0.0784, -0.5870, 1.6229, -2.0221,
    -0.0971, -1.0786, 0.0674, 0.9858, -1.4052, 0.7076, -1.6253, -0.9760,
    0.8126, 1.4881),
  n7_all_negative = c(-0.3314, -1.0562, -0.7148, -2.1907, -0.0936, -1.4471, -0.5583)
)

emit("SIGNRANK_CASES = [")
for (nm in names(signrank_data)) {
  x <- signrank_data[[nm]]
  code <- "wilcox.test(x)"
  r <- run_call(code, list(x = x))
  h <- r$res
  exact <- grepl("exact", h$method, fixed = TRUE)
  report("signrank", nm, list(V = unname(h$statistic), p = h$p.value))
  emit(py_dict(list(
    name = py_str(nm), x = py_list(x), r_code = py_str(code),
    statistic = py_num(h$statistic), p_value = py_num(h$p.value),
    exact = py_bool(exact))))
}
emit("]\n")

## ---------------------------------------------------------------------------
## 2. One-sample t-test, t.test(x)
## ---------------------------------------------------------------------------
tone_data <- list(
  n2 = c(1.3127, 2.0584),
  n3 = c(0.4518, 1.2093, -0.3376),
  n8_log2fc = c(2.1, 1.7, 3.0, -0.4, 2.5, 1.1, 0.9, 2.8),
  n6_negative_mean = c(-0.8214, -1.3307, -0.2168, -0.9952, -1.7431, -0.5026),
  n20 = c(0.3125, -0.4417, 1.0832, 0.7256, -0.1893, 0.9574, 0.4461, -0.6308,
          1.2719, 0.0587, 0.5932, -0.2745, 0.8813, 0.1369, 1.5046, -0.9123,
          0.6681, 0.2274, -0.0516, 0.7948),
  n10_near_zero_mean = c(0.1123, -0.2054, 0.0871, -0.1439, 0.2516, -0.0692,
                         0.0318, -0.1876, 0.1547, -0.0291)
)

emit("TTEST_ONE_CASES = [")
for (nm in names(tone_data)) {
  x <- tone_data[[nm]]
  code <- "t.test(x)"
  h <- run_call(code, list(x = x))$res
  report("t1", nm, list(t = unname(h$statistic), df = unname(h$parameter),
                        p = h$p.value, est = unname(h$estimate),
                        lo = h$conf.int[1], hi = h$conf.int[2]))
  emit(py_dict(list(
    name = py_str(nm), x = py_list(x), r_code = py_str(code),
    statistic = py_num(h$statistic), df = py_num(h$parameter),
    p_value = py_num(h$p.value), estimate = py_num(h$estimate),
    conf_low = py_num(h$conf.int[1]), conf_high = py_num(h$conf.int[2]))))
}
emit("]\n")

## ---------------------------------------------------------------------------
## 3. Welch two-sample t-test, t.test(x, y)
## ---------------------------------------------------------------------------
welch_data <- list(
  n5_vs_n6 = list(x = c(2.3141, 1.8726, 2.9053, 2.4418, 1.6297),
                  y = c(1.1032, 1.7415, 0.8867, 1.3329, 2.0146, 0.9521)),
  n3_vs_n8 = list(x = c(3.1054, 2.4471, 3.8826),
                  y = c(1.2213, 0.8457, 1.9032, 1.5548, 0.6671, 1.3386, 2.1149, 1.0724)),
  n2_vs_n2 = list(x = c(1.4172, 2.2036), y = c(0.6315, 0.9948)),
  n10_vs_n10_unequal_var = list(
    x = c(0.5213, 3.1047, -1.2281, 2.4565, 0.0934, 4.0718, -0.6643, 1.8826, 2.9913, -1.7354),
    y = c(0.9127, 1.0348, 0.8861, 1.1524, 0.9736, 1.0982, 0.8453, 1.0217, 0.9592, 1.1036)),
  n12_vs_n7_conf90 = list(
    x = c(-0.4126, 0.2271, -0.8853, 0.1364, -0.3017, -1.0542, 0.4488, -0.6129,
          -0.1775, 0.0532, -0.7364, -0.2249),
    y = c(0.6312, 1.2475, 0.3396, 0.9581, 1.5124, 0.1843, 0.7737),
    conf_level = 0.9)
)

emit("WELCH_CASES = [")
for (nm in names(welch_data)) {
  d <- welch_data[[nm]]
  cl <- if (is.null(d$conf_level)) 0.95 else d$conf_level
  code <- if (cl == 0.95) "t.test(x, y)" else sprintf("t.test(x, y, conf.level = %s)", format(cl))
  h <- run_call(code, list(x = d$x, y = d$y))$res
  est <- unname(h$estimate[1] - h$estimate[2])
  report("welch", nm, list(t = unname(h$statistic), df = unname(h$parameter),
                           p = h$p.value, est = est,
                           lo = h$conf.int[1], hi = h$conf.int[2]))
  emit(py_dict(list(
    name = py_str(nm), x = py_list(d$x), y = py_list(d$y), r_code = py_str(code),
    conf_level = py_in1(cl),
    statistic = py_num(h$statistic), df = py_num(h$parameter),
    p_value = py_num(h$p.value), estimate = py_num(est),
    conf_low = py_num(h$conf.int[1]), conf_high = py_num(h$conf.int[2]))))
}
emit("]\n")

## ---------------------------------------------------------------------------
## 4. Two-sample Wilcoxon rank-sum, wilcox.test(x, y, conf.int = TRUE)
## ---------------------------------------------------------------------------
ranksum_data <- list(
  n5_vs_n7_no_ties = list(
    x = c(1.8234, 2.4107, 1.2291, 2.9876, 2.1543),
    y = c(0.9412, 1.5368, 0.4477, 1.1029, 1.9853, 0.7315, 1.3064)),
  n8_vs_n8_no_ties = list(
    x = c(0.3417, 1.2205, -0.4528, 0.8893, 1.6072, 0.1146, 2.0431, 0.6658),
    y = c(-0.2231, 0.4789, -1.1364, 0.0517, -0.6982, 0.9126, -0.3845, 0.2593)),
  n3_vs_n4_no_ties = list(
    x = c(2.2145, 1.6738, 2.8091),
    y = c(1.1324, 0.5597, 1.9416, 0.8863)),
  n2_vs_n3_no_ties = list(
    x = c(1.5126, 2.3381),
    y = c(0.6647, 1.0952, 1.8719)),
  n10_vs_n12_ties_approx = list(
    x = c(1.5, 2.25, 0.75, 1.5, 3, 2.25, 1.25, 2.5, 0.5, 1.75),
    y = c(0.5, 1.25, 0.25, 1, 0.75, 1.5, 0, 0.5, 1.75, 1, 0.25, 1.25)),
  n6_vs_n6_many_ties = list(
    x = c(1, 2, 2, 3, 3, 3),
    y = c(1, 1, 2, 2, 2, 3)),
  n55_vs_n60_no_ties_approx = list(
    x = c(
      0.2368, 0.9837, 0.3477, -0.3760, 1.7170, -0.2409, -1.4852, -0.1379,
      0.6216, -0.0612, 1.7942, 1.3591, 0.3684, -0.3355, -0.3104, 0.1770,
      -2.3584, 0.2802, 0.3799, 0.3748, -0.8070, -1.5738, 0.0306, 0.1794,
      -0.9501, 0.6424, 0.7638, -1.3654, -0.6796, -1.5815, -1.3838, -2.3423,
      0.2575, -0.3090, 0.2234, -0.1951, -0.7216, 0.1564, -1.6127, 1.6034,
      -1.5348, -0.1492, 0.5853, -1.1227, -0.2465, -1.5322, -0.8658, -1.2145,
      1.4898, -0.8903, -1.0454, 1.4388, 0.0917, 1.4644, 1.3735),
    y = c(
      2.5444, 0.5005, -0.0445, -0.8467, -0.6033, -1.9110, 2.6634, -0.7295,
      1.9708, 0.4351, 1.3223, 0.4146, 0.2583, 1.0812, -0.2683, -1.5567,
      2.5113, 1.0966, 1.6477, 1.7858, -1.3144, 0.7367, -0.8528, -0.4508,
      -0.4659, 0.4765, 1.3345, 1.1402, 0.7435, -0.8496, 1.0076, -0.3772,
      1.2348, -2.3790, 1.6005, 1.0334, -0.8190, 0.6475, 1.6627, 1.2683,
      -1.6602, -0.7060, -0.5848, 1.8705, -0.0943, 1.9705, -0.3148, 1.5500,
      -0.1694, 0.2909, -0.3900, -0.4450, -1.6083, -0.2802, 1.6433, 0.4309,
      -0.8627, 1.5935, 0.8926, 0.0566)),
  n49_vs_n10_no_ties_exact = list(
    x = c(
      0.6923, 2.9038, 0.9489, 0.7402, -0.7988, 0.9104, 2.0158, -0.9248,
      0.8504, 0.2680, -0.2609, 1.3895, 3.6099, 1.5193, 0.9563, -0.3195,
      1.1966, 1.3141, -0.2613, 2.3360, 0.9515, 1.9848, 0.6877, 0.3714,
      0.8454, 0.7639, 2.4738, 2.3911, 1.1465, 2.3958, 1.4918, 1.9443,
      3.1218, 2.0223, 1.9624, 1.0039, 2.0264, 0.4365, 0.7414, 0.6940,
      1.5078, 0.2708, 1.9650, 1.9535, 1.7904, 0.2106, 1.2247, -0.7881,
      1.9161),
    y = c(0.2725, 0.8832, 1.3580, 0.7701, 1.0314, 1.0032, 0.7017, -0.2691,
          0.4382, 0.3691)),
  n20_vs_n4_ties = list(
    x = c(1.2, 0.8, 2.5, 1.2, 3.1, 0.4, 1.9, 2.5, 0.8, 1.6,
          2.2, 1.2, 0.6, 2.8, 1.9, 0.9, 1.4, 2.5, 3.4, 1.1),
    y = c(0.4, 1.2, 0.3, 0.8)),
  n6_vs_n7_no_ties_conf90 = list(
    x = c(0.7214, 1.3358, 0.2491, 1.8036, 0.9927, 1.1542),
    y = c(0.1183, 0.5529, -0.3341, 0.8476, 0.0267, 0.4812, -0.1095),
    conf_level = 0.9),
  n10_vs_n12_ties_approx_conf90 = list(
    x = c(1.5, 2.25, 0.75, 1.5, 3, 2.25, 1.25, 2.5, 0.5, 1.75),
    y = c(0.5, 1.25, 0.25, 1, 0.75, 1.5, 0, 0.5, 1.75, 1, 0.25, 1.25),
    conf_level = 0.9),
  n9_vs_n11_no_ties_x_lower = list(
    x = c(-1.0273, -0.4418, -1.6632, 0.1297, -0.8851, -0.2264, -1.3409, 0.3358, -0.6147),
    y = c(0.4461, -0.1736, 1.2274, 0.7819, 0.0382, 1.5506, 0.9143, -0.3912, 0.6658,
          1.0087, 0.2195))
)

# Arms of hundreds of patients, as omics trials have: trialtui counts W(d) for the
# Hodges-Lehmann search of such samples with a compiled merge (samples averaging 400
# values or more), so these check that path against R. Data from R's generator, ties
# from rounding.
set.seed(20261207)
ranksum_data$n450_vs_n520_ties_large <- list(
  x = round(rnorm(450, 0.3, 1), 2), y = round(rnorm(520, 0, 1), 2))
ranksum_data$n600_vs_n480_heavy_ties_large_conf90 <- list(
  x = round(rnorm(600, -0.2, 1.5), 1), y = round(rnorm(480, 0, 1), 1), conf_level = 0.9)

emit("RANKSUM_CASES = [")
for (nm in names(ranksum_data)) {
  d <- ranksum_data[[nm]]
  cl <- if (is.null(d$conf_level)) 0.95 else d$conf_level
  code <- if (cl == 0.95) "wilcox.test(x, y, conf.int = TRUE)" else
    sprintf("wilcox.test(x, y, conf.int = TRUE, conf.level = %s)", format(cl))
  r <- run_call(code, list(x = d$x, y = d$y))
  h <- r$res
  exact <- grepl("exact", h$method, fixed = TRUE)
  report("ranksum", nm, list(W = unname(h$statistic), p = h$p.value,
                             est = unname(h$estimate),
                             lo = h$conf.int[1], hi = h$conf.int[2]))
  if (!is.na(r$warning)) cat("           warning:", r$warning, "\n")
  emit(py_dict(list(
    name = py_str(nm), x = py_list(d$x), y = py_list(d$y), r_code = py_str(code),
    conf_level = py_in1(cl),
    statistic = py_num(h$statistic), p_value = py_num(h$p.value),
    estimate = py_num(h$estimate),
    conf_low = py_num(h$conf.int[1]), conf_high = py_num(h$conf.int[2]),
    exact = py_bool(exact), warning = py_str(r$warning))))
}
emit("]\n")

## ---------------------------------------------------------------------------
## 5. p.adjust(p, method) for BH and holm
## ---------------------------------------------------------------------------
padjust_data <- list(
  six_distinct = c(0.0012, 0.0473, 0.0081, 0.2314, 0.0195, 0.6627),
  with_ties = c(0.01, 0.04, 0.04, 0.03, 0.01, 0.2, 0.04, 0.5),
  with_na = c(0.0213, NA, 0.0042, 0.1387, NA, 0.0371, 0.5129),
  exceeds_one = c(0.41, 0.27, 0.83, 0.35, 0.62, 0.19, 0.95),
  length_one = c(0.0374),
  with_zero_and_one = c(0, 1, 0.0049, 0.3312, 0.0007, 1, 0.0815),
  all_na_but_one = c(NA, 0.0286, NA)
)

emit("PADJUST_CASES = [")
for (nm in names(padjust_data)) {
  for (m in c("BH", "holm")) {
    p <- padjust_data[[nm]]
    code <- sprintf("p.adjust(p, method = \"%s\")", m)
    adj <- run_call(code, list(p = p))$res
    cat(sprintf("%-10s %-34s %s\n", "p.adjust", paste0(nm, "_", m),
                paste(sprintf("%.17g", adj), collapse = " ")))
    emit(py_dict(list(
      name = py_str(paste0(nm, "_", m)), p = py_list(p), method = py_str(m),
      r_code = py_str(code), adjusted = py_list(adj, py_num1))))
  }
}
emit("]\n")

## ---------------------------------------------------------------------------
## 6. Spearman correlation test, cor.test(x, y, method = "spearman", exact = FALSE)
## ---------------------------------------------------------------------------
spearman_data <- list(
  n10_no_ties = list(
    x = c(0.4127, 1.3316, -0.5583, 0.9245, 2.0871, -1.1309, 0.1762, 1.6654, -0.2418, 0.7093),
    y = c(0.2251, 0.9938, -0.1146, 1.4127, 1.2765, -0.8342, -0.3019, 2.1186, 0.0573, 0.4416)),
  n8_with_ties = list(
    x = c(1, 2, 2, 3, 4, 4, 4, 5),
    y = c(1.5, 1.5, 3, 2, 4, 3, 5, 5)),
  n4 = list(x = c(0.5126, 1.2283, -0.3341, 0.9072),
            y = c(0.2718, 0.6694, 0.1195, 1.0458)),
  n18_strongly_negative = list(
    x = c(0.1021, 0.3375, 0.5418, 0.7262, 0.9131, 1.1847, 1.3529, 1.5186, 1.7743,
          1.9305, 2.1468, 2.3592, 2.5517, 2.7384, 2.9926, 3.1473, 3.3815, 3.5562),
    y = c(4.8127, 4.6215, 4.7033, 4.2318, 4.3506, 3.9824, 3.7162, 3.8249, 3.4137,
          3.1052, 3.2481, 2.8736, 2.6119, 2.7245, 2.3318, 2.0472, 2.1893, 1.8561)),
  n12_ties_both = list(
    x = c(3.5, 1.2, 2.8, 3.5, 0.9, 2.8, 4.1, 1.2, 3.5, 2.2, 0.9, 4.6),
    y = c(2.0, 1.0, 2.5, 3.0, 1.0, 2.0, 3.5, 1.5, 2.5, 2.0, 0.5, 3.0))
)

emit("SPEARMAN_CASES = [")
for (nm in names(spearman_data)) {
  d <- spearman_data[[nm]]
  code <- "cor.test(x, y, method = \"spearman\", exact = FALSE)"
  h <- run_call(code, list(x = d$x, y = d$y))$res
  report("spearman", nm, list(rho = unname(h$estimate), p = h$p.value))
  emit(py_dict(list(
    name = py_str(nm), x = py_list(d$x), y = py_list(d$y), r_code = py_str(code),
    rho = py_num(h$estimate), p_value = py_num(h$p.value))))
}
emit("]\n")

## ---------------------------------------------------------------------------
## 7. Kruskal-Wallis, kruskal.test(list(g1, g2, g3))
## ---------------------------------------------------------------------------
kruskal_data <- list(
  three_groups_no_ties = list(
    g1 = c(0.4418, 1.2031, 0.8756, 0.1392, 0.6627),
    g2 = c(1.5524, 2.0817, 1.3349, 1.8862, 0.9473),
    g3 = c(-0.2261, 0.3054, -0.5418, 0.0726, -0.8133)),
  three_groups_with_ties = list(
    g1 = c(1, 2, 2, 3, 3, 4),
    g2 = c(2, 3, 3, 4, 5, 5),
    g3 = c(1, 1, 2, 2, 3)),
  unequal_sizes_2_5_7 = list(
    g1 = c(2.7716, 3.1542),
    g2 = c(1.1283, 0.6671, 1.9045, 1.4398, 0.2416),
    g3 = c(2.0218, 2.4533, 1.6627, 2.8841, 1.2759, 2.2064, 3.0185)),
  log2fc_three_arms = list(
    g1 = c(2.1, 1.7, 3.0, -0.4, 2.5, 1.1, 0.9, 2.8),
    g2 = c(0.3, -0.2, 0.8, 1.1, 0.1, -0.6, 0.4),
    g3 = c(1.5, 2.2, 0.9, 1.8, 2.6, 1.2))
)

emit("KRUSKAL_CASES = [")
for (nm in names(kruskal_data)) {
  d <- kruskal_data[[nm]]
  code <- "kruskal.test(list(g1, g2, g3))"
  h <- run_call(code, d)$res
  report("kruskal", nm, list(H = unname(h$statistic), df = unname(h$parameter),
                             p = h$p.value))
  groups <- paste0("[", paste(vapply(d, py_list, ""), collapse = ", "), "]")
  emit(py_dict(list(
    name = py_str(nm), groups = groups, r_code = py_str(code),
    statistic = py_num(h$statistic), df = py_num(h$parameter),
    p_value = py_num(h$p.value))))
}
emit("]\n")

## ---------------------------------------------------------------------------
## Write the module
## ---------------------------------------------------------------------------
header <- c(
  "\"\"\"Reference values for trialtui's statistical tests, computed with R.",
  "",
  paste0("Produced by ", R.version.string, " via"),
  "",
  "    Rscript tests/r/make_reference.R",
  "",
  "GENERATED FILE -- do not edit by hand; change tests/r/make_reference.R and",
  "re-run it. Every expected number below is R output printed with",
  "sprintf(\"%.17g\"); R NA is written as None.",
  "",
  "Notes on R's behaviour:",
  "* wilcox.test (pre-4.6.0 semantics): the exact null distribution is used",
  "  only when n < 50 (signed rank; n counted after dropping zeros) or",
  "  n.x < 50 and n.y < 50 (rank sum) AND there are no ties and no zeros;",
  "  otherwise the normal approximation with continuity correction and tie",
  "  correction is used. R >= 4.6.0 instead computes exact conditional",
  "  p-values with ties/zeros by default, so the tied cases would differ there.",
  "* On the normal-approximation path of wilcox.test(conf.int = TRUE) the",
  "  estimate and confidence limits come from uniroot(tol = 1e-4) on a step",
  "  function. The limits land within ~1e-4 of a pairwise difference x_i - y_j;",
  "  the estimate is *some* point where the (uncorrected) statistic is zero, i.e.",
  "  anywhere between the two middle pairwise differences -- it is not",
  "  necessarily their median (see n55_vs_n60_no_ties_approx).",
  "  Compare those fields with a tolerance, not at full precision.",
  "\"\"\"",
  "",
  paste0("SIGNRANK_EXACT_R46_NOTE = ", py_str(paste0(
    "Values produced by ", R.version.string,
    "; this predates R 4.6.0, which made wilcox.test() compute exact conditional",
    " p-values with ties/zeros, so tied/zero cases follow the old normal-approximation rule.")))
  , "",
  ""
)
writeLines(c(header, out), out_path)
cat("wrote", out_path, "\n")
