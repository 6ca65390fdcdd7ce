// The courtroom screen: one WebSocket to /ws/hearings/<id>/, the shared display drawn from the
// server's state (item, zoom, highlight, pointer); presenters send display actions, the presiding
// judge gives the floor, a leader sends private advice. A screen without login pairs with a
// one-time code and reconnects with the token it is given.
(function () {
  "use strict";
  var court = document.getElementById("court").dataset;
  window.COURT = { hearing: Number(court.hearing), role: court.role || "", screen: court.screen === "1" };
  var C = window.COURT, ws = null, retry = 500, state = {}, version = 0, presenter = "";
  var $ = function (id) { return document.getElementById(id); };
  var tokenKey = "court-screen-" + C.hearing;

  function url() {
    var q = "";
    if (C.screen) {
      var token = sessionStorage.getItem(tokenKey);
      if (token) { q = "?screen=" + encodeURIComponent(token); }
      else if (C.code) { q = "?code=" + encodeURIComponent(C.code); }
      else { return null; }
    }
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/hearings/" + C.hearing + "/" + q;
  }

  function setConn(text) { if ($("conn")) { $("conn").textContent = text; } }

  function draw() {
    var d = $("display"), img = $("display-img"), hl = $("highlight"), pt = $("pointer");
    d.dataset.item = state.item || "";
    d.dataset.version = String(version);
    $("display-empty").hidden = !!state.item;
    var media = $("display-media");
    media.hidden = !state.media;
    if (state.media) {
      if (media.getAttribute("src") !== state.media) { media.src = state.media; }
      // follow the presenter's playback: seek when more than half a second apart, play or pause
      if (Math.abs((media.currentTime || 0) - (state.position || 0)) > 0.5) { media.currentTime = state.position || 0; }
      if (state.playing && media.paused) { media.play().catch(function () {}); }
      if (!state.playing && !media.paused) { media.pause(); }
      media.dataset.position = String(state.position || 0);
    } else if (media.getAttribute("src")) { media.pause(); media.removeAttribute("src"); }
    img.hidden = !state.image;
    if (state.image && img.getAttribute("src") !== state.image) { img.src = state.image; }
    $("frame").style.transform = "scale(" + (state.zoom || 1) + ")";
    if (state.highlight) {
      var h = state.highlight;
      hl.hidden = false;
      hl.style.left = h[0] * 100 + "%"; hl.style.top = h[1] * 100 + "%";
      hl.style.width = h[2] * 100 + "%"; hl.style.height = h[3] * 100 + "%";
      hl.dataset.box = h.join(",");
    } else { hl.hidden = true; hl.dataset.box = ""; }
    if (state.pointer) {
      pt.hidden = false; pt.style.left = state.pointer[0] * 100 + "%"; pt.style.top = state.pointer[1] * 100 + "%";
    } else { pt.hidden = true; }
    if ($("presenter")) { $("presenter").textContent = "举证方：" + ({prosecutor: "公诉人", defence: "辩护人", presiding: "审判长"}[presenter] || presenter); }
    if ($("display-caption")) { $("display-caption").textContent = state.item ? "正在展示 " + label(state.item) : ""; }
  }

  // An item by its name in the evidence list (卷1 第2页, 视听资料1：…) where the page has the list.
  function label(item) {
    var button = document.querySelector('#items [data-item="' + item + '"]');
    return button ? button.textContent : item;
  }

  function addEvent(text) {
    var li = document.createElement("li"); li.textContent = text;
    if ($("events")) { $("events").appendChild(li); }
  }

  function onMessage(m) {
    if (m.type === "hello" || m.type === "state") {
      if (m.version < version) { return; }  // a late message: the screen already shows newer
      version = m.version; state = m.state || {}; presenter = m.presenter;
      if ($("hearing-status")) { $("hearing-status").textContent = {open: "庭审中", deliberation: "合议", closed: "已闭庭"}[m.status] || m.status; }
      if (m.type === "hello") {
        if (m.screen_token) { sessionStorage.setItem(tokenKey, m.screen_token); }
        if ($("my-role")) { $("my-role").textContent = {public: "公共显示屏", defence: "辩护人屏", defendant: "被告人屏"}[m.role] || $("my-role").textContent; }
        if ($("pair")) { $("pair").hidden = true; }
      }
      draw();
    } else if (m.type === "event") {
      var who = {prosecutor: "公诉人", defence: "辩护人", presiding: "审判长", judge: "审判员"}[m.role] || m.role;
      m.item = m.item ? label(m.item) : m.item;
      var text;
      if (m.kind === "present") { text = "举证：" + who + "出示 " + m.item + (m.data.purpose ? "，证明" + m.data.purpose : ""); }
      else if (m.kind === "cross") {
        var o = m.data.opinions, w = function (v) { return v === "agree" ? "无异议" : "有异议"; };
        text = "质证：" + who + "对 " + m.item + " 真实性" + w(o.authenticity) + "、合法性" + w(o.legality) + "、关联性" + w(o.relevance) + (m.data.reasons ? "（" + m.data.reasons + "）" : "");
      } else if (m.kind === "note") { text = "笔录：" + m.data.text; }
      else if (m.kind === "ruling") { text = "认证：" + m.item + (m.data.admitted ? " 予以采信" : " 不予采信"); }
      else { text = m.kind + " " + m.item; }
      var li = document.createElement("li"); li.textContent = text; li.dataset.kind = m.kind;
      if ($("events")) { $("events").appendChild(li); }
    } else if (m.type === "advice") {
      var li = document.createElement("li"); li.dataset.advice = m.id;
      li.textContent = m.text + " ";
      var ack = document.createElement("button"); ack.className = "btn small"; ack.textContent = "收到";
      ack.onclick = function () { send({type: "ack", id: m.id}); ack.disabled = true; ack.textContent = "已确认"; };
      li.appendChild(ack);
      $("advice").appendChild(li);
    } else if (m.type === "advice_sent") {
      if ($("advice-status")) { $("advice-status").textContent = "已发送"; }
    } else if (m.type === "error") {
      if ($("error")) { $("error").textContent = m.message; }
      else { addEvent("⚠ " + m.message); }
      if (m.code === "bad_screen_token" || m.code === "bad_screen_code") {
        sessionStorage.removeItem(tokenKey); C.code = ""; if ($("pair")) { $("pair").hidden = false; }
      }
    }
  }

  function connect() {
    var u = url();
    if (!u) { if ($("pair")) { $("pair").hidden = false; } return; }
    ws = new WebSocket(u);
    ws.onopen = function () { setConn("已连接"); retry = 500; };
    ws.onmessage = function (e) { onMessage(JSON.parse(e.data)); };
    ws.onclose = function (e) {
      setConn("连接中断，正在重连…");
      if (e.code === 4403 && C.screen && !sessionStorage.getItem(tokenKey)) { return; }
      setTimeout(connect, retry); retry = Math.min(retry * 2, 5000);
    };
  }
  window.COURT.reconnect = function () { if (ws) { ws.close(); } };

  function send(m) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(m)); } }

  document.addEventListener("click", function (e) {
    var item = e.target.closest("[data-item]");
    if (item && item.tagName === "BUTTON") {
      send({type: "display", state: {item: item.dataset.item, zoom: 1}, purpose: ($("purpose") || {}).value || ""});
    }
    var st = e.target.closest("[data-status]");
    if (st) { send({type: "status", status: st.dataset.status}); }
    var turn = e.target.closest("[data-turn]");
    if (turn) { send({type: "turn", role: turn.dataset.turn}); }
    if (e.target.id === "cross-btn" && state.item) {
      var opinions = {};
      document.querySelectorAll("[data-opinion]").forEach(function (sel) { opinions[sel.dataset.opinion] = sel.value; });
      send({type: "cross", item: state.item, opinions: opinions, reasons: $("cross-reasons").value});
    }
    if ((e.target.id === "admit-btn" || e.target.id === "reject-btn") && state.item) {
      send({type: "ruling", item: state.item, admitted: e.target.id === "admit-btn"});
    }
    if (e.target.id === "note-send" && $("note-text").value.trim()) {
      send({type: "note", text: $("note-text").value}); $("note-text").value = "";
    }
    if (e.target.id === "advice-send") {
      send({type: "advice", officer: Number($("officer").value), text: $("advice-text").value});
    }
  });
  // The presenter's player drives everyone's: play, pause and seek are sent as display actions.
  var player = $("display-media");
  if (player && !C.screen) {
    ["play", "pause", "seeked"].forEach(function (ev) {
      player.addEventListener(ev, function () {
        if (!state.media || Math.abs(player.currentTime - (state.position || 0)) < 0.3 && (ev === "seeked") && !player.paused === !!state.playing) { return; }
        send({type: "display", state: {item: state.item, zoom: state.zoom || 1, position: player.currentTime, playing: !player.paused}});
      });
    });
  }
  // The presenter marks a passage: a click on the page puts a highlight box around that place.
  var frame = $("frame");
  if (frame && !C.screen) {
    frame.addEventListener("click", function (e) {
      if (!state.item) { return; }
      var r = $("display-img").getBoundingClientRect();
      var x = (e.clientX - r.left) / r.width, y = (e.clientY - r.top) / r.height;
      var box = [Math.max(0, Math.min(0.7, x - 0.15)), Math.max(0, Math.min(0.9, y - 0.05)), 0.3, 0.1];
      send({type: "display", state: {item: state.item, zoom: state.zoom || 1, highlight: box, pointer: [Math.min(1, Math.max(0, x)), Math.min(1, Math.max(0, y))]}});
    });
  }
  if ($("pair")) {
    $("pair").addEventListener("submit", function (e) {
      e.preventDefault(); C.code = $("code").value.trim(); $("error").textContent = ""; connect();
    });
  }
  connect();
})();
