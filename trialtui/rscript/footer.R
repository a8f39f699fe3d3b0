## ---------------------------------------------------------------------------
## Result: the largest relative difference per column; exit 1 above the tolerance
## ---------------------------------------------------------------------------
report$status <- ifelse(report$max_rel_diff > TOLERANCE, "DIFFERS", "ok")
print(report, row.names = FALSE, digits = 3)
failed <- sum(report$status != "ok")
if (failed > 0) {
  cat(sprintf("\n%d column(s) differ from R by more than %g\n", failed, TOLERANCE))
  if (any(grepl("^hl_", report$column[report$status != "ok"]))) {
    cat("Note: with ties or 50 or more observations per group, wilcox.test(conf.int = TRUE)",
        "finds the Hodges-Lehmann estimate and limits with uniroot(tol = 1e-4), so R's own",
        "hl_* values can move by about 1e-4 of the data's scale between equally valid roots.\n",
        sep = "\n")
  }
  quit(status = 1)
}
cat(sprintf("\nevery column agrees with R within %g\n", TOLERANCE))
quit(status = 0)
