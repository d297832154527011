// Type-ahead for the search form: suggestions as links under the box. Hand-written, no library; the plain
// form works without it. On the server it asks /search.json; on the static site it reads search-index.json once.
(function () {
  "use strict";
  var form = document.querySelector("form.search");
  if (!form) return;
  var input = form.querySelector("input[type=search]");
  var list = form.querySelector(".suggestions");
  var base = form.getAttribute("data-base") || "";
  var index = null, timer = null, seq = 0;

  function fold(s) { return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }

  function show(items) {
    list.textContent = "";
    items.forEach(function (m) {
      var li = document.createElement("li"), a = document.createElement("a"), k = document.createElement("span");
      a.href = m.href; a.textContent = m.label + " ";
      k.className = "kind"; k.textContent = m.kind;
      a.appendChild(k); li.appendChild(a); list.appendChild(li);
    });
    list.hidden = items.length === 0;
  }

  function localFind(q) {
    var f = fold(q).trim(), out = [];
    if (!f) return out;
    index.forEach(function (e) {
      var best = 3;
      e.n.forEach(function (name) {
        var n = fold(name), i = n.indexOf(f);
        if (i < 0) return;
        var r = n === f ? 0 : (i === 0 || !/[a-z0-9]/.test(n.charAt(i - 1))) ? 1 : 2;
        if (r < best) best = r;
      });
      if (best < 3) out.push({ r: best, c: e.k === "Claim" ? 1 : 0, e: e });
    });
    out.sort(function (a, b) { return a.r - b.r || a.c - b.c || a.e.l.length - b.e.l.length; });
    return out.slice(0, 10).map(function (x) { return { label: x.e.l, kind: x.e.k, href: base + x.e.h }; });
  }

  function suggest() {
    var q = input.value, mine = ++seq;
    if (q.trim().length < 2) { show([]); return; }  // one letter matches nearly everything
    if (form.hasAttribute("data-index")) {
      var go = function () { if (mine === seq) show(localFind(q)); };
      if (index) { go(); return; }
      fetch(form.getAttribute("data-index")).then(function (r) { return r.json(); })
        .then(function (data) { index = data; go(); }).catch(function () {});
      return;
    }
    fetch(form.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q))
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (mine === seq) show(data.map(function (m) { return { label: m.label, kind: m.kind, href: m.href }; }));
      }).catch(function () {});
  }

  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 120); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown" && !list.hidden) { ev.preventDefault(); list.querySelector("a").focus(); }
    if (ev.key === "Escape") show([]);
  });
  list.addEventListener("keydown", function (ev) {
    var a = document.activeElement, li = a && a.parentNode;
    if (ev.key === "ArrowDown" && li.nextSibling) { ev.preventDefault(); li.nextSibling.firstChild.focus(); }
    if (ev.key === "ArrowUp") { ev.preventDefault(); (li.previousSibling ? li.previousSibling.firstChild : input).focus(); }
    if (ev.key === "Escape") { show([]); input.focus(); }
  });

  // the static site's search page: run the query of the address in the browser
  var results = document.getElementById("results");
  var params = new URLSearchParams(location.search);
  if (results && form.hasAttribute("data-index") && params.get("q")) {
    input.value = params.get("q");
    fetch(form.getAttribute("data-index")).then(function (r) { return r.json(); }).then(function (data) {
      index = data;
      var found = localFind(params.get("q"));
      found.forEach(function (m) {
        var li = document.createElement("li"), a = document.createElement("a"), k = document.createElement("span");
        a.href = m.href; a.textContent = m.label; k.className = "kind"; k.textContent = " " + m.kind;
        li.appendChild(a); li.appendChild(k); results.appendChild(li);
      });
      var note = document.createElement("p");
      note.textContent = found.length + " result" + (found.length === 1 ? "" : "s") + " for \u201c" + params.get("q") + "\u201d.";
      results.parentNode.insertBefore(note, results);
    }).catch(function () {});
  }
})();
