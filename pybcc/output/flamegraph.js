// Interactivity of pybcc's flame graph SVG: zoom, search, details.
// The frames are static SVG (the picture shows without scripts); FG holds,
// per frame in document order, its start, count and depth in count units.
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var fg = FG, n = fg.frames.length / 3;
  var start = new Float64Array(n), count = new Float64Array(n), depth = new Int32Array(n);
  for (var i = 0; i < n; i++) {
    start[i] = fg.frames[3 * i]; count[i] = fg.frames[3 * i + 1]; depth[i] = fg.frames[3 * i + 2];
  }
  var groups = document.getElementById("frames").children;
  var rects = new Array(n), texts = new Array(n), names = new Array(n), fills = new Array(n);
  for (i = 0; i < n; i++) {
    var g = groups[i];
    g.fgIndex = i;
    rects[i] = g.getElementsByTagName("rect")[0];
    texts[i] = g.getElementsByTagName("text")[0] || null;
    var title = g.getElementsByTagName("title")[0].textContent;
    var cut = title.lastIndexOf(" (");
    names[i] = cut >= 0 ? title.slice(0, cut) : title;
    fills[i] = rects[i].getAttribute("fill");
  }
  var details = document.getElementById("details");
  var matched = document.getElementById("matched");
  var resetZoom = document.getElementById("resetzoom");
  var searchButton = document.getElementById("search");
  var charWidth = fg.fontSize * fg.fontWidth;
  var eps = fg.total * 1e-9;
  var zoomed = -1, searchRe = null;

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
      groups[i].appendChild(t);
    }
    t.setAttribute("x", (x + 3).toFixed(2));
    if (t.textContent !== text) t.textContent = text;
  }

  // Zoom: frame z spans the whole width; its ancestors stay full width and
  // faded; frames outside its subtree are hidden.
  function zoom(z) {
    var zs = start[z], ze = start[z] + count[z], zd = depth[z];
    var scale = fg.plotWidth / count[z];
    for (var i = 0; i < n; i++) {
      var s = start[i], e = s + count[i], g = groups[i];
      if (depth[i] >= zd && s >= zs - eps && e <= ze + eps) {
        place(i, fg.xpad + (s - zs) * scale, count[i] * scale);
        g.removeAttribute("display");
        g.classList.remove("parent");
      } else if (depth[i] < zd && s <= zs + eps && e >= ze - eps) {
        place(i, fg.xpad, fg.plotWidth);
        g.removeAttribute("display");
        g.classList.add("parent");
      } else {
        g.setAttribute("display", "none");
      }
    }
    zoomed = z;
    resetZoom.classList.remove("hide");
  }

  function unzoom() {
    var scale = fg.plotWidth / fg.total;
    for (var i = 0; i < n; i++) {
      place(i, fg.xpad + start[i] * scale, count[i] * scale);
      groups[i].removeAttribute("display");
      groups[i].classList.remove("parent");
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
    for (var k = 0; k < hits.length; k++) {
      var s = start[hits[k]], e = s + count[hits[k]];
      if (e <= reach) continue;
      covered += e - Math.max(s, reach);
      reach = e;
    }
    searchRe = pattern;
    matched.textContent = "Matched: " + (100 * covered / fg.total).toFixed(2) + "%";
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

  function frameOf(node) {
    while (node && node.fgIndex === undefined) node = node.parentNode;
    return node ? node.fgIndex : -1;
  }

  var frameLayer = document.getElementById("frames");
  frameLayer.addEventListener("click", function (ev) {
    var i = frameOf(ev.target);
    if (i >= 0) zoom(i);
  });
  frameLayer.addEventListener("mouseover", function (ev) {
    var i = frameOf(ev.target);
    if (i >= 0) details.textContent = fg.detailsPrefix + groups[i].getElementsByTagName("title")[0].textContent;
  });
  frameLayer.addEventListener("mouseout", function () { details.textContent = " "; });
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
                        frames: n, names: names };
})();
