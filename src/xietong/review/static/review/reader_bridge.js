// The case file reader beside a report (F4). Passes the reader's "xt:quote" events to the report
// editor and the editor's jumps (citation clicks) to the reader. In the workspace's frame it talks to
// the parent window (postMessage, same origin only); in a second window (two-screen mode) over a
// BroadcastChannel named after the report. The reader itself (dossier/reader.js) knows nothing of this.
(function () {
  "use strict";
  var body = document.body;
  var embedded = window.parent !== window;
  var channel = !embedded && "BroadcastChannel" in window ? new BroadcastChannel(body.dataset.channel) : null;
  var waiting = null, toastTimer = null;

  function reader() { return document.getElementById("reader"); }
  function send(message) {
    if (embedded) window.parent.postMessage(message, location.origin);
    else if (channel) channel.postMessage(message);
  }
  function toast(text, bad) {
    var el = document.getElementById("xt-toast");
    if (!el) { el = document.createElement("div"); el.id = "xt-toast"; el.setAttribute("role", "status"); body.appendChild(el); }
    el.textContent = text;
    el.className = "xt-toast" + (bad ? " bad" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.className = "xt-toast gone"; }, bad ? 4000 : 1800);
  }
  function volumeUrl(id) {
    var option = document.querySelector('#xt-volume option[data-volume-id="' + Number(id) + '"]');
    return option ? option.value : null;
  }
  function jumpTo(d) {
    var r = reader();
    if (!r || !d || !d.pageNumber) return;
    if (String(d.volumeId) !== r.dataset.volume) {  // another volume: open it here, then mark
      var url = volumeUrl(d.volumeId);
      if (!url) return;
      sessionStorage.setItem("xt-jump", JSON.stringify(d));
      location.href = url + "#page-" + Number(d.pageNumber);
      return;
    }
    r.dispatchEvent(new CustomEvent("xt:jump", {detail: d}));
  }
  function hello() { var r = reader(); send({type: "hello", volumeId: r ? Number(r.dataset.volume) : null}); }

  document.addEventListener("xt:quote", function (e) {
    send({type: "quote", detail: e.detail});
    clearTimeout(waiting);
    waiting = setTimeout(function () { toast("没有找到报告编辑窗口，引文未插入", true); }, 2500);
  });
  function onMessage(data) {
    if (!data || typeof data !== "object") return;
    if (data.type === "jump") jumpTo(data.detail);
    else if (data.type === "quoted") { clearTimeout(waiting); toast("已插入报告 " + (data.citation || "")); }
    else if (data.type === "refused") { clearTimeout(waiting); toast(data.message || "报告不可编辑", true); }
    else if (data.type === "ping") hello();
    else if (data.type === "close" && !embedded) window.close();
  }
  window.addEventListener("message", function (e) {
    if (embedded && e.source === window.parent && e.origin === location.origin) onMessage(e.data);
  });
  if (channel) channel.onmessage = function (e) { onMessage(e.data); };
  window.addEventListener("pagehide", function () { send({type: "bye"}); });

  document.addEventListener("DOMContentLoaded", function () {
    body.classList.add(embedded ? "xt-in-frame" : "xt-in-window");
    var pick = document.getElementById("xt-volume");
    if (pick) pick.addEventListener("change", function () { location.href = pick.value; });
    // Search hits in another volume open that volume here, not in the standalone reader.
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest('#find-results a[href^="/volumes/"]');
      var m = a && a.getAttribute("href").match(/^\/volumes\/(\d+)\/#page-(\d+)/);
      var url = m && volumeUrl(m[1]);
      if (url) { e.preventDefault(); location.href = url + "#page-" + m[2]; }
    }, true);
    // The side panel (catalogue, thumbnails) folds away to give the pages the room.
    var r = reader(), tools = document.querySelector(".reader-tools");
    if (r && tools) {
      var fold = document.createElement("button");
      fold.type = "button"; fold.className = "btn small secondary"; fold.id = "xt-side";
      fold.textContent = "目录栏"; fold.title = "显示或隐藏目录与缩略图";
      var stored = localStorage.getItem("xt-reader-side");
      var hidden = stored ? stored === "hidden" : window.innerWidth < 1100;
      r.classList.toggle("side-hidden", hidden);
      fold.addEventListener("click", function () {
        hidden = !r.classList.contains("side-hidden");
        r.classList.toggle("side-hidden", hidden);
        localStorage.setItem("xt-reader-side", hidden ? "hidden" : "shown");
        window.dispatchEvent(new Event("resize"));
      });
      tools.insertBefore(fold, tools.firstChild);
    }
    var pending = sessionStorage.getItem("xt-jump");
    if (pending && r) {
      sessionStorage.removeItem("xt-jump");
      try {
        var d = JSON.parse(pending);
        if (String(d.volumeId) === r.dataset.volume) setTimeout(function () { jumpTo(d); }, 60);
      } catch (err) { /* a stale entry: ignore */ }
    }
    hello();
  });
})();
