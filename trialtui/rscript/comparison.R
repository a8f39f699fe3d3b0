# ANCOVA of one biomarker: lm(log2(post) ~ log2(pre) + arm) over the arms with >= 3 pairs,
# the reference arm as the base level; NA for a singular fit.
ancova_of <- function(g, n_study_arms) {
  counts <- table(g$arm)
  in_fit <- names(counts)[counts >= MIN_N]
  empty <- list()
  if (!(REFERENCE_ARM %in% in_fit) || length(in_fit) < 2) return(empty)
  fd <- g[g$arm %in% in_fit, ]
  fd$arm <- factor(fd$arm, levels = c(REFERENCE_ARM, setdiff(sort(in_fit, method = "radix"), REFERENCE_ARM)))
  fit <- lm(log2(value_post) ~ log2(value_pre) + arm, data = fd)
  if (any(is.na(coef(fit))) || df.residual(fit) < 1) return(empty)
  co <- summary(fit)$coefficients
  ci <- confint(fit, level = CONF)
  overall <- if (n_study_arms > 2) anova(fit)["arm", "Pr(>F)"] else NA
  out <- list()
  for (a in setdiff(in_fit, REFERENCE_ARM)) {
    term <- paste0("arm", a)
    out[[a]] <- c(ancova_ratio = 2^co[term, "Estimate"], ancova_lo = 2^ci[term, 1],
                  ancova_hi = 2^ci[term, 2], p_ancova = co[term, "Pr(>|t|)"],
                  p_ancova_overall = overall)
  }
  out
}

comparison_expected <- function(got) {
  do.call(rbind, lapply(timepoints_of(got), function(tp) {
    p <- pairs_at(tp)
    n_study_arms <- length(unique(p$arm))
    rows <- list()
    by_biomarker <- split(p, p$biomarker)
    for (b in unique(p$biomarker)) {
      g <- by_biomarker[[b]]
      y <- g$log2fc[g$arm == REFERENCE_ARM]
      samples <- split(g$log2fc, g$arm)
      pooled <- unlist(samples)
      kw <- if (length(samples) > 2 && length(pooled) >= MIN_N && diff(range(pooled)) > 0)
        kruskal.test(samples)$p.value else NA
      anc <- ancova_of(g, n_study_arms)
      for (a in setdiff(unique(g$arm), REFERENCE_ARM)) {
        x <- g$log2fc[g$arm == a]
        testable <- length(x) >= MIN_N && length(y) >= MIN_N
        welch <- if (length(x) >= 2 && length(y) >= 2) quietly(t.test(x, y, conf.level = CONF)) else NULL
        rank <- if (length(x) >= 1 && length(y) >= 1)
          quietly(wilcox.test(x, y, conf.int = TRUE, conf.level = CONF)) else NULL
        w <- if (length(y)) sum(outer(x, y, ">")) + 0.5 * sum(outer(x, y, "==")) else NA
        a_fit <- anc[[a]]
        pick <- function(name) if (is.null(a_fit)) NA else unname(a_fit[name])
        rows[[length(rows) + 1]] <- data.frame(
          biomarker = b, arm = a, timepoint = tp,
          n = length(x), n_reference = length(y),
          gmfc_ratio = if (length(y)) 2^(mean(x) - mean(y)) else NA,
          gmfc_ratio_lo = if (is.null(welch)) NA else 2^welch$conf.int[1],
          gmfc_ratio_hi = if (is.null(welch)) NA else 2^welch$conf.int[2],
          hl_shift = if (is.null(rank)) NA else value_or_na(rank$estimate),
          hl_lo = if (is.null(rank)) NA else rank$conf.int[1],
          hl_hi = if (is.null(rank)) NA else rank$conf.int[2],
          rank_biserial = if (length(y)) 2 * w / (length(x) * length(y)) - 1 else NA,
          p_mannwhitney = if (testable && !is.null(rank)) rank$p.value else NA,
          p_welch = if (testable && !is.null(welch)) welch$p.value else NA,
          ancova_ratio = pick("ancova_ratio"), ancova_lo = pick("ancova_lo"),
          ancova_hi = pick("ancova_hi"), p_ancova = pick("p_ancova"),
          p_ancova_overall = pick("p_ancova_overall"),
          p_kruskal = kw,
          t_welch = if (is.null(welch)) NA else value_or_na(welch$statistic),
          df_welch = if (is.null(welch)) NA else value_or_na(welch$parameter),
          conf_level = CONF,
          stringsAsFactors = FALSE)
      }
    }
    out <- do.call(rbind, rows)
    if (is.null(out)) return(NULL)
    out$q_mannwhitney <- adjust(out$p_mannwhitney, out$arm)
    out$q_welch <- adjust(out$p_welch, out$arm)
    out$q_ancova <- adjust(out$p_ancova, out$arm)
    out
  }))
}
