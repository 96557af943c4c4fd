#!/usr/bin/env Rscript
# Regenerates tests/reference/meta_reference.json: R meta's own metaprop() results (the values
# `convention = "meta"` promises) on a grid of datasets and options. Install R meta as
# tests/reference/README.md says, then:
#   Rscript tests/reference/make_meta_reference.R tests/reference/meta_reference.json
# Numbers are written with 17 significant digits, so an unchanged result regenerates as an empty diff.
suppressPackageStartupMessages({library(meta); library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "meta_reference.json"
settings.meta("reset", quietly = TRUE)

datasets <- list(
  weaning = list(x = c(10, 9, 20, 9, 11), n = c(10, 10, 20, 14, 11)),   # data/: 2018 weaning counts
  k1 = list(x = 7, n = 20),
  k2 = list(x = c(5, 116), n = c(119, 170)),
  k2_close = list(x = c(12, 15), n = c(40, 45)),
  zeros = list(x = c(0, 3, 0, 5, 1), n = c(15, 20, 8, 30, 12)),
  all_full = list(x = c(10, 20, 5), n = c(10, 20, 5)),
  unequal_n = list(x = c(3, 450, 12, 2000, 1), n = c(10, 5000, 40, 20000, 3)),
  oscillating = list(x = c(2, 37, 3, 2, 3, 0, 1, 0, 3, 4), n = c(20, 37, 25, 36, 38, 24, 13, 8, 23, 10)),
  moderate = list(x = c(14, 22, 9, 31, 18, 25, 7, 40), n = c(30, 41, 25, 52, 33, 60, 20, 70))
)

num <- function(v) if (is.null(v)) NA_real_ else unname(as.numeric(v))
back <- function(m, v) {  # as print.meta: PFT at the harmonic mean of the sample sizes
  vapply(v, function(x) if (is.na(x)) NA_real_ else
    num(meta:::backtransf(x, m$sm, n = 1 / mean(1 / m$n))), 0)
}
grab <- function(m) {
  res <- list(
    k = m$k, TE = num(m$TE), seTE = num(m$seTE), lower = num(m$lower), upper = num(m$upper),
    w_common = num(m$w.common), w_random = num(m$w.random),
    TE_common = num(m$TE.common), seTE_common = num(m$seTE.common),
    lower_common = num(m$lower.common), upper_common = num(m$upper.common),
    statistic_common = num(m$statistic.common), pval_common = num(m$pval.common),
    TE_random = num(m$TE.random), seTE_random = num(m$seTE.random),
    lower_random = num(m$lower.random), upper_random = num(m$upper.random),
    statistic_random = num(m$statistic.random), pval_random = num(m$pval.random),
    df_random = num(m$df.random),
    seTE_predict = num(m$seTE.predict), df_predict = num(m$df.predict),
    lower_predict = num(m$lower.predict), upper_predict = num(m$upper.predict),
    tau2 = num(m$tau2), lower_tau2 = num(m$lower.tau2), upper_tau2 = num(m$upper.tau2),
    tau = num(m$tau), lower_tau = num(m$lower.tau), upper_tau = num(m$upper.tau),
    I2 = num(m$I2), lower_I2 = num(m$lower.I2), upper_I2 = num(m$upper.I2),
    H = num(m$H), lower_H = num(m$lower.H), upper_H = num(m$upper.H),
    Q = num(m$Q), df_Q = num(m$df.Q), pval_Q = num(m$pval.Q),
    p_common = back(m, c(m$TE.common, m$lower.common, m$upper.common)),
    p_random = back(m, c(m$TE.random, m$lower.random, m$upper.random)),
    p_predict = back(m, c(m$lower.predict, m$upper.predict)),
    study_p_lower = num(m$lower), study_p_upper = num(m$upper)
  )
  # study CIs: R meta stores them on the sm scale; the proportions it prints
  res$study_p_lower <- num(mapply(function(x, n) meta:::backtransf(x, m$sm, n = n), m$lower, m$n))
  res$study_p_upper <- num(mapply(function(x, n) meta:::backtransf(x, m$sm, n = n), m$upper, m$n))
  if (m$method == "GLMM") {
    res$Q_LRT <- num(m$Q.LRT); res$pval_Q_LRT <- num(m$pval.Q.LRT)
  }
  res
}

cases <- list()
add <- function(name, ds, call, args) {
  d <- datasets[[ds]]
  m <- tryCatch(suppressWarnings(do.call(metaprop, c(list(event = d$x, n = d$n), args))),
                error = function(e) e)
  res <- if (inherits(m, "error")) list(error = conditionMessage(m)) else grab(m)
  # R meta's printout, compared line by line, for the default call and a few others
  if (!inherits(m, "error") && grepl("default$|PLOGIT REML (classic|HK)$|PFT DL classic$|PRAW PM HK$|PAS ML classic$|predict|incr", name))
    res$print <- capture.output(print(m, digits = 4, prediction = TRUE))
  cases[[length(cases) + 1]] <<- c(list(name = name, dataset = ds, call = call, x = d$x, n = d$n,
                                        args = args), res)
}
argtext <- function(args) paste(vapply(names(args), function(a) {
  v <- args[[a]]; paste0(a, " = ", if (is.character(v)) paste0('"', v, '"') else format(v))
}, ""), collapse = ", ")

for (ds in names(datasets)) {
  add(paste(ds, "default"), ds, "metaprop(event, n)", list())
  for (sm in c("PLOGIT", "PRAW", "PAS", "PFT")) for (tau in c("REML", "DL", "PM", "ML"))
    for (ci in c("classic", "HK")) {
      args <- list(sm = sm, method = "Inverse", method.tau = tau, method.random.ci = ci)
      add(paste(ds, sm, tau, ci), ds, paste0("metaprop(event, n, ", argtext(args), ")"), args)
    }
  for (pr in c("HTS", "S")) {
    args <- list(sm = "PLOGIT", method = "Inverse", method.tau = "REML", method.predict = pr)
    add(paste(ds, "predict", pr), ds, paste0("metaprop(event, n, ", argtext(args), ")"), args)
  }
  for (sm in c("PLOGIT", "PRAW")) {
    args <- list(sm = sm, method = "Inverse", incr = 0.1)
    add(paste(ds, sm, "incr 0.1"), ds, paste0("metaprop(event, n, ", argtext(args), ")"), args)
  }
}

meta_out <- list(
  provenance = list(
    made_by = "Rscript tests/reference/make_meta_reference.R tests/reference/meta_reference.json",
    R = R.version.string, meta = as.character(packageVersion("meta")),
    metafor = as.character(packageVersion("metafor")), lme4 = as.character(packageVersion("lme4")),
    note = paste("R meta metaprop() with its defaults (settings.meta('reset')) except the arguments",
                 "listed per case; values on the sm scale unless named p_*; study_p_* are the",
                 "back-transformed study CIs; print (some cases) is print(m, digits = 4, prediction = TRUE).")),
  cases = cases)
# one case per line: the file stays a few hundred lines and a changed case is a one-line diff
js <- function(v, ...) toJSON(v, auto_unbox = TRUE, digits = I(17), na = "null", null = "null", ...)
writeLines(c("{", paste0('"provenance": ', js(meta_out$provenance, pretty = TRUE), ","), '"cases": [',
             paste(vapply(meta_out$cases, function(cs) as.character(js(cs)), ""), collapse = ",\n"), "]", "}"),
           out)
