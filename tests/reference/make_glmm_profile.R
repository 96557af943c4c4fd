#!/usr/bin/env Rscript
# Regenerates tests/reference/glmm_profile_reference.json: for the random-intercept logistic model
# (GLMM, ML, 7-node adaptive Gauss-Hermite), lme4's own profile-likelihood confidence interval of
# tau (lme4 calls it .sig01) and the likelihood-ratio statistic of tau^2 = 0 (deviance at tau = 0
# minus deviance at the fit, both from lme4's deviance function). Independent of metaprop: lme4 profiles its own deviance function.
#   Rscript tests/reference/make_glmm_profile.R tests/reference/glmm_profile_reference.json
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "glmm_profile_reference.json"

datasets <- list(
  crt2018_weaning = list(x = c(10, 9, 20, 9, 11), n = c(10, 10, 20, 14, 11)),
  strong_het = list(x = c(2, 45, 10, 80, 33, 5, 60, 14), n = c(50, 60, 100, 90, 40, 70, 65, 30)),
  moderate = list(x = c(12, 18, 9, 25, 14, 30), n = c(20, 25, 18, 30, 26, 35)),
  homogeneous = list(x = c(8, 9, 16, 7, 21), n = c(10, 11, 20, 9, 26))
)
res <- list()
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  df <- data.frame(x = d$x, n = d$n, study = factor(seq_along(d$x)))
  fit <- glmer(cbind(x, n - x) ~ 1 + (1 | study), data = df, family = binomial, nAGQ = 7,
               control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  # glmer's and glm's logLik differ by the binomial constants: both deviances come from lme4's own
  # deviance function, at the fit and at theta = 0 with the intercept re-optimised
  dd <- update(fit, devFunOnly = TRUE)
  dev0 <- optimize(function(b) dd(c(0, b)), c(-30, 30), tol = 1e-12)$objective
  lrt <- max(0, dev0 - dd(c(getME(fit, "theta"), fixef(fit))))
  ci <- tryCatch(confint(fit, parm = ".sig01", method = "profile", level = 0.95, quiet = TRUE),
                 error = function(e) matrix(NA_real_, 1, 2))
  res[[nm]] <- list(x = d$x, n = d$n, tau = as.numeric(getME(fit, "theta")),
                    mu = as.numeric(fixef(fit)), lrt = lrt,
                    tau_ci = as.numeric(ci[1, ]))
}
res$provenance <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
  script = "tests/reference/make_glmm_profile.R",
  call = "glmer(cbind(x, n - x) ~ 1 + (1 | study), family = binomial, nAGQ = 7); confint(fit, parm = '.sig01', method = 'profile')")
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(17), pretty = TRUE, na = "null"), out)
