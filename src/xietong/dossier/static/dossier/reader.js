// Online reader: page images load lazily as they scroll into view; the OCR text layer is laid over
// each visible page as transparent, selectable text; zoom, rotate, jump, and search with highlights.
(function () {
  "use strict";
  var reader = document.getElementById("reader");
  if (!reader) return;
  var pages = document.getElementById("pages");
  var zoom = 1, query = [];

  function layText(page) {
    if (page.dataset.textLoaded) return;
    page.dataset.textLoaded = "1";
    fetch("/api/v1/pages/" + page.dataset.pageId + "/words", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = page.querySelector(".textlayer"), w = data.width, h = data.height;
        (data.words || []).forEach(function (word) {
          var span = document.createElement("span");
          span.textContent = word[4];
          span.style.left = (100 * word[0] / w) + "%";
          span.style.top = (100 * word[1] / h) + "%";
          span.style.width = (100 * word[2] / w) + "%";
          span.style.height = (100 * word[3] / h) + "%";
          span.dataset.h = word[3] / h;
          layer.appendChild(span);
        });
        sizeText(page); highlight(page);
      });
  }
  function sizeText(page) {
    var height = page.getBoundingClientRect().height;
    page.querySelectorAll(".textlayer span").forEach(function (s) {
      s.style.fontSize = Math.max(6, height * parseFloat(s.dataset.h) * 0.9) + "px";
    });
  }
  function highlight(page) {
    page.querySelectorAll(".textlayer span").forEach(function (s) {
      var hit = query.some(function (q) { return q && (s.textContent.indexOf(q) >= 0 || q.indexOf(s.textContent) >= 0 && s.textContent.length > 1); });
      s.classList.toggle("hit", hit);
    });
  }
  var seen = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) { if (e.isIntersecting) layText(e.target); });
  }, {rootMargin: "600px 0px"});
  pages.querySelectorAll(".page").forEach(function (p) { seen.observe(p); });

  function jump(n) {
    var el = document.getElementById("page-" + n);
    if (el) { el.scrollIntoView({behavior: "instant", block: "start"}); layText(el); }
  }
  reader.addEventListener("click", function (e) {
    var a = e.target.closest("[data-jump]");
    if (a) { e.preventDefault(); jump(a.dataset.jump); history.replaceState(null, "", "#page-" + a.dataset.jump); }
  });
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      zoom = Math.min(3, Math.max(0.4, zoom + 0.2 * Number(b.dataset.zoom)));
      pages.style.setProperty("--zoom", zoom);
      document.getElementById("zoom-label").textContent = Math.round(zoom * 100) + "%";
      pages.querySelectorAll(".page[data-text-loaded]").forEach(sizeText);
    });
  });
  function current() {
    var best = null, top = Infinity;
    pages.querySelectorAll(".page").forEach(function (p) {
      var d = Math.abs(p.getBoundingClientRect().top - 120);
      if (d < top) { top = d; best = p; }
    });
    return best;
  }
  document.querySelector("[data-rotate]").addEventListener("click", function () {
    var p = current(); if (!p) return;
    var r = ((Number(p.dataset.rotate) || 0) + 90) % 360;
    p.dataset.rotate = r; p.style.transform = r ? "rotate(" + r + "deg)" : "";
  });
  document.getElementById("goto").addEventListener("change", function (e) { jump(e.target.value); });
  document.getElementById("find").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = document.getElementById("find-q").value.trim(), out = document.getElementById("find-results");
    if (!q) return;
    query = q.split(/\s+/);
    out.innerHTML = '<li class="muted">检索中…</li>';
    fetch("/api/v1/search?case_id=" + reader.dataset.case + "&q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        out.innerHTML = "";
        (data.results || []).forEach(function (hit) {
          var li = document.createElement("li"), a = document.createElement("a");
          var here = String(hit.volume_id) === reader.dataset.volume;
          a.href = here ? "#page-" + hit.page : "/volumes/" + hit.volume_id + "/#page-" + hit.page;
          if (here) a.dataset.jump = hit.page;
          a.textContent = "卷" + hit.volume + " 第" + hit.page + "页";
          var s = document.createElement("div"); s.className = "muted"; s.textContent = hit.snippet;
          li.appendChild(a); li.appendChild(s); out.appendChild(li);
        });
        if (!out.children.length) out.innerHTML = '<li class="muted">没有结果。</li>';
        pages.querySelectorAll(".page[data-text-loaded]").forEach(highlight);
      });
  });
  if (location.hash.indexOf("#page-") === 0) setTimeout(function () { jump(location.hash.slice(6)); }, 50);
})();
