/* Explorable: the fully connected layer at every position (theory/fully-connected).
 *
 * A 6×6×C input; the reader picks a position (click, hover, or the arrow keys)
 * and sees its C channel values x, the (C, F) weight matrix W, the biases b and
 * the F outputs y = ReLU(x W + b) at that position. Sliders set C and F; the
 * parameter count (C·F + F) and the multiplies (36·C·F) update with them.
 *
 * Numbers are fixed-point: inputs and weights are tenths, biases hundredths,
 * so every output is an exact number of hundredths (computed with integers).
 * The root element's data-state holds them as JSON for tests/test_explorables.py,
 * which runs keras_nin's Pointwise on the same weights.
 */
(function () {
  "use strict";

  var common = window.kerasNinExplorables;
  var el = common.el, fixed = common.fixed, fmt = common.fmt;

  var SIZE = 6;

  // A deterministic integer hash of (a, b, c, salt): same numbers on every load.
  function hash(a, b, c, salt) {
    var t = (Math.imul(a + 1, 374761393) + Math.imul(b + 1, 668265263) +
      Math.imul(c + 1, 1274126177) + Math.imul(salt, 2246822519)) | 0;
    t = Math.imul(t ^ (t >>> 15), 2654435761);
    t = Math.imul(t ^ (t >>> 13), 3266489917);
    return (t ^ (t >>> 16)) >>> 0;
  }
  function input(i, j, c) { return hash(i, j, c, 1) % 10; } // tenths, 0.0 … 0.9
  function weight(c, f) { return (hash(c, f, 0, 2) % 11) - 5; } // tenths, −0.5 … 0.5
  function bias(f) { return (hash(f, 0, 0, 3) % 5) - 2; } // tenths, −0.2 … 0.2


  function setup(root) {
    var state = { C: 32, F: 4, row: 2, col: 3 };
    root.textContent = "";

    var controls = el("div", { class: "nin-x-controls" });
    function slider(name, label, min, max) {
      var id = root.id + "-" + name;
      var wrap = el("label", { for: id });
      wrap.appendChild(el("span", {}, label));
      var range = el("input", {
        type: "range", id: id, min: min, max: max, step: 1, value: state[name],
        "data-control": name,
      });
      var out = el("output", { for: id }, String(state[name]));
      range.addEventListener("input", function () {
        state[name] = Number(range.value);
        out.textContent = range.value;
        render();
      });
      wrap.appendChild(range);
      wrap.appendChild(out);
      controls.appendChild(wrap);
    }
    slider("C", "Input channels C", 1, 32);
    slider("F", "Filters F", 1, 16);
    root.appendChild(controls);

    var row = el("div", { class: "nin-x-row" });
    var grid = el("div", {
      class: "nin-x-grid", role: "group",
      "aria-label": "The 6×6 positions of the input; arrow keys move between them",
    });
    var buttons = [];
    for (var i = 0; i < SIZE; i++) {
      for (var j = 0; j < SIZE; j++) {
        (function (i, j) {
          var button = el("button", {
            type: "button", "data-row": i, "data-col": j,
            "aria-label": "Position row " + (i + 1) + ", column " + (j + 1),
          }, (i + 1) + "," + (j + 1));
          button.addEventListener("click", function () { select(i, j, false); });
          button.addEventListener("mouseenter", function () { select(i, j, false); });
          button.addEventListener("keydown", function (event) {
            var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
            var move = moves[event.key];
            if (!move) return;
            event.preventDefault();
            select(Math.min(SIZE - 1, Math.max(0, i + move[0])),
              Math.min(SIZE - 1, Math.max(0, j + move[1])), true);
          });
          buttons.push(button);
          grid.appendChild(button);
        })(i, j);
      }
    }
    row.appendChild(grid);
    var scroll = el("div", {
      class: "nin-x-scroll", tabindex: "0", role: "region",
      "aria-label": "Inputs, weights and outputs at the chosen position (scrollable)",
    });
    row.appendChild(scroll);
    root.appendChild(row);

    var summary = el("p", { class: "nin-x-summary", "aria-live": "polite" });
    root.appendChild(summary);

    function select(i, j, focus) {
      state.row = i;
      state.col = j;
      render();
      if (focus) buttons[i * SIZE + j].focus();
    }

    function render() {
      var C = state.C, F = state.F, r = state.row, c0 = state.col;
      buttons.forEach(function (button, index) {
        var chosen = index === r * SIZE + c0;
        button.setAttribute("aria-pressed", chosen ? "true" : "false");
        button.tabIndex = chosen ? 0 : -1; // one tab stop; arrows move inside
      });
      var x = [], W = [], b = [], y = [];
      for (var c = 0; c < C; c++) {
        x.push(input(r, c0, c));
        var wrow = [];
        for (var f = 0; f < F; f++) wrow.push(weight(c, f));
        W.push(wrow);
      }
      for (var f2 = 0; f2 < F; f2++) {
        b.push(bias(f2));
        var sum = bias(f2) * 10; // hundredths
        for (var c2 = 0; c2 < C; c2++) sum += x[c2] * W[c2][f2];
        y.push(Math.max(0, sum));
      }

      var table = el("table", { class: "nin-x-table" });
      table.appendChild(el("caption", {},
        "Position (row " + (r + 1) + ", column " + (c0 + 1) + "): y = ReLU(x W + b)"));
      var head = el("tr");
      head.appendChild(el("th", { scope: "col" }, "channel"));
      head.appendChild(el("th", { scope: "col" }, "input x"));
      for (var f3 = 0; f3 < F; f3++) {
        head.appendChild(el("th", { scope: "col" }, "W[·, " + (f3 + 1) + "]"));
      }
      var thead = el("thead"), tbody = el("tbody"), tfoot = el("tfoot");
      thead.appendChild(head);
      table.appendChild(thead);
      table.appendChild(tbody);
      table.appendChild(tfoot);
      for (var c3 = 0; c3 < C; c3++) {
        var tr = el("tr");
        tr.appendChild(el("th", { scope: "row" }, String(c3 + 1)));
        tr.appendChild(el("td", { "data-x": c3 }, fixed(x[c3], 10, 1)));
        for (var f4 = 0; f4 < F; f4++) {
          var w = W[c3][f4];
          var cell = el("td", { "data-w": c3 + "," + f4 }, fixed(w, 10, 1));
          cell.style.background = w > 0 ? "rgba(31,119,180," + (w / 10) + ")" :
            w < 0 ? "rgba(214,39,40," + (-w / 10) + ")" : "";
          tr.appendChild(cell);
        }
        tbody.appendChild(tr);
      }
      var biasRow = el("tr", { class: "nin-x-bias" });
      biasRow.appendChild(el("th", { scope: "row", colspan: 2 }, "bias b"));
      b.forEach(function (value, f5) { biasRow.appendChild(el("td", { "data-b": f5 }, fixed(value, 10, 1))); });
      tfoot.appendChild(biasRow);
      var outRow = el("tr", { class: "nin-x-out" });
      outRow.appendChild(el("th", { scope: "row", colspan: 2 }, "output y"));
      y.forEach(function (value, f6) { outRow.appendChild(el("td", { "data-y": f6 }, fixed(value, 100, 2))); });
      tfoot.appendChild(outRow);
      scroll.textContent = "";
      scroll.appendChild(table);
      // The bias row sticks just above the output row.
      var outHeight = outRow.getBoundingClientRect().height;
      Array.prototype.forEach.call(biasRow.children, function (cell) {
        cell.style.bottom = Math.max(0, outHeight - 1) + "px";
      });

      var params = C * F + F, multiplies = SIZE * SIZE * C * F;
      summary.textContent = "";
      summary.appendChild(document.createTextNode("Parameters: C·F + F = " + C + "·" + F + " + " + F + " = "));
      summary.appendChild(el("strong", { "data-value": "params" }, fmt(params)));
      summary.appendChild(document.createTextNode(". Multiplies: 36·C·F = 36·" + C + "·" + F + " = "));
      summary.appendChild(el("strong", { "data-value": "multiplies" }, fmt(multiplies)));
      summary.appendChild(document.createTextNode(
        ". The same " + F + " unit" + (F === 1 ? "" : "s") + " (" + F + " column" +
        (F === 1 ? "" : "s") + " of W) run at all 36 positions."));

      // Everything the test needs to rerun this layer with keras_nin.
      var image = [];
      for (var i2 = 0; i2 < SIZE; i2++) {
        var line = [];
        for (var j2 = 0; j2 < SIZE; j2++) {
          var vector = [];
          for (var c4 = 0; c4 < C; c4++) vector.push(input(i2, j2, c4) / 10);
          line.push(vector);
        }
        image.push(line);
      }
      root.setAttribute("data-state", JSON.stringify({
        C: C, F: F, row: r, col: c0, image: image,
        kernel: W.map(function (wrow) { return wrow.map(function (v) { return v / 10; }); }),
        bias: b.map(function (v) { return v / 10; }),
        output: y.map(function (v) { return v / 100; }),
        params: params, multiplies: multiplies,
      }));
    }

    render();
  }

  function start() {
    document.querySelectorAll('[data-explorable="fully-connected"]').forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
