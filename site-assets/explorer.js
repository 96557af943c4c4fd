// Sensitivity explorer: studies in or out, method, and the forest plot follows.
// The inverse-variance methods are computed here for any choice of studies, by
// explorer-engine.js (a port of the Python engine, tested against it); the GLMM and the Bayesian
// model are looked up in results/explorer_<outcome>.json, pooled at build time by the same engine
// as the static pages (metaprop.review.explorer) for every subset while there are few candidate
// studies, and for a named family of subsets beyond that.
// No library, no network beyond this site: text from data/ is set with textContent only.
(function () {
  "use strict";
  const root = document.getElementById("explorer");
  if (!root) return;
  const base = root.dataset.base;
  const outcomes = JSON.parse(root.dataset.outcomes);
  const cache = {};
  const state = { outcome: null, picked: new Set(), method: "Bayes" };
  const engine = window.MetapropExplorerEngine;
  const SVG = "http://www.w3.org/2000/svg";

  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svgEl = (tag, attrs, text) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const pct = (v) => (v === null || v === undefined ? "\u2014" : (100 * v).toFixed(1));
  // the studies ticked, each with its index in data.studies
  const chosen = (data) => data.studies.map((s, i) => ({ s, i })).filter(({ i }) => state.picked.has(i));
  // a subset's key in data.results: the indices, ascending, joined by "-"
  const keyOf = (data) => chosen(data).map(({ i }) => i).join("-");

  // -- controls ------------------------------------------------------------------------------
  const outcomeSel = el("select", { id: "explorer-outcome" });
  outcomes.forEach((o) => outcomeSel.appendChild(el("option", { value: o.key }, o.label)));
  const outcomeRow = el("p", { class: "explorer-row" });
  outcomeRow.appendChild(el("label", { for: "explorer-outcome" }, "Outcome: "));
  outcomeRow.appendChild(outcomeSel);

  const methodSel = el("select", { id: "explorer-method" });
  const methodRow = el("p", { class: "explorer-row" });
  methodRow.appendChild(el("label", { for: "explorer-method" }, "Method: "));
  methodRow.appendChild(methodSel);

  const presetSel = el("select", { id: "explorer-preset" });
  const presetRow = el("p", { class: "explorer-row" });
  presetRow.appendChild(el("label", { for: "explorer-preset" }, "Start from: "));
  presetRow.appendChild(presetSel);
  const studiesBox = el("fieldset", { id: "explorer-studies" });
  const reset = el("button", { type: "button", id: "explorer-reset", class: "btn btn-outline-secondary btn-sm" },
                   "Back to the primary analysis");
  const result = el("p", { id: "explorer-result", "aria-live": "polite", class: "explorer-result" });
  const note = el("p", { id: "explorer-note", class: "explorer-note" });
  const figure = el("div", { id: "explorer-forest", class: "explorer-forest" });
  const link = el("p", { class: "explorer-link" });
  const linkA = el("a", { id: "explorer-permalink", href: "#" }, "Link to this choice");
  link.appendChild(linkA);
  root.replaceChildren(outcomeRow, presetRow, studiesBox, methodRow, reset, result, note, figure, link);

  // -- URL: ?o=weaned&s=cowburn2005,herweg2007&m=PFT ------------------------------------------
  function readUrl() {
    const q = new URLSearchParams(window.location.search);
    return { o: q.get("o"), s: q.get("s"), m: q.get("m") };
  }
  function writeUrl(data) {
    const ids = chosen(data).map(({ s }) => s.id);
    const q = new URLSearchParams({ o: state.outcome, s: ids.join(","), m: state.method });
    const url = window.location.pathname + "?" + q.toString();
    window.history.replaceState(null, "", url);
    linkA.setAttribute("href", url);
  }

  async function load(outcome) {
    if (!cache[outcome]) {
      const r = await fetch(base + "explorer_" + encodeURIComponent(outcome) + ".json");
      if (!r.ok) throw new Error("explorer data missing for " + outcome);
      cache[outcome] = await r.json();
    }
    return cache[outcome];
  }

  function buildControls(data) {
    studiesBox.replaceChildren(el("legend", {}, "Studies included (" + data.label.toLowerCase() + ")"));
    data.studies.forEach((s, i) => {
      const id = "explorer-study-" + i;
      const row = el("div", { class: "form-check" });
      const box = el("input", { type: "checkbox", id: id, class: "form-check-input", "data-index": String(i) });
      box.checked = state.picked.has(i);
      box.addEventListener("change", () => {
        if (box.checked) state.picked.add(i); else state.picked.delete(i);
        update();
      });
      const flags = [];
      if (s.derivation !== "reported") flags.push(s.derivation === "derived_from_percent" ? "count derived from a percentage" : "count derived");
      flags.push(s.inclusion === "primary" ? "primary analysis" : s.retracted ? "retracted" : "broader population");
      const label = el("label", { for: id, class: "form-check-label" });
      label.appendChild(document.createTextNode(s.label + ": " + s.events + "/" + s.total + " (" + flags.join(", ") + ")"));
      if (s.retracted) label.appendChild(el("span", { class: "explorer-badge" }, "retracted"));
      row.append(box, label);
      studiesBox.appendChild(row);
    });
    presetSel.replaceChildren(el("option", { value: "" }, "(your own choice)"));
    data.named.forEach((n) => presetSel.appendChild(el("option", { value: n.key }, n.name)));
    methodSel.replaceChildren();
    Object.entries(data.methods).forEach(([k, m]) => methodSel.appendChild(el("option", { value: k }, m.label)));
    methodSel.value = state.method;
  }

  function drawForest(data, r) {
    const rows = chosen(data);
    // drawn at the width it is shown at, so its text stays 12 px on a phone too
    const W = Math.max(320, Math.min(720, Math.round(figure.clientWidth || root.clientWidth || 640)));
    const left = Math.round(0.42 * W), right = W - 20, rowH = 24, top = 30;
    const pooledY = top + rows.length * rowH + 16;
    const H = pooledY + 70;
    const x = (p) => left + (right - left) * p;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", width: "100%",
                               "aria-labelledby": "explorer-forest-title" });
    const title = svgEl("title", { id: "explorer-forest-title" },
                        "Forest plot of the chosen studies: " + result.textContent);
    svg.appendChild(title);
    [0, 0.25, 0.5, 0.75, 1].forEach((t) => {
      svg.appendChild(svgEl("line", { x1: x(t), x2: x(t), y1: top - 8, y2: H - 28, stroke: "#d0d0d0" }));
      svg.appendChild(svgEl("text", { x: x(t), y: H - 12, "text-anchor": "middle", "font-size": 12, fill: "#333" }, (100 * t) + "%"));
    });
    svg.appendChild(svgEl("text", { x: 4, y: 16, "font-size": 12, "font-weight": "bold", fill: "#000" }, "Study (events/total)"));
    const maxChars = Math.floor((left - 8) / 6.5);
    const short = (t) => (t.length > maxChars ? t.slice(0, maxChars - 1) + "\u2026" : t);
    const maxN = Math.max(...rows.map(({ s }) => s.total), 1);
    rows.forEach(({ s }, j) => {
      const y = top + j * rowH + 10;
      const name = svgEl("text", { x: 4, y: y + 4, "font-size": 12, fill: "#000" }, short(s.label + " (" + s.events + "/" + s.total + ")"));
      name.appendChild(svgEl("title", {}, s.label + " (" + s.events + "/" + s.total + ")"));
      svg.appendChild(name);
      svg.appendChild(svgEl("line", { x1: x(s.lo), x2: x(s.hi), y1: y, y2: y, stroke: "#000", "stroke-width": 1.2 }));
      const half = 3 + 5 * Math.sqrt(s.total / maxN);
      svg.appendChild(svgEl("rect", { x: x(s.p) - half, y: y - half, width: 2 * half, height: 2 * half, fill: "#0072B2" }));
    });
    if (r && r.est !== undefined && r.est !== null) {
      const y = pooledY;
      svg.appendChild(svgEl("text", { x: 4, y: y + 4, "font-size": 12, "font-weight": "bold", fill: "#000" }, "Pooled"));
      const pts = [[x(r.lo), y], [x(r.est), y - 8], [x(r.hi), y], [x(r.est), y + 8]].map((p) => p.join(",")).join(" ");
      svg.appendChild(svgEl("polygon", { points: pts, fill: state.method === "Bayes" ? "#E69F00" : "#D55E00", stroke: "#000" }));
      if (r.pil !== null && r.piu !== null) {
        svg.appendChild(svgEl("text", { x: 4, y: y + 30, "font-size": 12, fill: "#000" }, "A new study"));
        svg.appendChild(svgEl("line", { x1: x(r.pil), x2: x(r.piu), y1: y + 26, y2: y + 26,
                                        stroke: state.method === "Bayes" ? "#56B4E9" : "#0072B2", "stroke-width": 6 }));
      }
    }
    figure.replaceChildren(svg);
  }

  function update() {
    const data = cache[state.outcome];
    const rows = chosen(data);
    const k = rows.length;
    const m = data.methods[state.method];
    const key = keyOf(data);
    presetSel.value = data.named.some((n) => n.key === key) ? key : "";
    let r = null;
    if (k >= 2 && m.where === "browser") {
      try {
        r = engine.poolIV(rows.map(({ s }) => s.events), rows.map(({ s }) => s.total), state.method, data.t975);
      } catch (e) {
        r = { k, note: e.message };
      }
    } else if (k >= 2) {
      r = (data.results[key] || {})[state.method] || null;
    }
    if (k < 2) {
      result.textContent = "Choose at least two studies to pool.";
      note.textContent = "";
    } else if (!r) {
      result.textContent = m.label + ": not precomputed for this choice of studies.";
      note.textContent = "With this many candidate studies, the " + m.label + " was pooled when the site was " +
        "built for the choices listed under \u201cStart from\u201d (each analysis set, without derived counts, " +
        "leaving one study out, cumulative by year); the inverse-variance methods are computed here for any choice.";
    } else if (r.est === undefined || r.est === null) {
      result.textContent = m.label + ": no estimate for these studies.";
      note.textContent = r.note || "";
    } else {
      const ci = state.method === "Bayes" ? "95% credible interval" : "95% CI";
      const pi = r.pil === null ? "" : "; a new study " + pct(r.pil) + " to " + pct(r.piu) + "%";
      result.textContent = data.label + ": " + pct(r.est) + "% (" + ci + " " + pct(r.lo) + " to " + pct(r.hi) + ")" + pi +
        "; " + r.k + " studies, " + r.patients + " patients; " + m.label + ".";
      note.textContent = r.note ? "Note: " + r.note + "." : "";
    }
    drawForest(data, r);
    writeUrl(data);
  }

  async function selectOutcome(outcome, idsText, method) {
    state.outcome = outcome;
    const data = await load(outcome);
    state.picked = new Set(data.default.studies);
    if (idsText !== null && idsText !== undefined) {
      const ids = idsText.split(",");
      state.picked = new Set(data.studies.map((s, i) => (ids.includes(s.id) ? i : -1)).filter((i) => i >= 0));
    }
    state.method = method && data.methods[method] ? method : data.default.method;
    outcomeSel.value = outcome;
    buildControls(data);
    update();
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (state.outcome && cache[state.outcome]) update(); }, 150);
  });
  outcomeSel.addEventListener("change", () => selectOutcome(outcomeSel.value, null, state.method));
  methodSel.addEventListener("change", () => { state.method = methodSel.value; update(); });
  presetSel.addEventListener("change", () => {
    if (!presetSel.value) return;
    state.picked = new Set(presetSel.value.split("-").map(Number));
    buildControls(cache[state.outcome]);
    update();
  });
  reset.addEventListener("click", () => selectOutcome(state.outcome, null, null));

  const u = readUrl();
  const first = outcomes.some((o) => o.key === u.o) ? u.o : outcomes[0].key;
  selectOutcome(first, u.s, u.m).catch((e) => { result.textContent = "The explorer could not load its data: " + e.message; });
})();
