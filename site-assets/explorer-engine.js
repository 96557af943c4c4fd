// The sensitivity explorer's inverse-variance methods, computed in the reader's browser for any
// choice of studies. A port of the Python engine's path for these two methods
// (metaprop.engine.pooling.pool with convention "meta", tau2_algorithm "metafor"):
//   "IV-logit-HK": sm PLOGIT (0.5 added to events and non-events of 0% or 100% studies, R meta's
//                  method.incr "only0"), REML tau^2, Hartung-Knapp CI with t(k-1);
//   "PFT":         Freeman-Tukey double arcsine, REML tau^2, Wald CI; back-transformed by Miller
//                  (1978) at the harmonic mean of the sample sizes.
// tau^2 by metafor's Fisher scoring (start at the Hedges estimate, stop at a step <= 1e-5, then
// metafor's check of the likelihood at tau^2 = 0); prediction interval mu +- t(k-1) *
// sqrt(tau^2 + SE^2) with the classic SE (R meta >= 8). Quantiles of t come with the data
// (tQuantiles[df - 1] = t(0.975, df), from scipy at build time), so no special function is
// computed here. tests/test_explorer_engine.py runs this file in node against the Python engine
// on thousands of random subsets.
(function (root, factory) {
  "use strict";
  const api = factory();
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.MetapropExplorerEngine = api;
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  const Z975 = 1.959963984540054; // qnorm(0.975)
  const EPS4 = Math.pow(2.220446049250313e-16, 0.25);

  function logit(x, n) {
    let xc = x, nc = n;
    if (x === 0 || x === n) { xc = x + 0.5; nc = n + 1; }
    return [Math.log(xc / (nc - xc)), 1 / xc + 1 / (nc - xc)];
  }
  function pft(x, n) {
    return [0.5 * (Math.asin(Math.sqrt(x / (n + 1))) + Math.asin(Math.sqrt((x + 1) / (n + 1)))), 1 / (4 * n + 2)];
  }
  const expit = (y) => (y >= 0 ? 1 / (1 + Math.exp(-y)) : Math.exp(y) / (1 + Math.exp(y)));
  function ipft(y, n) {
    if (y < pft(0, n)[0]) return 0;
    if (y > pft(n, n)[0]) return 1;
    const s = Math.sin(2 * y);
    return 0.5 * (1 - Math.sign(Math.cos(2 * y)) * Math.sqrt(1 - Math.pow(s + (s - 1 / s) / n, 2)));
  }

  function loglik(yi, vi, t2, reml) {
    let sw = 0, swy = 0, slog = 0;
    for (let i = 0; i < yi.length; i++) { const w = 1 / (vi[i] + t2); sw += w; swy += w * yi[i]; slog += Math.log(vi[i] + t2); }
    const mu = swy / sw;
    let q = 0;
    for (let i = 0; i < yi.length; i++) q += (yi[i] - mu) * (yi[i] - mu) / (vi[i] + t2);
    const out = -0.5 * slog - 0.5 * q;
    return reml ? out - 0.5 * Math.log(sw) : out;
  }

  // metaprop.engine.tau2.tau2_fisher (metafor rma.uni's REML by Fisher scoring)
  function tau2Reml(yi, vi) {
    const k = yi.length;
    const ybar = yi.reduce((a, b) => a + b, 0) / k;
    const rss0 = yi.reduce((a, y) => a + (y - ybar) * (y - ybar), 0);
    const vsum = vi.reduce((a, b) => a + b, 0);
    let tau2 = Math.max(0, (rss0 - vsum * (k - 1) / k) / (k - 1));
    let converged = false;
    for (let it = 0; it <= 100; it++) {
      let sw = 0, swc = 0, sw2 = 0, sw3 = 0, sw2c = 0, sw2cc = 0;
      for (let i = 0; i < k; i++) {
        const c = yi[i] - ybar, a = 1 / (vi[i] + tau2), a2 = a * a, a2c = a2 * c;
        sw += a; swc += a * c; sw2 += a2; sw3 += a2 * a; sw2c += a2c; sw2cc += a2c * c;
      }
      const m = swc / sw;
      const ypp = sw2cc - m * (2 * sw2c - m * sw2);
      const trP = sw - sw2 / sw;
      const trPP = sw2 - 2 * sw3 / sw + (sw2 * sw2) / (sw * sw);
      let adj = (ypp - trP) / trPP;
      if (!Number.isFinite(adj)) adj = 0;
      while (tau2 + adj < 0) adj /= 2;
      tau2 += adj;
      if (Math.abs(adj) <= 1e-5) { converged = true; break; }
    }
    if (!converged) throw new Error("Fisher scoring algorithm did not converge");
    if (loglik(yi, vi, 0, true) - loglik(yi, vi, tau2, true) > EPS4 && tau2 > 1e-5) tau2 = 0;
    return tau2;
  }

  /**
   * Pool events/totals by one of the explorer's inverse-variance methods.
   * @param {number[]} events  events per study
   * @param {number[]} totals  patients per study
   * @param {string} method    "IV-logit-HK" or "PFT"
   * @param {number[]} tQuantiles  tQuantiles[df - 1] = t(0.975, df)
   * @returns {{k, events, patients, est, lo, hi, pil, piu, tau}} proportions (0 to 1) and tau
   */
  function poolIV(events, totals, method, tQuantiles) {
    const k = events.length;
    if (k < 2) throw new Error("at least two studies are needed");
    const tq = (df) => {
      const q = tQuantiles[df - 1];
      if (q === undefined) throw new Error("no t quantile for " + df + " degrees of freedom");
      return q;
    };
    const hk = method === "IV-logit-HK";
    if (!hk && method !== "PFT") throw new Error("unknown method " + method);
    const yi = [], vi = [];
    for (let i = 0; i < k; i++) {
      const [y, v] = hk ? logit(events[i], totals[i]) : pft(events[i], totals[i]);
      yi.push(y); vi.push(v);
    }
    const tau2 = tau2Reml(yi, vi);
    let sw = 0, swy = 0;
    for (let i = 0; i < k; i++) { const w = 1 / (vi[i] + tau2); sw += w; swy += w * yi[i]; }
    const mu = swy / sw;
    const seClassic = Math.sqrt(1 / sw);
    let se = seClassic, q = Z975;
    if (hk) {
      let s = 0;
      for (let i = 0; i < k; i++) s += (yi[i] - mu) * (yi[i] - mu) / (vi[i] + tau2);
      se = Math.sqrt(s / ((k - 1) * sw));
      q = tq(k - 1);
    }
    const half = tq(k - 1) * Math.sqrt(tau2 + seClassic * seClassic);
    let hm = 0;
    for (let i = 0; i < k; i++) hm += 1 / totals[i];
    hm = k / hm;
    const back = hk ? expit : (y) => ipft(y, hm);
    const sumOf = (a) => a.reduce((s, v) => s + v, 0);
    return { k, events: sumOf(events), patients: sumOf(totals), est: back(mu), lo: back(mu - q * se),
             hi: back(mu + q * se), pil: back(mu - half), piu: back(mu + half), tau: Math.sqrt(tau2) };
  }

  return { poolIV, tau2Reml, METHODS: ["IV-logit-HK", "PFT"] };
});
