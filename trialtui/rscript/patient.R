patient_expected <- function(got) {
  do.call(rbind, lapply(timepoints_of(got, "post_timepoint"), function(tp) {
    p <- pairs_at(tp)
    data.frame(patient_id = p$patient_id, biomarker = p$biomarker, post_timepoint = tp,
               pre = p$value_pre, post = p$value_post, fc = p$fc, log2fc = p$log2fc,
               pre_imputed = p$imputed_pre, post_imputed = p$imputed_post, conf_level = CONF,
               stringsAsFactors = FALSE)
  }))
}
