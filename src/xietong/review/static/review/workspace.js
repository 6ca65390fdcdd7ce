// Review workspace (F4): the case file reader on the left (a same-origin frame, or a second window in
// two-screen mode), the report editor on the right.
// - Quotations arrive from the reader as {type: "quote", detail} messages (postMessage from the frame,
//   BroadcastChannel "xietong-report-<id>" from the second window) and go in at the cursor as
//   non-editable blocks with their citation 「（卷X 第Y页）」; clicking a citation sends {type: "jump"}
//   back, so the reader scrolls to the page and marks the quoted text.
// - The body is saved as JSON (review/document.py) a few seconds after each change (autosave) and on
//   「保存版本」/Ctrl+S; every save sends the version and revision it started from (409 if stale).
(function () {
  "use strict";
  var ws = document.getElementById("ws");
  if (!ws) return;
  var editor = document.getElementById("ws-editor");
  var statusEl = document.getElementById("ws-status");
  var frame = document.getElementById("ws-reader");
  var editable = ws.dataset.editable === "1";
  var state = {
    version: Number(ws.dataset.version), revision: Number(ws.dataset.revision),
    saved: null, timer: null, firstChange: 0, saving: null, conflict: false
  };
  var channel = "BroadcastChannel" in window ? new BroadcastChannel(ws.dataset.channel) : null;
  var twoScreen = false, byeTimer = null, lastRange = null;
  var AUTOSAVE_IDLE = 2500, AUTOSAVE_MAX = 15000;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { /* fall through */ }
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function post(url, data, keepalive) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify(data)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) { return {ok: r.ok, status: r.status, data: d}; });
    });
  }
  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "ws-status" + (kind ? " " + kind : "");
  }

  // ---------------------------------------------------------------- the body as JSON
  function citation(d) {
    var pages = d.end_page_number && d.end_page_number !== d.page_number ? d.page_number + "—" + d.end_page_number : d.page_number;
    return "（卷" + d.volume_number + " 第" + pages + "页）";
  }
  function quoteData(el) {
    var q = {type: "quote", text: el.querySelector(".rq-text").textContent,
             volume_id: Number(el.dataset.volumeId), volume_number: Number(el.dataset.volumeNumber),
             page_id: Number(el.dataset.pageId), page_number: Number(el.dataset.pageNumber)};
    if (el.dataset.endPageId) { q.end_page_id = Number(el.dataset.endPageId); q.end_page_number = Number(el.dataset.endPageNumber); }
    return q;
  }
  function lineText(el) { return el.innerText.replace(/\u00a0/g, " ").replace(/\n+$/, ""); }
  function collect(node, blocks) {
    if (node.nodeType === 3) {
      if (node.textContent.trim()) blocks.push({type: "p", text: node.textContent.replace(/\u00a0/g, " ")});
      return;
    }
    if (node.nodeType !== 1) return;
    if (node.classList.contains("rq")) { blocks.push(quoteData(node)); return; }
    if (node.tagName === "BR") return;
    if (!node.querySelector(".rq, p, div, blockquote")) {
      var text = lineText(node);
      if (text.trim()) blocks.push({type: "p", text: text});
      return;
    }
    node.childNodes.forEach(function (child) { collect(child, blocks); });
  }
  function serialise() {
    var sections = [];
    editor.querySelectorAll("section.rs").forEach(function (sec) {
      var blocks = [];
      sec.querySelector(".rs-body").childNodes.forEach(function (n) { collect(n, blocks); });
      var title = sec.querySelector(".rs-title").innerText.replace(/\s+/g, " ").trim();
      if (title || blocks.length || sections.length === 0) sections.push({key: sec.dataset.key, title: title, blocks: blocks});
    });
    return {title: document.getElementById("ws-title").innerText.replace(/\s+/g, " ").trim(), sections: sections};
  }
  state.saved = JSON.stringify(serialise());

  // ---------------------------------------------------------------- saving
  function dirty() { return editable && JSON.stringify(serialise()) !== state.saved; }
  function changed() {
    if (!editable || state.conflict) return;
    clearTimeout(state.timer);
    if (!dirty()) return;
    setStatus("有未保存的修改…", "pending");
    var now = Date.now();
    if (!state.firstChange) state.firstChange = now;
    var wait = now - state.firstChange > AUTOSAVE_MAX ? 0 : AUTOSAVE_IDLE;
    state.timer = setTimeout(function () { save(true); }, wait);
  }
  function save(auto, keepalive) {
    if (!editable) return Promise.resolve(true);
    if (state.conflict) return Promise.resolve(false);
    if (state.saving) return state.saving.then(function () { return save(auto, keepalive); });
    clearTimeout(state.timer);
    state.firstChange = 0;
    var body = serialise(), text = JSON.stringify(body);
    if (auto && text === state.saved) return Promise.resolve(true);
    if (!body.title) { setStatus("请填写报告标题后再保存", "bad"); return Promise.resolve(false); }
    setStatus("正在保存…", "pending");
    state.saving = post(ws.dataset.saveUrl, {
      body: body, expected_version: state.version, expected_revision: state.revision, autosave: auto
    }, keepalive).then(function (res) {
      state.saving = null;
      if (res.ok) {
        state.version = res.data.version; state.revision = res.data.revision; state.saved = text;
        setStatus((auto ? "已自动保存 " : "已保存 ") + res.data.saved_time + "（第" + res.data.version + "版）", "ok");
        if (dirty()) changed();
        return true;
      }
      if (res.status === 409 && res.data.code === "version_conflict") { conflict(res.data); return false; }
      if (res.status === 401) { setStatus("登录已过期：请在新标签页重新登录，本页内容会在之后保存", "bad"); }
      else setStatus("保存失败：" + (res.data.message || "HTTP " + res.status), "bad");
      if (res.status !== 400 && res.status !== 403 && res.status !== 409) state.timer = setTimeout(function () { save(true); }, 10000);
      return false;
    }, function () {
      state.saving = null;
      setStatus("网络中断，尚未保存，稍后自动重试", "bad");
      state.timer = setTimeout(function () { save(true); }, 10000);
      return false;
    });
    return state.saving;
  }
  function conflict(data) {
    state.conflict = true;
    clearTimeout(state.timer);
    var box = document.getElementById("ws-conflict");
    document.getElementById("ws-conflict-text").textContent = data.message || "报告已在别处被修改";
    box.dataset.version = data.details ? data.details.current_version : "";
    box.dataset.revision = data.details ? data.details.revision : "";
    box.hidden = false;
    setStatus("未保存：版本冲突", "bad");
  }

  // ---------------------------------------------------------------- quotations
  function quoteElement(d) {
    var el = document.createElement("blockquote");
    el.className = "rq";
    el.contentEditable = "false";
    el.dataset.volumeId = d.volume_id; el.dataset.volumeNumber = d.volume_number;
    el.dataset.pageId = d.page_id; el.dataset.pageNumber = d.page_number;
    if (d.end_page_id && d.end_page_id !== d.page_id) { el.dataset.endPageId = d.end_page_id; el.dataset.endPageNumber = d.end_page_number; }
    var text = document.createElement("span"); text.className = "rq-text"; text.textContent = d.text;
    var cite = document.createElement("a"); cite.className = "rq-cite"; cite.target = "_blank"; cite.title = "查看原页";
    cite.href = "/volumes/" + Number(d.volume_id) + "/#page-" + Number(d.page_number);
    cite.textContent = citation(d);
    var del = document.createElement("button"); del.type = "button"; del.className = "rq-del";
    del.title = "删除此引文"; del.setAttribute("aria-label", "删除此引文"); del.textContent = "×";
    el.appendChild(text); el.appendChild(cite); el.appendChild(del);
    return el;
  }
  function within(node, selector) {
    var el = node && (node.nodeType === 1 ? node : node.parentElement);
    return el ? el.closest(selector) : null;
  }
  function emptyParagraph() { var p = document.createElement("p"); p.appendChild(document.createElement("br")); return p; }
  function insertQuote(detail) {
    var d = {text: String(detail.text || "").trim(), volume_id: detail.volumeId, volume_number: detail.volumeNumber,
             page_id: detail.pageId, page_number: detail.pageNumber,
             end_page_id: detail.endPageId, end_page_number: detail.endPageNumber};
    if (!d.text || !d.page_id) return null;
    var el = quoteElement(d);
    var range = lastRange && editor.contains(lastRange.startContainer) ? lastRange : null;
    var body = range && within(range.startContainer, ".rs-body");
    if (!body && range && within(range.startContainer, "section.rs")) body = within(range.startContainer, "section.rs").querySelector(".rs-body");
    if (body && range && body.contains(range.startContainer)) {
      var block = range.startContainer;
      while (block && block.parentNode !== body) block = block.parentNode;
      if (block && block.nodeType === 1 && !block.classList.contains("rq")) {
        // Split the paragraph at the cursor: what follows the cursor goes below the quotation.
        var tail = document.createRange();
        tail.setStart(range.endContainer, range.endOffset);
        tail.setEnd(block, block.childNodes.length);
        var rest = tail.extractContents();
        if (block.textContent.trim()) block.after(el); else block.replaceWith(el);
        if (rest.textContent.trim()) { var p = document.createElement("p"); p.appendChild(rest); el.after(p); }
      } else if (block) {
        block.after(el);
      } else {
        body.appendChild(el);
      }
    } else {
      if (!body) {
        var home = editor.querySelector('section.rs[data-key="' + ws.dataset.quoteSection + '"] .rs-body');
        var bodies = editor.querySelectorAll(".rs-body");
        body = home || bodies[bodies.length - 1];
      }
      var last = body.lastElementChild;
      if (last && last.tagName === "P" && !last.textContent.trim()) last.replaceWith(el); else body.appendChild(el);
    }
    var next = el.nextElementSibling;
    if (!next || next.classList.contains("rq")) { next = emptyParagraph(); el.after(next); }
    var caret = document.createRange();
    caret.setStart(next, 0); caret.collapse(true);
    lastRange = caret;
    if (document.activeElement && editor.contains(document.activeElement)) {
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(caret);
    }
    el.scrollIntoView({block: "nearest"});
    el.classList.add("flash");
    setTimeout(function () { el.classList.remove("flash"); }, 1600);
    changed();
    return citation(d);
  }
  function onQuote(detail, reply) {
    if (!editable) { reply({type: "refused", message: "本报告不可修改（已定稿或只读）"}); return; }
    var cite = insertQuote(detail || {});
    reply(cite ? {type: "quoted", citation: cite} : {type: "refused", message: "没有选中文字"});
  }
  document.addEventListener("selectionchange", function () {
    var sel = window.getSelection();
    if (sel.rangeCount && editor.contains(sel.anchorNode)) lastRange = sel.getRangeAt(0).cloneRange();
  });

  // ---------------------------------------------------------------- the reader: frame and second window
  function toReader(message) {
    if (twoScreen && channel) channel.postMessage(message);
    else if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, location.origin);
  }
  window.addEventListener("message", function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== location.origin || !e.data) return;
    if (e.data.type === "quote") onQuote(e.data.detail, function (m) { frame.contentWindow.postMessage(m, location.origin); });
  });
  function setTwoScreen(on) {
    twoScreen = on;
    ws.classList.toggle("ws-two", on);
    var button = document.getElementById("ws-two");
    if (button) { button.textContent = on ? "收回阅卷窗口" : "双屏阅卷"; button.classList.toggle("active", on); }
  }
  if (channel) {
    channel.onmessage = function (e) {
      var m = e.data || {};
      if (m.type === "hello") { clearTimeout(byeTimer); setTwoScreen(true); }
      else if (m.type === "bye") { clearTimeout(byeTimer); byeTimer = setTimeout(function () { setTwoScreen(false); }, 1500); }
      else if (m.type === "quote") onQuote(m.detail, function (r) { channel.postMessage(r); });
    };
    channel.postMessage({type: "ping"});  // a reader window left open from before answers "hello"
  }
  function openSecondWindow() {
    if (!channel) { setStatus("此浏览器不支持双屏阅卷（BroadcastChannel）", "bad"); return; }
    var url = ws.dataset.readerUrl;
    try { if (frame && frame.contentWindow.location.pathname.indexOf("/reader/") > 0) url = frame.contentWindow.location.href; } catch (e) { /* keep the default */ }
    var width = Math.round(screen.availWidth / 2), left = (screen.availLeft || 0) + screen.availWidth;
    var win = window.open(url, "xietong-reader-" + ws.dataset.report,
      "popup=yes,width=" + width + ",height=" + screen.availHeight + ",left=" + left + ",top=" + (screen.availTop || 0));
    if (!win) { setStatus("浏览器阻止了新窗口，请允许本站弹出窗口", "bad"); return; }
    setTwoScreen(true);
  }

  // ---------------------------------------------------------------- actions
  function act(name, target) {
    if (name === "two-screen") {
      if (twoScreen) { if (channel) channel.postMessage({type: "close"}); setTwoScreen(false); } else openSecondWindow();
    } else if (name === "save") {
      save(false);
    } else if (name === "reload") {
      location.reload();
    } else if (name === "overwrite") {
      var box = document.getElementById("ws-conflict");
      state.version = Number(box.dataset.version); state.revision = Number(box.dataset.revision);
      state.conflict = false; box.hidden = true;
      save(false);
    } else if (name === "add-section") {
      var sec = document.createElement("section");
      sec.className = "rs"; sec.dataset.key = "s" + Date.now().toString(36);
      sec.innerHTML = '<h2 class="rs-title" contenteditable="true" spellcheck="false" data-placeholder="（小标题，可不填）"></h2>' +
                      '<div class="rs-body" contenteditable="true" spellcheck="false"><p><br></p></div>';
      editor.appendChild(sec);
      sec.querySelector(".rs-title").focus();
    } else if (name === "finalise") {
      if (!window.confirm("定稿后本报告不能再修改，定稿内容的校验值记入办案留痕。确定定稿？")) return;
      save(false).then(function (ok) {
        if (!ok) return;
        return post(ws.dataset.finaliseUrl, {expected_version: state.version}).then(function (res) {
          if (res.ok) location.reload();
          else setStatus("未能定稿：" + (res.data.message || res.status), "bad");
        });
      });
    } else if (name === "restore") {
      save(false).then(function (ok) {
        if (!ok) return;
        return post(target.dataset.url, {expected_version: state.version, expected_revision: state.revision}).then(function (res) {
          if (res.ok) { state.saved = null; location.reload(); }
          else setStatus("未能恢复：" + (res.data.message || res.status), "bad");
        });
      });
    }
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-act]");
    if (button && button.dataset.act === "export") {
      // Export what is on the screen: save it as a version (which autosave will not change), then fetch.
      if (!editable) return;
      e.preventDefault();
      save(false).then(function (ok) {
        if (ok) location.href = button.getAttribute("href").split("?")[0] + "?version=" + state.version;
      });
      return;
    }
    if (button && (ws.contains(button) || button.closest("#dlg"))) { e.preventDefault(); act(button.dataset.act, button); return; }
    var cite = e.target.closest("#ws-editor .rq-cite");
    if (cite && !e.ctrlKey && !e.metaKey && !e.shiftKey && e.button === 0) {
      var q = cite.closest(".rq");
      if (!frame && !twoScreen) return;  // no reader pane: the link opens the reader in a new tab
      e.preventDefault();
      toReader({type: "jump", detail: {volumeId: Number(q.dataset.volumeId), pageNumber: Number(q.dataset.pageNumber),
                                       text: q.querySelector(".rq-text").textContent}});
      return;
    }
    var del = e.target.closest("#ws-editor .rq-del");
    if (del && editable) { e.preventDefault(); del.closest(".rq").remove(); changed(); }
  });

  // ---------------------------------------------------------------- editing
  if (editable) {
    try { document.execCommand("defaultParagraphSeparator", false, "p"); } catch (e) { /* old browser */ }
    editor.addEventListener("input", changed);
    editor.addEventListener("paste", function (e) {  // plain text only: no markup enters the report
      var text = (e.clipboardData || window.clipboardData).getData("text/plain");
      e.preventDefault();
      if (within(e.target, ".ws-title, .rs-title")) text = text.replace(/\s+/g, " ");
      document.execCommand("insertText", false, text);
    });
    editor.addEventListener("drop", function (e) { e.preventDefault(); });
    editor.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && within(e.target, ".ws-title, .rs-title")) {
        e.preventDefault();
        var sec = within(e.target, "section.rs");
        var body = sec ? sec.querySelector(".rs-body") : editor.querySelector(".rs-body");
        if (body) { body.focus(); var r = document.createRange(); r.setStart(body, 0); r.collapse(true); var s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }
      }
    });
    document.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "s" || e.key === "S")) { e.preventDefault(); save(false); }
    });
    window.addEventListener("beforeunload", function (e) {
      if (!dirty() || state.conflict) return;
      var size = JSON.stringify(serialise()).length;
      if (size < 60000) { save(true, true); return; }  // a keepalive request outlives the page
      e.preventDefault(); e.returnValue = "";
    });
  }

  // ---------------------------------------------------------------- the split between the panes
  var gutter = document.getElementById("ws-gutter");
  function setSplit(px) {
    var max = ws.clientWidth - 420, width = Math.max(320, Math.min(max, px));
    ws.style.setProperty("--split", width + "px");
    return width;
  }
  var savedSplit = Number(localStorage.getItem("xt-ws-split"));
  if (savedSplit) setSplit(savedSplit);
  gutter.addEventListener("pointerdown", function (e) {
    e.preventDefault();
    gutter.setPointerCapture(e.pointerId);
    ws.classList.add("dragging");
    var move = function (ev) { localStorage.setItem("xt-ws-split", setSplit(ev.clientX - ws.getBoundingClientRect().left)); };
    var up = function () {
      ws.classList.remove("dragging");
      gutter.removeEventListener("pointermove", move);
      gutter.removeEventListener("pointerup", up);
    };
    gutter.addEventListener("pointermove", move);
    gutter.addEventListener("pointerup", up);
  });
  gutter.addEventListener("keydown", function (e) {
    var left = document.getElementById("ws-left").getBoundingClientRect().width;
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      localStorage.setItem("xt-ws-split", setSplit(left + (e.key === "ArrowLeft" ? -40 : 40)));
    }
  });
})();
