// The platform's page behaviours, in static files only, so that the Content-Security-Policy can
// forbid inline scripts (script-src 'self'). Markup asks for a behaviour with a data attribute:
//   <select data-autosubmit>          submits its form when changed
//   <select data-clears="town">       empties the form's field "town" when changed
//   <form data-confirm="…">           asks before it is sent
//   <form data-busy="id" data-busy-text="…">   shows the text in element #id while it is sent
//   <button data-print>               prints the page
//   <button data-cite-more>           adds an empty copy of the citation row before it
//   <div data-tick-on-load>           the countdowns tick at once (and after each swap), not only every 30 s
//   [data-close]                      closes the dialog
//   <a data-back href="/">            goes back a page (to its href when there is no history)
(function () {
  "use strict";

  // Countdowns tick in the page; the level badges are the server's and refresh with the page.
  function tickCountdowns() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var ms = new Date(el.dataset.due) - new Date(), over = ms < 0; ms = Math.abs(ms);
      var d = Math.floor(ms / 864e5), h = Math.floor(ms % 864e5 / 36e5), m = Math.floor(ms % 36e5 / 6e4);
      var text = d ? d + "天" + h + "小时" : h + "小时" + m + "分";
      el.textContent = over ? "已超期" + text : "剩余" + text;
    });
  }
  window.tickCountdowns = tickCountdowns;
  setInterval(tickCountdowns, 30000);
  function tickNowIfAsked() { if (document.querySelector("[data-tick-on-load]")) { tickCountdowns(); } }
  document.addEventListener("DOMContentLoaded", tickNowIfAsked);

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target.id === "dlg-body") { document.getElementById("dlg").showModal(); }
    tickNowIfAsked();
  });
  // A refused form comes back as 4xx with the form and its message: show it in place.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var id = e.detail.target.id, status = e.detail.xhr.status;
    if ((id === "dlg-body" && status >= 400) || (id === "board-thread" && status >= 400 && status < 500)) {
      e.detail.shouldSwap = true; e.detail.isError = false;
    }
  });

  document.addEventListener("click", function (e) {
    var el = e.target;
    if (!(el instanceof Element)) { return; }
    if (el.matches("[data-close]")) { document.getElementById("dlg").close(); }
    if (el.matches("[data-print]")) { window.print(); }
    if (el.matches("[data-back]") && window.history.length > 1) { e.preventDefault(); window.history.back(); }
    if (el.matches("[data-cite-more]")) {
      var rows = el.previousElementSibling, row = rows.firstElementChild.cloneNode(true);
      row.querySelectorAll("input,select").forEach(function (field) { field.value = ""; });
      rows.appendChild(row);
    }
  });

  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!(el instanceof HTMLElement) || !el.form) { return; }
    if (el.dataset.clears && el.form.elements[el.dataset.clears]) { el.form.elements[el.dataset.clears].value = ""; }
    if (el.hasAttribute("data-autosubmit")) { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { e.preventDefault(); return; }
    if (form.dataset.busy) {
      var out = document.getElementById(form.dataset.busy);
      if (out) { out.textContent = form.dataset.busyText || "处理中…"; }
    }
  });
})();
