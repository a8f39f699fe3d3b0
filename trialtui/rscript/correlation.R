correlation_expected <- function(got) {
  do.call(rbind, lapply(timepoints_of(got), function(tp) {
    p <- pairs_at(tp)
    rows <- list()
    for (a in c(sort(unique(p$arm), method = "radix"), POOLED)) {
      g <- if (a == POOLED) p else p[p$arm == a, ]
      wide <- reshape(g[, c("patient_id", "biomarker", "log2fc")], idvar = "patient_id",
                      timevar = "biomarker", direction = "wide")
      names(wide) <- sub("^log2fc\\.", "", names(wide))
      markers <- sort(unique(g$biomarker), method = "radix")
      if (length(markers) < 2) next
      for (i in seq_len(length(markers) - 1)) for (j in (i + 1):length(markers)) {
        x <- wide[[markers[i]]]
        y <- wide[[markers[j]]]
        ok <- !is.na(x) & !is.na(y)
        n <- sum(ok)
        rho <- if (n >= 2) quietly(cor(x[ok], y[ok], method = "spearman")) else NULL
        test <- if (n >= MIN_N) quietly(cor.test(x[ok], y[ok], method = "spearman", exact = FALSE)) else NULL
        rows[[length(rows) + 1]] <- data.frame(
          arm = a, biomarker_x = markers[i], biomarker_y = markers[j], timepoint = tp, n = n,
          spearman_rho = value_or_na(rho), p = if (is.null(test)) NA else test$p.value,
          conf_level = CONF, stringsAsFactors = FALSE)
      }
    }
    out <- do.call(rbind, rows)
    if (is.null(out)) return(NULL)
    out$q <- adjust(out$p, out$arm)
    out
  }))
}
