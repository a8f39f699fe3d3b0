arm_expected <- function(got) {
  do.call(rbind, lapply(timepoints_of(got), function(tp) {
    p <- pairs_at(tp)
    window <- values[values$timepoint %in% c(BASELINE, tp), ]
    groups <- unique(values[, c("biomarker", "arm")])
    # one split of the pairs, the patients and the excluded values per (biomarker, arm)
    key <- function(d) paste(d$biomarker, d$arm, sep = "\r")
    pairs_by <- split(p, key(p))
    seen_by <- tapply(values$patient_id, key(values), function(x) length(unique(x)))
    excluded_by <- tapply(window$excluded, key(window), sum)
    rows <- lapply(seq_len(nrow(groups)), function(i) {
      b <- groups$biomarker[i]
      a <- groups$arm[i]
      k <- paste(b, a, sep = "\r")
      g <- if (is.null(pairs_by[[k]])) p[0, ] else pairs_by[[k]]
      x <- g$log2fc
      n <- length(x)
      tt <- if (n >= 2) quietly(t.test(x, conf.level = CONF)) else NULL
      ci <- if (!is.null(tt)) tt$conf.int else if (n >= 2 && sd(x) == 0) c(mean(x), mean(x)) else c(NA, NA)
      wt <- if (n >= 1) quietly(wilcox.test(x)) else NULL
      testable <- n >= MIN_N
      seen <- seen_by[[k]]
      data.frame(
        biomarker = b, arm = a, timepoint = tp,
        n_pairs = n,
        n_unpaired = seen - n,
        mean_fc = if (n) mean(g$fc) else NA,
        gmean_fc = if (n) 2^mean(x) else NA,
        gmean_fc_lo = 2^ci[1],
        gmean_fc_hi = 2^ci[2],
        median_fc = if (n) median(g$fc) else NA,
        fc_q1 = if (n) unname(quantile(g$fc, 0.25, type = 7)) else NA,
        fc_q3 = if (n) unname(quantile(g$fc, 0.75, type = 7)) else NA,
        p_wilcoxon = if (testable && !is.null(wt)) wt$p.value else NA,
        p_ttest = if (testable && !is.null(tt)) tt$p.value else NA,
        mean_log2fc = if (n) mean(x) else NA,
        sd_log2fc = if (n >= 2) sd(x) else NA,
        v_wilcoxon = if (!is.null(wt)) value_or_na(wt$statistic) else 0,
        t_ttest = if (testable && !is.null(tt)) value_or_na(tt$statistic) else NA,
        df_ttest = n - 1,
        n_imputed = sum(g$imputed_pre) + sum(g$imputed_post),
        n_excluded = if (is.na(excluded_by[k])) 0 else unname(excluded_by[k]),
        conf_level = CONF,
        stringsAsFactors = FALSE)
    })
    out <- do.call(rbind, rows)
    if (is.null(out)) return(NULL)
    out$q_wilcoxon <- adjust(out$p_wilcoxon, out$arm)
    out$q_ttest <- adjust(out$p_ttest, out$arm)
    out
  }))
}
