// 卷宗检索: mark the matched words in each snippet (the server sends their offsets in data-spans).
(function () {
  "use strict";
  function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  document.querySelectorAll(".snippet[data-spans]").forEach(function (el) {
    if (!el.dataset.spans) { return; }
    var text = el.textContent, out = "", pos = 0;
    el.dataset.spans.split(",").map(function (s) { return s.split("-").map(Number); }).forEach(function (ab) {
      out += esc(text.slice(pos, ab[0])) + "<mark>" + esc(text.slice(ab[0], ab[1])) + "</mark>"; pos = ab[1];
    });
    el.innerHTML = out + esc(text.slice(pos));
  });
})();
