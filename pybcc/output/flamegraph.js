// Interactivity of pybcc's flame graph SVG: zoom, search, details, tooltips.
// The frames are static SVG (the picture shows without scripts): one <rect>
// each, followed by its <text> label when one fits. FG holds, per frame in
// drawing order, its start, count, depth and name (and change, in
// differential graphs), in count units.
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var fg = FG, stride = fg.stride, n = fg.frames.length / stride;
  var start = new Float64Array(n), count = new Float64Array(n), depth = new Int32Array(n);
  var delta = new Float64Array(n), names = new Array(n);
  for (var i = 0; i < n; i++) {
    var row = i * stride;
    start[i] = fg.frames[row]; count[i] = fg.frames[row + 1]; depth[i] = fg.frames[row + 2];
    names[i] = fg.names[fg.frames[row + 3]];
    if (stride > 4) delta[i] = fg.frames[row + 4];
  }
  var layer = document.getElementById("frames");
  var rects = new Array(n), texts = new Array(n), fills = new Array(n);
  var k = -1;
  for (var el = layer.firstElementChild; el; el = el.nextElementSibling) {
    if (el.tagName === "rect") {
      k++;
      rects[k] = el; texts[k] = null; fills[k] = el.getAttribute("fill"); el.fgIndex = k;
    } else if (el.tagName === "text") {
      texts[k] = el;
    }
  }
  var details = document.getElementById("details");
  var matched = document.getElementById("matched");
  var resetZoom = document.getElementById("resetzoom");
  var searchButton = document.getElementById("search");
  var charWidth = fg.fontSize * fg.fontWidth;
  var eps = fg.total * 1e-9;
  var zoomed = -1, searchRe = null;

  function number(v) {
    return Number.isInteger(v) ? v.toLocaleString("en-US")
      : v.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  // A count with its unit, as the Python side writes it (format_amount).
  function amount(v, unit) {
    if (unit === "ns") { v = v / 1000; unit = "us"; }
    if (unit === "us") {
      if (v < 1000) return number(v) + " µs";
      if (v < 1e6) return (v / 1000).toFixed(2) + " ms";
      return (v / 1e6).toFixed(2) + " s";
    }
    if (unit === "bytes") {
      if (v < 1024) return number(v) + " bytes";
      if (v >= 1073741824) return (v / 1073741824).toFixed(1) + " GiB";
      if (v >= 1048576) return (v / 1048576).toFixed(1) + " MiB";
      return (v / 1024).toFixed(1) + " KiB";
    }
    if (unit === "count") return number(v);
    return number(v) + " " + unit;
  }

  function percent(v) { return (fg.total ? 100 * v / fg.total : 0).toFixed(2) + "%"; }

  // "name (1,234 samples, 12.34%)": the tooltip and the details line.
  function info(i) {
    var text = names[i] + " (" + amount(count[i], fg.unit) + ", " + percent(count[i]);
    if (fg.differential) {
      var d = delta[i];
      text += "; change " + (d >= 0 ? "+" : "-") + amount(Math.abs(d), fg.unit) + ", " +
        (d >= 0 ? "+" : "-") + percent(Math.abs(d));
    }
    return text + ")";
  }

  function label(i, width) {
    var fit = Math.floor((width - 6) / charWidth);
    if (fit < 3) return "";
    var name = names[i];
    return name.length <= fit ? name : name.slice(0, fit - 2) + "..";
  }

  function place(i, x, width) {
    var r = rects[i], t = texts[i];
    r.setAttribute("x", x.toFixed(2));
    r.setAttribute("width", width.toFixed(2));
    var text = label(i, width);
    if (!t) {
      if (!text) return;
      // Frames too narrow for a label at first are drawn without one.
      t = texts[i] = document.createElementNS(NS, "text");
      t.setAttribute("y", (parseFloat(r.getAttribute("y")) + fg.frameHeight - 4.5).toFixed(1));
      layer.insertBefore(t, r.nextSibling);
    }
    t.setAttribute("x", (x + 3).toFixed(2));
    if (t.textContent !== text) t.textContent = text;
  }

  function show(i, visible, faded) {
    var r = rects[i], t = texts[i];
    if (visible) { r.removeAttribute("display"); if (t) t.removeAttribute("display"); }
    else { r.setAttribute("display", "none"); if (t) t.setAttribute("display", "none"); }
    r.classList.toggle("parent", faded);
    if (t) t.classList.toggle("parent", faded);
  }

  // Zoom: frame z spans the whole width; its ancestors stay full width and
  // faded; frames outside its subtree are hidden.
  function zoom(z) {
    var zs = start[z], ze = start[z] + count[z], zd = depth[z];
    var scale = fg.plotWidth / count[z];
    for (var i = 0; i < n; i++) {
      var s = start[i], e = s + count[i];
      if (depth[i] >= zd && s >= zs - eps && e <= ze + eps) {
        place(i, fg.xpad + (s - zs) * scale, count[i] * scale);
        show(i, true, false);
      } else if (depth[i] < zd && s <= zs + eps && e >= ze - eps) {
        place(i, fg.xpad, fg.plotWidth);
        show(i, true, true);
      } else {
        show(i, false, false);
      }
    }
    zoomed = z;
    resetZoom.classList.remove("hide");
  }

  function unzoom() {
    var scale = fg.plotWidth / fg.total;
    for (var i = 0; i < n; i++) {
      place(i, fg.xpad + start[i] * scale, count[i] * scale);
      show(i, true, false);
    }
    zoomed = -1;
    resetZoom.classList.add("hide");
  }

  // Search: matching frames turn magenta; "Matched" is the share of the
  // total covered by them, each stack counted once (nested matches overlap).
  function search(pattern) {
    var re;
    try { re = new RegExp(pattern); } catch (err) { details.textContent = "Bad regex: " + err.message; return; }
    var hits = [];
    for (var i = 0; i < n; i++) {
      if (re.test(names[i])) { rects[i].setAttribute("fill", fg.matchColor); hits.push(i); }
      else if (rects[i].getAttribute("fill") !== fills[i]) rects[i].setAttribute("fill", fills[i]);
    }
    hits.sort(function (a, b) { return start[a] - start[b] || depth[a] - depth[b]; });
    var covered = 0, reach = -Infinity;
    for (var h = 0; h < hits.length; h++) {
      var s = start[hits[h]], e = s + count[hits[h]];
      if (e <= reach) continue;
      covered += e - Math.max(s, reach);
      reach = e;
    }
    searchRe = pattern;
    matched.textContent = "Matched: " + percent(covered);
    matched.classList.remove("hide");
    searchButton.textContent = "Reset Search";
    return covered;
  }

  function resetSearch() {
    for (var i = 0; i < n; i++) rects[i].setAttribute("fill", fills[i]);
    searchRe = null;
    matched.classList.add("hide");
    searchButton.textContent = "Search";
  }

  function askSearch() {
    if (searchRe !== null) { resetSearch(); return; }
    var pattern = prompt("Search for frames matching (regular expression):", "");
    if (pattern) search(pattern);
  }

  layer.addEventListener("click", function (ev) {
    if (ev.target.fgIndex !== undefined) zoom(ev.target.fgIndex);
  });
  layer.addEventListener("mouseover", function (ev) {
    var r = ev.target, i = r.fgIndex;
    if (i === undefined) return;
    var text = info(i);
    details.textContent = fg.detailsPrefix + text;
    if (!r.firstChild) {      // the browser's own tooltip, made when first needed
      var title = document.createElementNS(NS, "title");
      title.textContent = text;
      r.appendChild(title);
    }
  });
  layer.addEventListener("mouseout", function () { details.textContent = " "; });
  resetZoom.addEventListener("click", unzoom);
  searchButton.addEventListener("click", askSearch);
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "f") { ev.preventDefault(); askSearch(); }
    else if (ev.key === "Escape") { if (zoomed >= 0) unzoom(); if (searchRe !== null) resetSearch(); }
  });
  var query = /[?&]s=([^&]*)/.exec(window.location.search);
  if (query) search(decodeURIComponent(query[1]));

  // For scripts and tests driving the page.
  window.flamegraph = { zoom: zoom, unzoom: unzoom, search: search, resetSearch: resetSearch,
                        info: info, frames: n, names: names, rects: rects, texts: texts };
})();
