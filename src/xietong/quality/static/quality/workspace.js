// 网上案件评查 workspace: show a page of the case file, drag a rectangle on it, and fill the defect
// form with the page and the rectangle in the page image's own pixels (the server crops that region).
(function () {
  var img = document.getElementById("page-img");
  var stage = document.getElementById("stage");
  var sel = document.getElementById("sel");
  var label = document.getElementById("page-label");
  var selLabel = document.getElementById("sel-label");
  if (!img || !stage) { return; }
  var current = null;   // {id, volume, number, w, h}
  var rect = null;      // [x, y, w, h] in image pixels
  var drag = null;

  function $(id) { return document.getElementById(id); }

  function fillForm() {
    if (!$("f-page")) { return; }
    $("f-page").value = current ? current.id : "";
    ["x", "y", "w", "h"].forEach(function (k, i) { $("f-" + k).value = rect ? rect[i] : ""; });
    var where = $("f-where");
    if (!current) { where.textContent = "位置：未选择页面（记为全案问题）"; }
    else if (rect) { where.textContent = "位置：第" + current.volume + "卷第" + current.number + "页，选区 " + rect[2] + "×" + rect[3] + " 像素（将截图保存）"; }
    else { where.textContent = "位置：第" + current.volume + "卷第" + current.number + "页（未框选，将截取整页）"; }
  }

  function showPage(button) {
    document.querySelectorAll(".q-page.active").forEach(function (b) { b.classList.remove("active"); });
    button.classList.add("active");
    current = { id: button.dataset.page, volume: button.dataset.volume, number: button.dataset.number,
                w: +button.dataset.w, h: +button.dataset.h };
    img.src = button.dataset.src;   // every view goes to the server, which logs it
    label.textContent = "第" + current.volume + "卷 第" + current.number + "页";
    clearSelection();
  }

  function clearSelection() {
    rect = null; sel.hidden = true; selLabel.textContent = ""; fillForm();
  }

  function point(e) {
    var box = img.getBoundingClientRect();
    return { x: Math.min(Math.max(e.clientX - box.left, 0), box.width),
             y: Math.min(Math.max(e.clientY - box.top, 0), box.height), box: box };
  }

  stage.addEventListener("mousedown", function (e) {
    if (!current || e.button !== 0 || !$("defect-form")) { return; }
    e.preventDefault();
    var p = point(e);
    drag = { x0: p.x, y0: p.y };
    sel.hidden = false;
    sel.style.left = p.x + "px"; sel.style.top = p.y + "px"; sel.style.width = "0px"; sel.style.height = "0px";
  });
  window.addEventListener("mousemove", function (e) {
    if (!drag) { return; }
    var p = point(e);
    sel.style.left = Math.min(p.x, drag.x0) + "px"; sel.style.top = Math.min(p.y, drag.y0) + "px";
    sel.style.width = Math.abs(p.x - drag.x0) + "px"; sel.style.height = Math.abs(p.y - drag.y0) + "px";
  });
  window.addEventListener("mouseup", function (e) {
    if (!drag) { return; }
    var p = point(e), d = drag; drag = null;
    var scale = current.w / p.box.width;   // screen pixels → page image pixels
    var x = Math.round(Math.min(p.x, d.x0) * scale), y = Math.round(Math.min(p.y, d.y0) * scale);
    var w = Math.round(Math.abs(p.x - d.x0) * scale), h = Math.round(Math.abs(p.y - d.y0) * scale);
    if (w < 8 || h < 8) { clearSelection(); return; }
    rect = [x, y, Math.min(w, current.w - x), Math.min(h, current.h - y)];
    selLabel.textContent = "已框选 " + rect[2] + "×" + rect[3];
    fillForm();
    var comment = $("f-comment"); if (comment) { comment.focus(); }
  });

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.matches(".q-page")) { showPage(t); }
    else if (t.matches(".goto-page")) {
      var b = document.querySelector('.q-page[data-page="' + t.dataset.page + '"]');
      if (b) { showPage(b); b.scrollIntoView({ block: "nearest" }); }
    } else if (t.id === "f-clear") { clearSelection(); }
  });
  // A refused form comes back as the panel with its message: show it rather than drop it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target.id === "panel" && e.detail.xhr.status >= 400 && e.detail.xhr.status < 500) {
      e.detail.shouldSwap = true; e.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target.id !== "panel") { return; }
    if (e.detail.xhr.status < 400) { clearSelection(); } else { fillForm(); }
  });

  var first = document.querySelector(".q-page");
  if (first) { showPage(first); }
})();
