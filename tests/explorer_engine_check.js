// Runs site-assets/explorer-engine.js on the datasets given as JSON on standard input and prints
// its results as JSON (tests/test_explorer_engine.py compares them with the Python engine).
"use strict";
const path = require("path");
const engine = require(path.join(__dirname, "..", "site-assets", "explorer-engine.js"));
let input = "";
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const { t975, cases } = JSON.parse(input);
  const out = cases.map(({ events, total, method }) => {
    try {
      return engine.poolIV(events, total, method, t975);
    } catch (e) {
      return { error: e.message };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
