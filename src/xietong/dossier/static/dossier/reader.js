// Online reader: page images load lazily as they scroll into view; the OCR text layer is laid over
// each visible page as transparent, selectable text; zoom, rotate, jump, and search with highlights.
// Beside a report (#reader[data-quote], F4): selected text is quoted with one gesture (the 「引用」
// button that appears over a selection, or Alt+Q) as a bubbling CustomEvent "xt:quote" with detail
// {text, volumeId, volumeNumber, pageId, pageNumber[, endPageId, endPageNumber]}; an "xt:jump" event
// {pageNumber[, text]} sent to #reader scrolls to the page and marks the quoted text.
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
        sizeText(page); highlight(page); markQuote(page);
      });
  }
  function sizeText(page) {
    var height = page.getBoundingClientRect().height;
    page.querySelectorAll(".textlayer span").forEach(function (s) {
      s.style.fontSize = Math.max(6, height * parseFloat(s.dataset.h) * 0.9) + "px";
    });
  }
  // Mark the words that make up each occurrence of a query term in the page's running text (OCR
  // words are often single characters, so a term usually spans several words).
  function highlight(page) {
    var spans = Array.prototype.slice.call(page.querySelectorAll(".textlayer span"));
    var text = "", owner = [];
    spans.forEach(function (s, i) {
      s.classList.remove("hit");
      for (var k = 0; k < s.textContent.length; k++) owner.push(i);
      text += s.textContent;
    });
    query.forEach(function (q) {
      if (!q) return;
      for (var at = text.indexOf(q); at >= 0; at = text.indexOf(q, at + q.length)) {
        for (var k = at; k < at + q.length; k++) spans[owner[k]].classList.add("hit");
      }
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

  // ---- quoting and jumping to a quotation (F4)
  function markQuote(page) {
    var want = (page.xtQuote || "").replace(/\s+/g, "");
    if (!want || !page.dataset.textLoaded) return;
    var spans = Array.prototype.slice.call(page.querySelectorAll(".textlayer span")), text = "", owner = [];
    spans.forEach(function (s) {
      s.classList.remove("quoted");
      var t = s.textContent.replace(/\s+/g, "");
      for (var i = 0; i < t.length; i++) owner.push(s);
      text += t;
    });
    var at = text.indexOf(want), len = want.length;
    if (at < 0) { len = Math.min(12, want.length); at = text.indexOf(want.slice(0, len)); }
    for (var i = at; at >= 0 && i < at + len; i++) owner[i].classList.add("quoted");
  }
  reader.addEventListener("xt:jump", function (e) {
    var d = e.detail || {}, el = document.getElementById("page-" + d.pageNumber);
    if (!el) return;
    el.xtQuote = d.text || "";
    jump(d.pageNumber); markQuote(el);
    el.classList.remove("xt-flash"); void el.offsetWidth; el.classList.add("xt-flash");
  });
  if (!reader.hasAttribute("data-quote")) return;

  function pageOf(node) {
    var el = node && (node.nodeType === 1 ? node : node.parentElement);
    return el ? el.closest(".page") : null;
  }
  function joinWords(parts) {  // Chinese needs no spaces; keep one between two Latin/digit runs
    return parts.reduce(function (out, p) {
      return out + (out && /[A-Za-z0-9]$/.test(out) && /^[A-Za-z0-9]/.test(p) ? " " : "") + p;
    }, "");
  }
  function selectedQuote() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return null;
    var range = sel.getRangeAt(0), parts = [];
    var within = Array.prototype.filter.call(pages.querySelectorAll(".page"), function (p) { return range.intersectsNode(p); });
    within.forEach(function (p) {
      p.querySelectorAll(".textlayer span").forEach(function (s) {
        if (!range.intersectsNode(s)) return;
        var r = document.createRange();
        r.selectNodeContents(s);
        if (range.compareBoundaryPoints(Range.START_TO_START, r) > 0) r.setStart(range.startContainer, range.startOffset);
        if (range.compareBoundaryPoints(Range.END_TO_END, r) < 0) r.setEnd(range.endContainer, range.endOffset);
        parts.push(r.toString());
      });
    });
    var text = joinWords(parts).trim();
    if (!text) return null;
    var first = within[0], last = within[within.length - 1];
    var q = {text: text, volumeId: Number(reader.dataset.volume), volumeNumber: Number(reader.dataset.volumeNumber),
             pageId: Number(first.dataset.pageId), pageNumber: Number(first.dataset.number)};
    if (last !== first) { q.endPageId = Number(last.dataset.pageId); q.endPageNumber = Number(last.dataset.number); }
    return q;
  }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "btn small xt-quote-btn";
  button.textContent = "引用";
  button.title = "插入报告，附卷页出处（Alt+Q）";
  button.style.display = "none";  // not [hidden]: .btn sets display
  button.style.position = "absolute";
  button.style.zIndex = "20";
  document.body.appendChild(button);
  function placeButton() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount || !pageOf(sel.focusNode) && !pageOf(sel.anchorNode)) { button.style.display = "none"; return; }
    var rects = sel.getRangeAt(0).getClientRects(), last = rects[rects.length - 1];
    if (!last) { button.style.display = "none"; return; }
    button.style.display = "";
    var left = Math.min(last.right + 4, document.documentElement.clientWidth - button.offsetWidth - 8);
    button.style.left = (left + window.scrollX) + "px";
    button.style.top = (last.bottom + 6 + window.scrollY) + "px";
  }
  function quote() {
    var q = selectedQuote();
    if (!q) return false;
    reader.dispatchEvent(new CustomEvent("xt:quote", {bubbles: true, detail: q}));
    window.getSelection().removeAllRanges();
    button.style.display = "none";
    return true;
  }
  document.addEventListener("mouseup", function (e) { if (e.target !== button) setTimeout(placeButton, 0); });
  document.addEventListener("keyup", function (e) { if (e.shiftKey) placeButton(); });
  document.addEventListener("selectionchange", function () { if (window.getSelection().isCollapsed) button.style.display = "none"; });
  button.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep the selection
  button.addEventListener("click", quote);
  document.addEventListener("keydown", function (e) {  // Alt+Q (⌥Q): Ctrl+Q / ⌘Q quit some browsers
    if (e.altKey && !e.ctrlKey && !e.metaKey && e.code === "KeyQ" && quote()) e.preventDefault();
  });
})();
