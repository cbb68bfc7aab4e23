#!/usr/bin/env Rscript
# extract_epiestim_data.R - writes the three influenza outbreaks bundled with the R
# package EpiEstim as the CSVs of data/outbreaks/, which sgnn predict reads.
#
# Run (Debian 12; R and EpiEstim are Debian packages):
#   apt-get install r-base-core r-cran-epiestim
#   Rscript scripts/extract_epiestim_data.R data/outbreaks
#
# What it writes (provenance and licence: data/outbreaks/README.md):
#   1. flu2009_pennsylvania.csv  Flu2009$incidence: dates, daily onsets of acute
#      respiratory illness in a Pennsylvania school, 32 days;
#   2. flu1918_baltimore.csv     Flu1918$incidence: 92 days of daily onsets in
#      Baltimore; the package gives no dates, so the time column is `day` (1..92);
#   3. flu2009_nyc_school.csv    flu_2009_NYC_school$incidence: dates, daily cases in a
#      New York City school, 14 days;
#   4. reference/serial_interval.csv  Flu2009$si_distr, the discretized serial interval the
#      datasets come with (shifted gamma, mean 2.6 days, sd 1.5, shift 1 day);
#   5. epiestim_version.txt      the EpiEstim version the files came from.
# Each series is copied unchanged: no cleaning, no smoothing.

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "data/outbreaks"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
Sys.setenv(TZ = "UTC")  # R asks timedatectl otherwise, which containers lack
suppressPackageStartupMessages(library(EpiEstim))

# 1.-3. The incidence series, as date (or day), cases.
data("Flu2009", package = "EpiEstim")
data("Flu1918", package = "EpiEstim")
data("flu_2009_NYC_school", package = "EpiEstim")
write_series <- function(frame, file) {
  write.csv(frame, file.path(out, file), row.names = FALSE, quote = FALSE)
}
write_series(data.frame(date = format(Flu2009$incidence$dates, "%Y-%m-%d"), cases = Flu2009$incidence$I),
             "flu2009_pennsylvania.csv")
write_series(data.frame(day = seq_along(Flu1918$incidence), cases = Flu1918$incidence), "flu1918_baltimore.csv")
write_series(data.frame(date = format(flu_2009_NYC_school$incidence$dates, "%Y-%m-%d"),
                        cases = flu_2009_NYC_school$incidence$I),
             "flu2009_nyc_school.csv")

# 4. The serial interval distribution P(SI = k days), k = 0..11.
stopifnot(isTRUE(all.equal(Flu2009$si_distr, Flu1918$si_distr)))
dir.create(file.path(out, "reference"), showWarnings = FALSE)
write_series(data.frame(days = seq_along(Flu2009$si_distr) - 1, probability = Flu2009$si_distr),
             "reference/serial_interval.csv")

# 5. The source's version.
writeLines(paste("EpiEstim", as.character(packageVersion("EpiEstim"))), file.path(out, "epiestim_version.txt"))
cat("wrote", out, "\n")
