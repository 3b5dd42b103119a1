/* Explorable: the bottleneck calculator (theory/cost).
 *
 * A k×k convolution ("same" padding) from C_in to C_out channels on an H×W
 * input, against a 1×1 reduction to R channels followed by the same k×k
 * convolution. Multiplies (multiply–accumulates for one example) and
 * parameters (weights and biases) of both, and their ratios; the lecture's
 * 28×28×192 → 5×5 → 32 with R = 16 is the default. The counting rules are
 * keras_nin.theory.cost's; tests/test_explorables.py compares the page with it.
 */
(function () {
  "use strict";

  var common = window.kerasNinExplorables;
  var el = common.el, fmt = common.fmt;

  var FIELDS = [
    { name: "H", label: "Height H", value: 28, max: 1024 },
    { name: "W", label: "Width W", value: 28, max: 1024 },
    { name: "Cin", label: "Input channels C_in", value: 192, max: 4096 },
    { name: "k", label: "Kernel k (k×k)", value: 5, max: 15 },
    { name: "Cout", label: "Output channels C_out", value: 32, max: 4096 },
    { name: "R", label: "1×1 reduction R", value: 16, max: 4096 },
  ];


  function counts(v) {
    var positions = v.H * v.W, kk = v.k * v.k;
    var naive = { multiplies: positions * kk * v.Cin * v.Cout, params: kk * v.Cin * v.Cout + v.Cout };
    var reduce = positions * v.Cin * v.R, conv = positions * kk * v.R * v.Cout;
    var bottleneck = {
      reduce: reduce, conv: conv, multiplies: reduce + conv,
      params: v.Cin * v.R + v.R + kk * v.R * v.Cout + v.Cout,
    };
    return { naive: naive, bottleneck: bottleneck };
  }

  function setup(root) {
    var values = {};
    root.textContent = "";
    var controls = el("div", { class: "nin-x-controls" });
    var inputs = {};
    FIELDS.forEach(function (field) {
      var id = root.id + "-" + field.name;
      values[field.name] = field.value;
      var label = el("label", { for: id });
      label.appendChild(el("span", {}, field.label));
      var input = el("input", {
        type: "number", id: id, min: 1, max: field.max, step: 1, value: field.value,
        inputmode: "numeric", "data-control": field.name, "aria-describedby": root.id + "-error",
      });
      input.addEventListener("input", update);
      inputs[field.name] = input;
      label.appendChild(input);
      controls.appendChild(label);
    });
    root.appendChild(controls);
    var error = el("p", { class: "nin-x-error", id: root.id + "-error", role: "status" });
    root.appendChild(error);

    var table = el("table", { class: "nin-x-table" });
    root.appendChild(el("div", { class: "nin-x-scroll" })).appendChild(table);
    var summary = el("p", { class: "nin-x-summary", "aria-live": "polite" });
    root.appendChild(summary);
    var bars = el("div", { class: "nin-x-bars", "aria-hidden": "true" });
    root.appendChild(bars);

    function update() {
      var problems = [];
      FIELDS.forEach(function (field) {
        var input = inputs[field.name], text = input.value.trim();
        var number = Number(text);
        var ok = /^\d+$/.test(text) && number >= 1 && number <= field.max;
        input.setAttribute("aria-invalid", ok ? "false" : "true");
        if (ok) values[field.name] = number;
        else problems.push(field.label + ": a whole number from 1 to " + fmt(field.max));
      });
      error.textContent = problems.length ? "Not updated — " + problems.join("; ") + "." : "";
      if (!problems.length) render();
    }

    function render() {
      var v = values, c = counts(v), k = v.k + "×" + v.k;
      table.textContent = "";
      table.appendChild(el("caption", {}, "On " + v.H + "×" + v.W + "×" + v.Cin + " → " + v.Cout + " channels"));
      var head = el("tr");
      ["", "Multiplies", "Parameters"].forEach(function (text) { head.appendChild(el("th", { scope: "col" }, text)); });
      table.appendChild(head);
      function line(label, name, multiplies, params) {
        var tr = el("tr", { "data-row": name });
        tr.appendChild(el("th", { scope: "row" }, label));
        tr.appendChild(el("td", { "data-value": "multiplies" }, fmt(multiplies)));
        tr.appendChild(el("td", { "data-value": "params" }, params === null ? "" : fmt(params)));
        table.appendChild(tr);
      }
      line(k + " convolution alone", "naive", c.naive.multiplies, c.naive.params);
      line("1×1 to " + v.R + ", then " + k, "bottleneck", c.bottleneck.multiplies, c.bottleneck.params);
      line("  of which the 1×1", "reduce", c.bottleneck.reduce, null);
      line("  of which the " + k, "conv", c.bottleneck.conv, null);

      var ratio = c.naive.multiplies / c.bottleneck.multiplies;
      var paramRatio = c.naive.params / c.bottleneck.params;
      summary.textContent = "";
      summary.appendChild(document.createTextNode("The bottleneck needs "));
      summary.appendChild(el("strong", { "data-value": "ratio" }, ratio.toFixed(2) + "×"));
      summary.appendChild(document.createTextNode(ratio >= 1 ? " fewer multiplies" : " the multiplies (more, not fewer)"));
      summary.appendChild(document.createTextNode(" and "));
      summary.appendChild(el("strong", { "data-value": "param-ratio" }, paramRatio.toFixed(2) + "×"));
      summary.appendChild(document.createTextNode(paramRatio >= 1 ? " fewer parameters." :
        " the parameters (more, not fewer)." ));
      if (v.R >= v.Cin) {
        summary.appendChild(document.createTextNode(" A “reduction” to R ≥ C_in channels shrinks nothing."));
      }

      var most = Math.max(c.naive.multiplies, c.bottleneck.multiplies);
      bars.textContent = "";
      [["alone", c.naive.multiplies, ""], ["bottleneck", c.bottleneck.multiplies, " nin-x-bar--small"]].forEach(function (bar) {
        bars.appendChild(el("div", {}, bar[0]));
        var rect = el("div", { class: "nin-x-bar" + bar[2] });
        rect.style.width = (100 * bar[1] / most).toFixed(2) + "%";
        bars.appendChild(rect);
      });
      root.setAttribute("data-state", JSON.stringify({
        inputs: v, naive: c.naive, bottleneck: c.bottleneck, ratio: ratio,
      }));
    }
    render();
  }

  function start() {
    document.querySelectorAll('[data-explorable="bottleneck"]').forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
