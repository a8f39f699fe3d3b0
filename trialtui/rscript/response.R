response_expected <- function(got) {
  do.call(rbind, lapply(timepoints_of(got), function(tp) {
    p <- pairs_at(tp)
    p <- p[!is.na(p$response) & p$response %in% c("CR", "PR", "SD", "PD"), ]
    p$responder <- p$response %in% c("CR", "PR")
    rows <- list()
    for (a in c(unique(p$arm), POOLED_RESPONSE)) {
      g <- if (a == POOLED_RESPONSE) p else p[p$arm == a, ]
      by_biomarker <- split(g, g$biomarker)
      for (b in unique(g$biomarker)) {
        r <- by_biomarker[[b]]$log2fc[by_biomarker[[b]]$responder]
        nr <- by_biomarker[[b]]$log2fc[!by_biomarker[[b]]$responder]
        rank <- if (length(r) >= 1 && length(nr) >= 1)
          quietly(wilcox.test(r, nr, conf.int = TRUE, conf.level = CONF)) else NULL
        testable <- length(r) >= MIN_N && length(nr) >= MIN_N
        rows[[length(rows) + 1]] <- data.frame(
          arm = a, biomarker = b, timepoint = tp,
          n_responders = length(r), n_nonresponders = length(nr),
          median_log2fc_responders = if (length(r)) median(r) else NA,
          median_log2fc_nonresponders = if (length(nr)) median(nr) else NA,
          p_mannwhitney = if (testable && !is.null(rank)) rank$p.value else NA,
          hl_shift = if (is.null(rank)) NA else value_or_na(rank$estimate),
          hl_lo = if (is.null(rank)) NA else rank$conf.int[1],
          hl_hi = if (is.null(rank)) NA else rank$conf.int[2],
          conf_level = CONF, stringsAsFactors = FALSE)
      }
    }
    out <- do.call(rbind, rows)
    if (is.null(out)) return(NULL)
    out$q_mannwhitney <- adjust(out$p_mannwhitney, out$arm)
    out
  }))
}
