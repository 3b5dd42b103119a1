/* Explorable: two linear layers collapse, a ReLU breaks the collapse
 * (theory/nonlinearity).
 *
 * Four positions with 3 channels each (X, 4×3) go through two 1×1 layers
 * without biases, W1 (3×3) then W2 (3×2), with or without a ReLU in between.
 * The page shows the stacked result, the result of the single matrix W1·W2,
 * and their difference: zero without the ReLU, non-zero with it.
 *
 * Inputs and weights are tenths, so every number shown is exact (integer
 * arithmetic, thousandths at the end). data-state holds them as JSON for
 * tests/test_explorables.py, which reruns both with keras_nin's Pointwise.
 */
(function () {
  "use strict";

  var common = window.kerasNinExplorables;
  var el = common.el, fixed = common.fixed;

  var P = 4, C = 3, H = 3, F = 2;

  // A small seeded generator (mulberry32): "Randomise" draws the next weights.
  function generator(seed) {
    return function () {
      seed = (seed + 0x6d2b79f5) | 0;
      var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function matrix(rows, cols, draw) {
    var m = [];
    for (var i = 0; i < rows; i++) {
      var row = [];
      for (var j = 0; j < cols; j++) row.push(Math.floor(draw() * 19) - 9); // −0.9 … 0.9
      m.push(row);
    }
    return m;
  }
  function product(a, b) {
    return a.map(function (row) {
      return b[0].map(function (_, j) {
        return row.reduce(function (sum, v, k) { return sum + v * b[k][j]; }, 0);
      });
    });
  }
  function relu(m) { return m.map(function (row) { return row.map(function (v) { return Math.max(0, v); }); }); }
  function scaled(m, scale) { return m.map(function (row) { return row.map(function (v) { return v / scale; }); }); }

  function compute(weights, useRelu) {
    var pre = product(weights.X, weights.W1); // hundredths
    var hidden = useRelu ? relu(pre) : pre;
    var stacked = product(hidden, weights.W2); // thousandths
    var W12 = product(weights.W1, weights.W2); // hundredths
    var single = product(weights.X, W12); // thousandths
    var difference = stacked.map(function (row, i) {
      return row.map(function (v, j) { return v - single[i][j]; });
    });
    return { hidden: hidden, stacked: stacked, W12: W12, single: single, difference: difference };
  }
  function largest(m) {
    return m.reduce(function (best, row) {
      return row.reduce(function (b, v) { return Math.max(b, Math.abs(v)); }, best);
    }, 0);
  }

  function setup(root) {
    var seed = 1;
    var state = { relu: false, weights: null };
    root.textContent = "";

    var controls = el("div", { class: "nin-x-controls" });
    var button = el("button", { type: "button", class: "nin-x-button", "data-control": "randomise" },
      "Randomise the weights");
    var check = el("input", { type: "checkbox", id: root.id + "-relu", "data-control": "relu" });
    var checkLabel = el("label", { for: root.id + "-relu" });
    checkLabel.appendChild(check);
    checkLabel.appendChild(document.createTextNode("ReLU between the two layers"));
    controls.appendChild(button);
    controls.appendChild(checkLabel);
    root.appendChild(controls);

    var tables = el("div", { class: "nin-x-row" });
    root.appendChild(tables);
    var summary = el("p", { class: "nin-x-summary", "aria-live": "polite" });
    root.appendChild(summary);

    // Draw weights for which the ReLU makes a difference (almost every draw does).
    function draw() {
      for (var attempt = 0; attempt < 100; attempt++) {
        var next = generator(seed++);
        var weights = { X: matrix(P, C, next), W1: matrix(C, H, next), W2: matrix(H, F, next) };
        if (largest(compute(weights, true).difference) > 0) return weights;
      }
      return weights;
    }

    function table(name, caption, m, scale, digits, rowLabel) {
      var t = el("table", { class: "nin-x-table", "data-matrix": name });
      t.appendChild(el("caption", {}, caption));
      m.forEach(function (row, i) {
        var tr = el("tr");
        tr.appendChild(el("th", { scope: "row" }, rowLabel + (i + 1)));
        row.forEach(function (v) {
          var td = el("td", {}, fixed(v, scale, digits));
          if (name === "hidden" && state.relu && v === 0) td.style.opacity = "0.55";
          tr.appendChild(td);
        });
        t.appendChild(tr);
      });
      return t;
    }

    function render() {
      var w = state.weights, r = compute(w, state.relu);
      tables.textContent = "";
      tables.appendChild(table("X", "Input X (4 positions × 3 channels)", w.X, 10, 1, "p"));
      tables.appendChild(table("W1", "First layer W1 (3 × 3)", w.W1, 10, 1, "c"));
      tables.appendChild(table("W2", "Second layer W2 (3 × 2)", w.W2, 10, 1, "h"));
      tables.appendChild(table("hidden", state.relu ? "Hidden ReLU(X W1)" : "Hidden X W1", r.hidden, 100, 2, "p"));
      tables.appendChild(table("stacked", "Stacked: hidden · W2", r.stacked, 1000, 3, "p"));
      tables.appendChild(table("W12", "One matrix W1·W2 (3 × 2)", r.W12, 100, 2, "c"));
      tables.appendChild(table("single", "One layer: X (W1·W2)", r.single, 1000, 3, "p"));
      tables.appendChild(table("difference", "Difference: stacked − one layer", r.difference, 1000, 3, "p"));
      var big = largest(r.difference);
      summary.textContent = "";
      summary.appendChild(document.createTextNode("Largest |difference|: "));
      summary.appendChild(el("strong", { "data-value": "largest" }, fixed(big, 1000, 3)));
      summary.appendChild(document.createTextNode(state.relu ?
        (big > 0 ? ". With the ReLU the stack is no longer one matrix: the negative hidden values were set to zero, which no single matrix does." :
          ". No hidden value of this draw is negative, so the ReLU changed nothing: randomise again.") :
        ". Without an activation the two layers are exactly the one matrix W1·W2, whatever the weights."));
      root.setAttribute("data-state", JSON.stringify({
        relu: state.relu,
        X: scaled(w.X, 10), W1: scaled(w.W1, 10), W2: scaled(w.W2, 10),
        stacked: scaled(r.stacked, 1000), single: scaled(r.single, 1000),
        difference: scaled(r.difference, 1000), largest: big / 1000,
      }));
    }

    button.addEventListener("click", function () { state.weights = draw(); render(); });
    check.addEventListener("change", function () { state.relu = check.checked; render(); });
    state.weights = draw();
    render();
  }

  function start() {
    document.querySelectorAll('[data-explorable="collapse"]').forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
