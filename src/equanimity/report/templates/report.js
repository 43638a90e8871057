(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }
  var list = byId("sample-list");
  if (!list) { return; }
  var items = Array.prototype.slice.call(list.querySelectorAll("details.sample"));
  var f = { category: byId("f-category"), finding: byId("f-finding"), outcome: byId("f-outcome"), run: byId("f-run"),
            flagged: byId("f-flagged"), q: byId("f-q") };
  var status = byId("f-status");
  var texts = null;
  var timer = null;

  function setSelect(sel, value) {
    if (!sel) { return; }
    var ok = Array.prototype.some.call(sel.options, function (o) { return o.value === value; });
    sel.value = ok ? value : "";
  }

  function current() {
    return { category: f.category.value, finding: f.finding.value, outcome: f.outcome.value,
             run: f.run ? f.run.value : "", flagged: f.flagged.checked ? "1" : "",
             q: f.q.value.trim() };
  }

  function apply(updateHash) {
    var c = current();
    var q = c.q.toLowerCase();
    if (q && texts === null) {
      texts = items.map(function (d) { return d.textContent.toLowerCase(); });
    }
    var shown = 0;
    items.forEach(function (d, i) {
      var ok = (!c.category || d.getAttribute("data-category") === c.category) &&
               (!c.finding || (" " + d.getAttribute("data-findings") + " ").indexOf(" " + c.finding + " ") >= 0) &&
               (!c.outcome || d.getAttribute("data-outcome") === c.outcome) &&
               (!c.run || d.getAttribute("data-run") === c.run) &&
               (!c.flagged || d.getAttribute("data-flagged") === "1") &&
               (!q || texts[i].indexOf(q) >= 0);
      d.hidden = !ok;
      if (ok) { shown += 1; }
    });
    status.textContent = "Showing " + shown + " of " + items.length + " samples";
    document.body.setAttribute("data-filter", [c.category, c.finding, c.outcome, c.run, c.flagged, c.q].join("|"));
    document.body.setAttribute("data-shown", String(shown));
    if (updateHash) {
      var p = new URLSearchParams();
      Object.keys(c).forEach(function (k) { if (c[k]) { p.set(k, c[k]); } });
      var h = p.toString();
      try {
        history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
      } catch (e) { /* file:// in some browsers */ }
    }
  }

  function fromHash(event) {
    var h = location.hash.slice(1);
    if (h && h.indexOf("=") < 0) {
      var target = byId(decodeURIComponent(h));
      if (target && target.classList.contains("sample")) {
        target.hidden = false;
        target.open = true;
        target.scrollIntoView();
      }
      return;
    }
    var p = new URLSearchParams(h);
    setSelect(f.category, p.get("category") || "");
    setSelect(f.finding, p.get("finding") || "");
    setSelect(f.outcome, p.get("outcome") || "");
    setSelect(f.run, p.get("run") || "");
    f.flagged.checked = p.get("flagged") === "1";
    f.q.value = p.get("q") || "";
    apply(false);
    if (p.get("open") === "1") {
      items.forEach(function (d) { if (!d.hidden) { d.open = true; } });
    }
    if (h && event) {
      // a link to filtered transcripts (the verdict's, a headline mark's) lands on them
      var section = byId("samples");
      if (section) { section.scrollIntoView(); }
    }
  }

  [f.category, f.finding, f.outcome, f.run, f.flagged].forEach(function (el) {
    if (el) { el.addEventListener("change", function () { apply(true); }); }
  });
  f.q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { apply(true); }, 200);
  });
  byId("f-open").addEventListener("click", function () {
    items.forEach(function (d) { if (!d.hidden) { d.open = true; } });
  });
  byId("f-close").addEventListener("click", function () {
    items.forEach(function (d) { d.open = false; });
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
  if (location.hash.slice(1).indexOf("=") < 0) { apply(false); }
}());
