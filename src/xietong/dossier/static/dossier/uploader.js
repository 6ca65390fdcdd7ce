// Chunked, resumable upload of scanned volumes: 8 MB chunks, each with its SHA-256; an interrupted
// upload resumes from what the server says it has (the upload id is kept in localStorage).
(function () {
  "use strict";
  var box = document.getElementById("uploader");
  if (!box) return;
  var CHUNK = 8 * 1024 * 1024;
  var csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  var list = document.getElementById("upload-list");

  function api(method, url, body, headers) {
    var h = Object.assign({"X-CSRFToken": csrf}, headers || {});
    if (body && !(body instanceof Blob)) { h["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    return fetch(url, {method: method, headers: h, body: body, credentials: "same-origin"}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error(data.message || ("HTTP " + r.status)); e.data = data; e.status = r.status; throw e; }
        return data;
      });
    });
  }
  function hex(buffer) {
    return Array.from(new Uint8Array(buffer)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function sha256(blob) {
    if (!(window.crypto && crypto.subtle)) return Promise.resolve("");
    return blob.arrayBuffer().then(function (buf) { return crypto.subtle.digest("SHA-256", buf); }).then(hex);
  }
  function row(file) {
    var li = document.createElement("li");
    li.innerHTML = '<span class="name"></span> <span class="muted size"></span>' +
      '<div class="progress"><div></div></div><span class="status muted">等待上传</span>';
    li.querySelector(".name").textContent = file.name;
    li.querySelector(".size").textContent = (file.size / 1048576).toFixed(1) + " MB";
    list.appendChild(li);
    return li;
  }
  function show(li, done, total, text, failed) {
    li.querySelector(".progress div").style.width = (total ? Math.round(100 * done / total) : 0) + "%";
    var s = li.querySelector(".status"); s.textContent = text; s.className = "status " + (failed ? "error" : "muted");
  }
  function key(file) { return "xt-upload:" + box.dataset.case + ":" + file.name + ":" + file.size + ":" + file.lastModified; }

  function start(file) {
    var li = row(file), saved = localStorage.getItem(key(file));
    var begin = saved
      ? api("GET", "/api/v1/uploads/" + saved).catch(function () { return null; })
      : Promise.resolve(null);
    return begin.then(function (existing) {
      if (existing && existing.status === "receiving") return existing;
      return api("POST", box.dataset.startUrl, {filename: file.name, size: file.size});
    }).then(function (up) {
      localStorage.setItem(key(file), up.id);
      return send(file, up, li);
    }).catch(function (e) { show(li, 0, 1, "失败：" + e.message, true); });
  }
  function send(file, up, li) {
    var offset = up.received;
    show(li, offset, file.size, offset ? "续传中…" : "上传中…");
    function next() {
      if (offset >= file.size) {
        show(li, file.size, file.size, "正在校验…");
        return api("POST", "/api/v1/uploads/" + up.id + "/finish", {title: ""}).then(function (vol) {
          localStorage.removeItem(key(file));
          show(li, 1, 1, vol.kind === "evidence" ? "已保存为证据" + vol.number + "（视听资料）"
            : "已生成第" + vol.number + "卷（" + vol.page_count + "页），正在拆页和识别");
          document.body.dispatchEvent(new Event("refresh-volumes"));
        });
      }
      var chunk = file.slice(offset, Math.min(offset + CHUNK, file.size));
      return sha256(chunk).then(function (digest) {
        return api("PUT", "/api/v1/uploads/" + up.id + "?offset=" + offset, chunk,
          {"Content-Type": "application/octet-stream", "X-Chunk-SHA256": digest});
      }).then(function (state) {
        offset = state.received; show(li, offset, file.size, "上传中…");
        return next();
      }, function (e) {
        if (e.data && e.data.code === "offset_mismatch") { offset = e.data.details.received; return next(); }
        throw e;
      });
    }
    return next();
  }
  function handle(files) { Array.from(files).reduce(function (p, f) { return p.then(function () { return start(f); }); }, Promise.resolve()); }
  var zone = document.getElementById("dropzone");
  document.getElementById("file-input").addEventListener("change", function (e) { handle(e.target.files); });
  zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (e) { e.preventDefault(); zone.classList.remove("over"); handle(e.dataTransfer.files); });
})();
