// Live alerts: the nav badge counts what waits for an answer; a new alert raised by the rules engine
// arrives over the socket, shows as a toast and adds to the badge. Reconnects after a restart.
(function () {
  var badge = document.getElementById("alert-badge");
  if (!badge) { return; }
  fetch(badge.dataset.count, { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { open: 0 }; })
    .then(function (d) { badge.textContent = d.open ? String(d.open) : ""; });
  var box = document.createElement("div");
  box.id = "alert-toasts";
  document.body.appendChild(box);
  var seen = {};  // one alert reaches a leader through his own group and his unit's: show it once
  function toast(a) {
    if (seen[a.id]) { return; }
    seen[a.id] = true;
    var el = document.createElement("a");
    el.className = "alert-toast sev-" + a.severity;
    el.href = a.url;
    el.dataset.alert = a.id;
    el.textContent = "【" + a.severity_label + " · " + a.kind + "】" + a.message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 15000);
    badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
  }
  var delay = 1000;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/alerts/");
    ws.onmessage = function (e) { toast(JSON.parse(e.data)); };
    ws.onopen = function () { delay = 1000; badge.dataset.live = "1"; };
    ws.onclose = function (e) {
      badge.dataset.live = "";
      if (e.code === 4401) { return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
