friedman_expected <- function(got) {
  present <- values[!is.na(values$value) & values$timepoint %in% TIMEPOINTS, ]
  paired <- do.call(rbind, lapply(setdiff(TIMEPOINTS, BASELINE), function(tp) {
    unique(pairs_at(tp)[, c("biomarker", "arm")])
  }))
  groups <- unique(paired)
  rows <- lapply(seq_len(nrow(groups)), function(i) {
    g <- present[present$biomarker == groups$biomarker[i] & present$arm == groups$arm[i], ]
    y <- reshape(g[, c("patient_id", "timepoint", "value")], idvar = "patient_id",
                 timevar = "timepoint", direction = "wide")
    y <- as.matrix(y[, paste0("value.", TIMEPOINTS), drop = FALSE])
    y <- log2(y[complete.cases(y), , drop = FALSE])
    test <- if (nrow(y) >= 1) quietly(friedman.test(y)) else NULL
    chisq <- if (is.null(test)) NA else value_or_na(test$statistic)
    data.frame(biomarker = groups$biomarker[i], arm = groups$arm[i], n_complete = nrow(y),
               n_timepoints = length(TIMEPOINTS),
               friedman_chisq = if (is.finite(chisq)) chisq else NA,
               p_friedman = if (nrow(y) >= MIN_N && is.finite(chisq)) test$p.value else NA,
               conf_level = CONF, stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, rows)
  if (is.null(out)) return(NULL)
  out$q_friedman <- adjust(out$p_friedman, out$arm)
  out
}
