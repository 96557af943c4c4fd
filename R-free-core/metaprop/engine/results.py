"""Frozen results objects. Values are kept on the ``sm`` scale; ``to_dict`` adds proportions."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .conventions import CONVENTIONS
from .measures import SM

__all__ = ["Estimate", "PoolResult", "json_number"]


#: the first words of the notes that say how a number was computed (weights of a GLMM, the PFT
#: back-transformation), written by this package: tables of many analyses leave them out
GLMM_WEIGHTS = "GLMM: study weights"
BACK_TRANSFORMATION = "Back-transformation"
TECHNICAL_NOTES = (GLMM_WEIGHTS, BACK_TRANSFORMATION)


def reader_notes(notes, drop=TECHNICAL_NOTES) -> tuple[str, ...]:
    """The notes a reader of a table of many analyses needs: all but those starting with ``drop``."""
    return tuple(n for n in notes if not n.startswith(tuple(drop)))


def json_number(v):
    """JSON-safe float: NaN and infinities become None."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True, slots=True)
class Estimate:
    """A pooled estimate on the ``sm`` scale with its Wald or Hartung-Knapp interval.

    Attributes
    ----------
    te, se : float
        Estimate and standard error.
    lower, upper : float
        Confidence limits.
    statistic, pvalue : float
        Test of ``te = 0`` (z, or t with ``df`` for Hartung-Knapp).
    df : float or None
        Degrees of freedom of the t distribution, None for z.
    """

    te: float
    se: float
    lower: float
    upper: float
    statistic: float
    pvalue: float
    df: float | None = None


@dataclass(frozen=True, slots=True)
class PoolResult:
    """Result of :func:`metaprop.pool` or the GLMM fit: one meta-analysis of proportions.

    Everything R meta prints for ``metaprop()``: the studies (events, total, proportion with
    CI, weights), the common-effect and random-effects estimates, the prediction interval,
    tau^2, tau, I^2 (with the Higgins-Thompson interval), H and Cochran's Q. Estimates are on
    the ``sm`` scale (``te``); :meth:`proportion` back-transforms any of them.
    """

    sm: str
    method: str
    method_tau: str
    hakn: bool
    convention: str
    level: float
    incr: float
    method_ci: str
    prediction_df: str
    studlab: tuple[str, ...]
    events: tuple[int, ...]
    total: tuple[int, ...]
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    corrected: tuple[bool, ...]
    study_p: tuple[float, ...]
    study_lower: tuple[float, ...]
    study_upper: tuple[float, ...]
    w_common: tuple[float, ...]
    w_random: tuple[float, ...]
    common: Estimate
    random: Estimate
    pi: tuple[float, float]
    tau2: float
    q: float
    q_df: int
    q_pvalue: float
    i2: float
    i2_ci: tuple[float, float]
    h: float
    h_ci: tuple[float, float] = (float("nan"), float("nan"))
    tau2_ci: tuple[float, float] = (float("nan"), float("nan"))
    tau2_ci_sign: tuple[str, str] = ("", "")
    method_tau_ci: str = ""
    q_lrt: float | None = None
    q_lrt_pvalue: float | None = None
    converged: bool = True
    iterations: int | None = None
    gradient_norm: float | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.events)

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2) if math.isfinite(self.tau2) else float("nan")

    @property
    def tau_ci(self) -> tuple[float, float]:
        """Confidence interval for tau (square roots of the tau^2 limits)."""
        return tuple(math.sqrt(v) if v >= 0 else float("nan") for v in self.tau2_ci)

    @property
    def n_total(self) -> int:
        """Patients in all studies."""
        return int(sum(self.total))

    @property
    def events_total(self) -> int:
        return int(sum(self.events))

    @property
    def harmonic_mean_n(self) -> float:
        return len(self.total) / sum(1.0 / n for n in self.total)

    def proportion(self, values):
        """Back-transform values on the ``sm`` scale to proportions (PFT: Miller, harmonic mean).

        PRAW under ``convention="meta"``: cut to [0, 1], as R meta's ``backtransf`` does.
        """
        out = np.asarray(SM[self.sm].inverse(np.atleast_1d(np.asarray(values, dtype=float)),
                                             np.asarray(self.total)), dtype=float)
        if self.sm == "PRAW" and CONVENTIONS[self.convention].praw_clip:
            out = np.clip(out, 0.0, 1.0)
        return out

    def _p(self, v) -> float:
        return float(self.proportion([v])[0]) if v is not None and math.isfinite(v) else float("nan")

    def back(self, which: str = "random") -> tuple[float, float, float]:
        """(estimate, lower, upper) as proportions for ``which`` in {"random", "common"}."""
        e = self.random if which == "random" else self.common
        return self._p(e.te), self._p(e.lower), self._p(e.upper)

    def pi_proportion(self) -> tuple[float, float]:
        return self._p(self.pi[0]), self._p(self.pi[1])

    def to_dict(self) -> dict:
        """JSON-safe dictionary: proportions for estimates, plus the ``sm``-scale values.

        ``estimate``, ``ci_lower``, ``ci_upper`` are the random-effects estimate (the common-effect
        one when k = 1); ``i2`` is in percent.
        """
        est, lo, hi = self.back("random")
        pil, piu = self.pi_proportion()
        ce, cl, cu = self.back("common")
        return {
            "k": self.k, "events": self.events_total, "patients": self.n_total,
            "sm": self.sm, "method": self.method, "method_tau": self.method_tau,
            "hakn": self.hakn, "convention": self.convention, "prediction_df": self.prediction_df,
            "level": self.level, "incr": self.incr, "method_ci": self.method_ci,
            "estimate": json_number(est), "ci_lower": json_number(lo), "ci_upper": json_number(hi),
            "pi_lower": json_number(pil), "pi_upper": json_number(piu),
            "tau2": json_number(self.tau2), "tau": json_number(self.tau),
            "tau2_lower": json_number(self.tau2_ci[0]), "tau2_upper": json_number(self.tau2_ci[1]),
            "tau2_ci_sign": list(self.tau2_ci_sign), "method_tau_ci": self.method_tau_ci,
            "i2": json_number(100 * self.i2) if self.i2 is not None else None,
            "i2_definition": CONVENTIONS[self.convention].i2_definition,
            "i2_lower": json_number(100 * self.i2_ci[0]), "i2_upper": json_number(100 * self.i2_ci[1]),
            "h": json_number(self.h), "h_lower": json_number(self.h_ci[0]), "h_upper": json_number(self.h_ci[1]),
            "q": json_number(self.q), "q_df": self.q_df, "q_pvalue": json_number(self.q_pvalue),
            "q_lrt": json_number(self.q_lrt), "q_lrt_pvalue": json_number(self.q_lrt_pvalue),
            "converged": self.converged,
            **({"optimizer": {"iterations": self.iterations, "gradient_norm": json_number(self.gradient_norm)}}
               if self.iterations is not None else {}),
            "random": _estimate_dict(self.random, (est, lo, hi)),
            "common": _estimate_dict(self.common, (ce, cl, cu)),
            "pi_te": [json_number(self.pi[0]), json_number(self.pi[1])],
            "harmonic_mean_n": json_number(self.harmonic_mean_n),
            "notes": list(self.notes),
            "studies": _study_dicts(self),
        }

    def __str__(self) -> str:
        from .report import format_pool

        return format_pool(self)


def _estimate_dict(e: Estimate, p3) -> dict:
    """An :class:`Estimate` and its back-transformed ``(estimate, lower, upper)`` for JSON."""
    return {
        "proportion": json_number(p3[0]), "ci_lower": json_number(p3[1]), "ci_upper": json_number(p3[2]),
        "te": json_number(e.te), "se": json_number(e.se), "te_lower": json_number(e.lower),
        "te_upper": json_number(e.upper), "statistic": json_number(e.statistic),
        "pvalue": json_number(e.pvalue), "df": json_number(e.df),
    }


def _study_dicts(r: PoolResult) -> list[dict]:
    """One JSON row per study of ``r``."""
    return [
        {
            "study": s, "events": int(x), "total": int(n), "proportion": json_number(p),
            "ci_lower": json_number(lo_), "ci_upper": json_number(hi_), "yi": json_number(y), "vi": json_number(v),
            "incr_added": bool(c), "weight_common": json_number(wc), "weight_random": json_number(wr),
        }
        for s, x, n, p, lo_, hi_, y, v, c, wc, wr in zip(
            r.studlab, r.events, r.total, r.study_p, r.study_lower,
            r.study_upper, r.yi, r.vi, r.corrected, r.w_common, r.w_random,
            strict=True,
        )
    ]
