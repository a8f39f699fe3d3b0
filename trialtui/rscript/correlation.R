# Pooled rows: the partial Spearman correlation given arm (ranks of the pooled changes,
# residuals of a regression on arm as a factor, t on n - 2 - (k - 1) df for k arms).
partial_spearman <- function(x, y, arm) {
  k <- length(unique(arm))
  residual <- function(v) if (k > 1) resid(lm(rank(v) ~ factor(arm))) else rank(v) - mean(rank(v))
  r <- quietly(cor(residual(x), residual(y)))
  df <- length(x) - 2 - (k - 1)
  r <- value_or_na(r)
  p <- if (length(x) >= MIN_N && df >= 1 && !is.na(r))
    (if (abs(r) == 1) 0 else 2 * pt(-abs(r * sqrt(df / (1 - r^2))), df)) else NA
  list(rho = r, p = p)
}

correlation_expected <- function(got) {
  do.call(rbind, lapply(timepoints_of(got), function(tp) {
    p <- pairs_at(tp)
    arms <- sort(unique(p$arm), method = "radix")
    rows <- list()
    for (a in c(arms, if (length(arms) > 1) POOLED_CORRELATION)) {
      g <- if (a == POOLED_CORRELATION) p else p[p$arm == a, ]
      wide <- reshape(g[, c("patient_id", "arm", "biomarker", "log2fc")],
                      idvar = c("patient_id", "arm"), timevar = "biomarker", direction = "wide")
      names(wide) <- sub("^log2fc\\.", "", names(wide))
      markers <- sort(unique(g$biomarker), method = "radix")
      if (length(markers) < 2) next
      for (i in seq_len(length(markers) - 1)) for (j in (i + 1):length(markers)) {
        x <- wide[[markers[i]]]
        y <- wide[[markers[j]]]
        ok <- !is.na(x) & !is.na(y)
        n <- sum(ok)
        if (a == POOLED_CORRELATION) {
          res <- if (n >= 2) partial_spearman(x[ok], y[ok], wide$arm[ok]) else list(rho = NA, p = NA)
        } else {
          rho <- if (n >= 2) quietly(cor(x[ok], y[ok], method = "spearman")) else NULL
          test <- if (n >= MIN_N)
            quietly(cor.test(x[ok], y[ok], method = "spearman", exact = FALSE)) else NULL
          res <- list(rho = value_or_na(rho), p = if (is.null(test)) NA else test$p.value)
        }
        rows[[length(rows) + 1]] <- data.frame(
          arm = a, biomarker_x = markers[i], biomarker_y = markers[j], timepoint = tp, n = n,
          spearman_rho = res$rho, p = res$p, conf_level = CONF, stringsAsFactors = FALSE)
      }
    }
    out <- do.call(rbind, rows)
    if (is.null(out)) return(NULL)
    out$q <- adjust(out$p, out$arm)
    out
  }))
}
