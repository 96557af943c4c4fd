"""What :func:`metaprop.engine.bayes.pool_bayes` returns: posterior medians and credible intervals,
frozen, with their JSON form."""

from __future__ import annotations

from dataclasses import dataclass

from .priors import prior_text

__all__ = ["Interval", "BayesResult"]


@dataclass(frozen=True, slots=True)
class Interval:
    """Posterior median and equal-tailed credible interval."""

    median: float
    lower: float
    upper: float

    def to_dict(self) -> dict:
        from .results import json_number

        return {"median": json_number(self.median), "lower": json_number(self.lower),
                "upper": json_number(self.upper)}


@dataclass(frozen=True, slots=True)
class BayesResult:
    """Posterior summaries of the binomial-normal model (:func:`pool_bayes`).

    Attributes
    ----------
    studlab, events, total : tuple
        The studies.
    mu, tau : Interval
        Logit-scale mean and between-study standard deviation.
    p_mean : Interval
        Population-averaged proportion (the headline estimand).
    p_median : Interval
        Median study's proportion, expit(mu).
    p_new : Interval
        A new study's proportion (posterior predictive); its ``median`` is the predictive median.
    prob_tau_small : float
        Posterior probability that tau < 0.1.
    mu_prior_mean, mu_prior_sd, tau_prior, tau_prior_scale, level
        The model's settings.
    grid : (int, int)
        Points of the final (mu, tau) grid.
    """

    studlab: tuple[str, ...]
    events: tuple[int, ...]
    total: tuple[int, ...]
    mu: Interval
    tau: Interval
    p_mean: Interval
    p_median: Interval
    p_new: Interval
    prob_tau_small: float
    mu_prior_mean: float
    mu_prior_sd: float
    tau_prior: str
    tau_prior_scale: float
    level: float
    grid: tuple[int, int]
    likelihood: str = "binomial"
    method: str = "Bayes"

    @property
    def k(self) -> int:
        return len(self.events)

    @property
    def n_total(self) -> int:
        return int(sum(self.total))

    @property
    def prior_text(self) -> str:
        return prior_text(self.mu_prior_mean, self.mu_prior_sd, self.tau_prior, self.tau_prior_scale)

    def to_dict(self) -> dict:
        from .results import json_number

        return {"k": self.k, "events": int(sum(self.events)), "patients": self.n_total,
                "method": self.method,
                "model": ("binomial-normal (logit), exact likelihood" if self.likelihood == "binomial"
                          else "normal-normal on continuity-corrected logits"),
                "prior": {"mu_mean": self.mu_prior_mean, "mu_sd": self.mu_prior_sd,
                          "tau": self.tau_prior, "tau_scale": self.tau_prior_scale, "text": self.prior_text},
                "level": self.level, "mu": self.mu.to_dict(), "tau": self.tau.to_dict(),
                "mean_proportion": self.p_mean.to_dict(), "median_proportion": self.p_median.to_dict(),
                "new_study": self.p_new.to_dict(), "prob_tau_below_0.1": json_number(self.prob_tau_small),
                "grid": list(self.grid), "studies": list(self.studlab)}

