#!/usr/bin/env Rscript
# Regenerates tests/reference/metafor_reference.json: metafor-convention reference values for
# metaprop on datasets the engine was not developed against (k = 2, 0% and 100% studies, strong
# heterogeneity, the 2018 CRT weaning counts), plus leave-one-out, cumulative, subgroup and
# Egger results. Run against Debian's r-cran-metafor and r-cran-lme4:
#   Rscript tests/reference/make_reference.R tests/reference/metafor_reference.json
# Numbers are written with 17 significant digits so an unchanged result regenerates as an empty diff.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "metafor_reference.json"

datasets <- list(
  crt2018_weaning = list(x = c(10, 9, 20, 9, 11), n = c(10, 10, 20, 14, 11),
                         year = c(2005, 2007, 2008, 2011, 2014), group = c("a", "a", "b", "b", "b")),
  k2 = list(x = c(3, 15), n = c(10, 20), year = c(2001, 2002), group = c("a", "b")),
  zeros = list(x = c(0, 2, 5, 0, 9, 1), n = c(12, 15, 20, 8, 30, 25),
               year = c(1999, 2003, 2003, 2010, 2012, 2015), group = c("a", "b", "a", "b", "a", "b")),
  all_full = list(x = c(5, 8, 12, 30), n = c(5, 8, 12, 31),
                  year = c(2000, 2001, 2002, 2003), group = c("a", "a", "b", "b")),
  strong_het = list(x = c(2, 45, 10, 80, 33, 5, 60, 14), n = c(50, 60, 100, 90, 40, 70, 65, 30),
                    year = c(1995, 1998, 2004, 2004, 2009, 2013, 2018, 2021),
                    group = c("a", "b", "a", "b", "a", "b", "a", "b")),
  large_k = local({ set.seed(20261128); k <- 40; n <- sample(8:120, k, replace = TRUE)
    p <- plogis(rnorm(k, 1.2, 0.9)); x <- rbinom(k, n, p)
    list(x = x, n = n, year = 1990 + seq_len(k), group = rep(c("a", "b"), length.out = k)) })
)
measures <- c(PRAW = "PR", PLOGIT = "PLO", PAS = "PAS", PFT = "PFT")
taus <- c("DL", "REML", "PM", "ML")

num <- function(v) unname(as.numeric(v))
back <- function(sm, v, n) {
  if (all(is.na(v))) return(NA_real_)
  switch(sm, PRAW = v, PLOGIT = transf.ilogit(v), PAS = transf.iarcsin(v),
         PFT = transf.ipft.hm(v, targs = list(ni = n)))
}
fit_block <- function(res, sm, n, test) {
  pr <- predict(res)
  if (is.null(pr$pi.lb)) { pr$pi.lb <- NA_real_; pr$pi.ub <- NA_real_ }
  list(tau2 = num(res$tau2), TE = num(res$b), se = num(res$se), lb = num(res$ci.lb), ub = num(res$ci.ub),
       pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub),
       p = num(back(sm, res$b, n)), p_lb = num(back(sm, res$ci.lb, n)), p_ub = num(back(sm, res$ci.ub, n)),
       p_pi_lb = num(back(sm, pr$pi.lb, n)), p_pi_ub = num(back(sm, pr$pi.ub, n)),
       I2 = num(res$I2), H2 = num(res$H2), QE = num(res$QE), QEp = num(res$QEp),
       weights = num(weights(res)))
}

result <- list(provenance = list(
  script = "tests/reference/make_reference.R",
  computed_with = paste0("metafor ", packageVersion("metafor"), ", lme4 ", packageVersion("lme4"), ", ",
                         R.version.string),
  conventions = paste("metafor defaults: escalc add = 1/2, to = 'only0' (PR and PLO, proportion and variance",
                      "corrected; PAS and PFT not corrected); I2 = tau2/(tau2 + s2); predict() z-based",
                      "prediction interval, t(k-1) with test = 'knha'; PFT back-transformed with",
                      "transf.ipft.hm at the harmonic mean of n.")))

for (nm in names(datasets)) {
  d <- datasets[[nm]]
  entry <- list(x = d$x, n = d$n, year = d$year, group = d$group)
  for (sm in names(measures)) {
    es <- escalc(measure = measures[[sm]], xi = d$x, ni = d$n)
    blk <- list(yi = num(es$yi), vi = num(es$vi))
    blk$common <- fit_block(rma(yi, vi, data = es, method = "EE"), sm, d$n)
    for (mt in taus) {
      res <- try(rma(yi, vi, data = es, method = mt, control = list(maxiter = 1000)), silent = TRUE)
      if (inherits(res, "try-error")) next
      blk[[paste0("random_", mt)]] <- fit_block(res, sm, d$n)
      hk <- rma(yi, vi, data = es, method = mt, test = "knha", control = list(maxiter = 1000))
      blk[[paste0("hk_", mt)]] <- fit_block(hk, sm, d$n)
    }
    if (length(d$x) >= 3) {
      res <- rma(yi, vi, data = es, method = "REML")
      l1 <- leave1out(res)
      blk$leave1out_REML <- list(estimate = num(l1$estimate), se = num(l1$se), ci_lb = num(l1$ci.lb),
                                 ci_ub = num(l1$ci.ub), tau2 = num(l1$tau2), I2 = num(l1$I2), Q = num(l1$Q))
      cu <- cumul(res, order = d$year)
      blk$cumul_REML <- list(estimate = num(cu$estimate), se = num(cu$se), ci_lb = num(cu$ci.lb),
                             ci_ub = num(cu$ci.ub), tau2 = num(cu$tau2), I2 = num(cu$I2))
      fe <- rma(yi, vi, data = es, method = "EE")
      eg <- regtest(fe, model = "lm", predictor = "sei")
      blk$egger <- list(statistic = num(eg$zval), pvalue = num(eg$pval), df = num(eg$dfs),
                        intercept_limit = num(eg$est))
    }
    # subgroup: separate REML fits per group, Q between from a common-effect fit of the group estimates
    grp <- unique(d$group)
    if (length(d$x) >= 4) {
      fits <- lapply(grp, function(g) rma(yi, vi, data = es, subset = d$group == g, method = "DL"))
      est <- sapply(fits, function(f) num(f$b)); se <- sapply(fits, function(f) num(f$se))
      qb <- rma(est, sei = se, method = "EE")
      blk$subgroup_DL <- list(groups = grp, estimate = est, se = se, tau2 = sapply(fits, function(f) num(f$tau2)),
                              Q_between = num(qb$QE), df = length(grp) - 1, p_between = num(qb$QEp))
    }
    entry[[sm]] <- blk
  }
  if (sum(d$x) > 0 && sum(d$x) < sum(d$n)) {
    g <- try(rma.glmm(measure = "PLO", xi = d$x, ni = d$n, method = "ML"), silent = TRUE)
    if (!inherits(g, "try-error")) {
      pr <- predict(g)
      entry$GLMM <- list(tau2 = num(g$tau2), TE = num(g$b), se = num(g$se), lb = num(g$ci.lb),
                         ub = num(g$ci.ub), QE_Wald = num(g$QE.Wld), I2 = num(g$I2),
                         pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub), QE_LRT = num(g$QE.LRT),
                         p = num(transf.ilogit(g$b)), p_lb = num(transf.ilogit(g$ci.lb)),
                         p_ub = num(transf.ilogit(g$ci.ub)))
    }
  }
  result[[nm]] <- entry
}
writeLines(toJSON(result, digits = I(17), auto_unbox = TRUE, pretty = TRUE, na = "null"), out)
cat("wrote", out, "\n")
