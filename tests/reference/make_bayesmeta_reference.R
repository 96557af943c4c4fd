#!/usr/bin/env Rscript
# Regenerates tests/reference/bayesmeta_reference.json: R bayesmeta's posterior quantiles for the
# normal-normal random-effects model of continuity-corrected logits (metafor escalc, measure "PLO",
# 0.5 added to studies at 0% or 100%), mu ~ N(0, 10^2), tau half-normal or half-Cauchy. metaprop's
# pool_bayes(likelihood = "normal") must give the same posterior: it checks metaprop's grid and its
# integrals against an independent implementation (bayesmeta integrates mu analytically and tau
# by its DIRECT algorithm). Equal-tailed quantiles from qposterior(); theta: a new study's logit.
# bayesmeta 3.4 installs from source (GitHub cran/bayesmeta, cran/forestplot; see README.md here):
#   Rscript tests/reference/make_bayesmeta_reference.R tests/reference/bayesmeta_reference.json
suppressPackageStartupMessages({library(bayesmeta); library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "bayesmeta_reference.json"

datasets <- list(
  crt2018_weaning = list(x = c(10, 9, 20, 9, 11), n = c(10, 10, 20, 14, 11)),
  moderate = list(x = c(12, 18, 9, 25, 14, 30), n = c(20, 25, 18, 30, 26, 35)),
  k3 = list(x = c(3, 15, 7), n = c(10, 20, 30))
)
priors <- list(halfnormal_0.5 = list(family = "halfnormal", scale = 0.5),
               halfnormal_1 = list(family = "halfnormal", scale = 1.0),
               halfcauchy_0.5 = list(family = "halfcauchy", scale = 0.5))
p <- c(0.5, 0.025, 0.975)
res <- list()
for (d in names(datasets)) {
  es <- escalc(measure = "PLO", xi = datasets[[d]]$x, ni = datasets[[d]]$n)
  for (pr in names(priors)) {
    s <- priors[[pr]]$scale
    tp <- if (priors[[pr]]$family == "halfnormal") function(t) dhalfnormal(t, scale = s)
          else function(t) dhalfcauchy(t, scale = s)
    # delta, epsilon: bayesmeta's accuracy (divergence bound of its mixture approximation of mu's
    # posterior; defaults 0.01 and 1e-4 leave errors of about 1e-3 in mu's quantiles)
    bm <- bayesmeta(y = as.numeric(es$yi), sigma = sqrt(as.numeric(es$vi)), mu.prior.mean = 0,
                    mu.prior.sd = 10, tau.prior = tp, delta = 1e-4, epsilon = 1e-6)
    res[[paste(d, pr, sep = "/")]] <- list(
      x = datasets[[d]]$x, n = datasets[[d]]$n, yi = as.numeric(es$yi), vi = as.numeric(es$vi),
      tau_prior = priors[[pr]]$family, tau_prior_scale = s,
      mu = sapply(p, function(q) bm$qposterior(mu.p = q)),
      tau = sapply(p, function(q) bm$qposterior(tau.p = q)),
      theta = sapply(p, function(q) bm$qposterior(theta.p = q, predict = TRUE)))
  }
}
res$provenance <- list(R = R.version.string, bayesmeta = as.character(packageVersion("bayesmeta")),
                       call = "bayesmeta(y, sigma, mu.prior.mean = 0, mu.prior.sd = 10, tau.prior, delta = 1e-4, epsilon = 1e-6)",
                       metafor = as.character(packageVersion("metafor")),
                       script = "tests/reference/make_bayesmeta_reference.R")
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(17), pretty = TRUE), out)
