// Live alerts: the nav badge counts what waits for an answer; a new alert raised by the rules engine
// arrives over the socket, shows as a toast and adds to the badge. Reconnects after a restart, and then
// counts again (an alert raised while the socket was down is in the count, though not toasted).
(function () {
  var badge = document.getElementById("alert-badge");
  if (!badge) { return; }
  function count() {
    fetch(badge.dataset.count, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { open: 0 }; })
      .then(function (d) { badge.textContent = d.open ? String(d.open) : ""; });
  }
  count();
  var opened = false;
  var box = document.createElement("div");
  box.id = "alert-toasts";
  document.body.appendChild(box);
  var seen = {};  // one alert reaches a leader through his own group and his unit's: show it once
  var KEPT = 5;  // toasts on screen at once; an older one gives way (the badge and the list keep it)
  function toast(a) {
    if (seen[a.id]) { return; }
    seen[a.id] = true;
    // A toast stays until it is opened or closed: a leader away from the desk for a minute must not
    // come back to a page that no longer says an alert arrived.
    var el = document.createElement("div");
    el.className = "alert-toast sev-" + a.severity;
    el.dataset.alert = a.id;
    var link = document.createElement("a");
    link.href = a.url;
    link.textContent = "【" + a.severity_label + " · " + a.kind + "】" + a.message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "alert-toast-close";
    close.setAttribute("aria-label", "关闭");
    close.textContent = "×";
    close.addEventListener("click", function () { el.remove(); });
    el.appendChild(link);
    el.appendChild(close);
    box.appendChild(el);
    while (box.children.length > KEPT) { box.removeChild(box.firstChild); }
    badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
  }
  var delay = 1000;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/alerts/");
    ws.onmessage = function (e) { toast(JSON.parse(e.data)); };
    ws.onopen = function () {
      delay = 1000;
      if (opened) { count(); }
      opened = true;
      badge.dataset.live = "1";
    };
    ws.onclose = function (e) {
      badge.dataset.live = "";
      if (e.code === 4401) { return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
