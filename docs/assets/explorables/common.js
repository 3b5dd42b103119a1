/* What the explorables share: building elements and printing numbers.
 *
 * Loaded (deferred) before each explorable's own script, which reads these
 * helpers from window.kerasNinExplorables.
 */
(function () {
  "use strict";

  // A new element with the given attributes and, optionally, text.
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A fixed-point integer (value / scale) with `digits` decimals, a true minus
  // sign, and no "−0.00".
  function fixed(value, scale, digits) {
    var text = (value / scale).toFixed(digits);
    return text === "-" + (0).toFixed(digits) ? (0).toFixed(digits) : text.replace("-", "−");
  }

  // An integer with thousands separators: 120,422,400.
  function fmt(n) { return n.toLocaleString("en-US"); }

  window.kerasNinExplorables = { el: el, fixed: fixed, fmt: fmt };
})();
