## ---------------------------------------------------------------------------
## Result: the largest relative difference per column; exit 1 above the tolerance
## ---------------------------------------------------------------------------
report$status <- ifelse(report$max_rel_diff > TOLERANCE, "DIFFERS", "ok")
print(report, row.names = FALSE, digits = 3)
failed <- sum(report$status != "ok")
if (failed > 0) {
  cat(sprintf("\n%d column(s) differ from R by more than %g\n", failed, TOLERANCE))
  quit(status = 1)
}
cat(sprintf("\nevery column agrees with R within %g\n", TOLERANCE))
quit(status = 0)
