/*
 * motcua web chat widget. Embed with one tag:
 *   <script src="https://HOST/widget.js" data-server="https://RASA-HOST"></script>
 * Optional: data-title="…", data-open="true" (open at load), data-poll="15" (seconds between checks
 * for notices). No library is fetched: plain DOM, fetch and localStorage.
 */
(function () {
  "use strict";
  if (window.__motcuaWidget) { return; }
  window.__motcuaWidget = true;

  var script = document.currentScript || document.querySelector("script[data-server][src*='widget']");
  var data = (script && script.dataset) || {};
  var server = (data.server || (location.protocol + "//" + location.hostname + ":5005")).replace(/\/+$/, "");
  var title = data.title || "Hỏi đáp thủ tục hành chính";
  var pollSeconds = Math.max(parseInt(data.poll || "15", 10) || 15, 5);
  var keyBase = "motcua:" + server + ":";
  var MAX_KEPT = 200;

  function load(key, fallback) {
    try { var v = localStorage.getItem(keyBase + key); return v === null ? fallback : JSON.parse(v); }
    catch (e) { return fallback; }
  }
  function store(key, value) {
    try { localStorage.setItem(keyBase + key, JSON.stringify(value)); } catch (e) { /* private mode: memory only */ }
  }
  function newSender() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var sender = load("sender", null);
  if (!sender || !/^web-[A-Za-z0-9_-]{8,80}$/.test(sender)) { sender = newSender(); store("sender", sender); }
  var history = load("history", []);

  var css = [
    ".motcua-launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;background:#0b6e4f;color:#fff;border:0;",
    "border-radius:24px;padding:12px 18px;font:600 15px/1.2 system-ui,sans-serif;box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer}",
    ".motcua-launcher:focus-visible,.motcua-panel button:focus-visible,.motcua-panel input:focus-visible{outline:3px solid #f5a623;outline-offset:2px}",
    ".motcua-panel{position:fixed;right:16px;bottom:16px;z-index:2147483001;width:380px;max-width:calc(100vw - 32px);",
    "height:560px;max-height:calc(100vh - 32px);display:flex;flex-direction:column;background:#f3f5f7;border-radius:12px;",
    "box-shadow:0 4px 24px rgba(0,0,0,.3);font:15px/1.45 system-ui,sans-serif;color:#1b1b1b;overflow:hidden}",
    ".motcua-panel[hidden]{display:none}",
    ".motcua-head{display:flex;align-items:center;justify-content:space-between;background:#0b6e4f;color:#fff;padding:10px 12px}",
    ".motcua-head h2{font-size:16px;margin:0}",
    ".motcua-close{background:transparent;color:#fff;border:0;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px}",
    ".motcua-log{flex:1;overflow-y:auto;padding:10px}",
    ".motcua-msg{margin:6px 0;padding:8px 12px;border-radius:12px;max-width:88%;white-space:pre-wrap;word-wrap:break-word}",
    ".motcua-user{background:#d7f0e5;margin-left:auto}",
    ".motcua-bot{background:#fff;border:1px solid #d5dbe0}",
    ".motcua-notice{background:#fff8e1;border:1px solid #f0d58a}",
    ".motcua-buttons{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
    ".motcua-buttons button{padding:6px 12px;border-radius:16px;border:1px solid #0b6e4f;background:#fff;color:#0b6e4f;cursor:pointer;font-size:14px}",
    ".motcua-buttons button:disabled{opacity:.55;cursor:default}",
    ".motcua-status{min-height:20px;padding:0 12px;font-size:13px;color:#555}",
    ".motcua-msg a{color:inherit;text-decoration:underline;word-break:break-all}",
    ".motcua-form{display:flex;gap:8px;padding:10px;background:#fff;border-top:1px solid #d5dbe0}",
    ".motcua-form input{flex:1;min-width:0;padding:10px;font-size:16px;border:1px solid #9aa5ae;border-radius:8px}",
    ".motcua-form button{padding:10px 14px;background:#0b6e4f;color:#fff;border:0;border-radius:8px;font-size:15px;cursor:pointer}",
    ".motcua-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.motcua-panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}}"
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  var style = el("style"); style.textContent = css; document.head.appendChild(style);
  var launcher = el("button", { type: "button", "class": "motcua-launcher", "aria-haspopup": "dialog",
                                "aria-controls": "motcua-panel", "aria-expanded": "false" }, "💬 " + title);
  var panel = el("section", { id: "motcua-panel", "class": "motcua-panel", role: "dialog", "aria-modal": "false",
                              "aria-labelledby": "motcua-title", hidden: "" });
  var head = el("div", { "class": "motcua-head" });
  head.appendChild(el("h2", { id: "motcua-title" }, title));
  var close = el("button", { type: "button", "class": "motcua-close", "aria-label": "Đóng khung trò chuyện" }, "×");
  head.appendChild(close);
  var log = el("div", { "class": "motcua-log", role: "log", "aria-live": "polite", "aria-label": "Nội dung trò chuyện",
                        tabindex: "0" });
  var status = el("div", { "class": "motcua-status", role: "status", "aria-live": "polite" });
  var form = el("form", { "class": "motcua-form" });
  var label = el("label", { "for": "motcua-input", "class": "motcua-sr" }, "Câu hỏi của bạn");
  var input = el("input", { id: "motcua-input", type: "text", autocomplete: "off", maxlength: "2000",
                            placeholder: "Nhập câu hỏi, ví dụ: tách thửa cần giấy tờ gì?" });
  var send = el("button", { type: "submit" }, "Gửi");
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(status); panel.appendChild(form);
  document.body.appendChild(launcher); document.body.appendChild(panel);

  var MAX_CHARS = parseInt(input.getAttribute("maxlength"), 10);
  var WARN_CHARS = MAX_CHARS - 200;

  function scroll() { log.scrollTop = log.scrollHeight; }
  // A new answer is read from its start: bring its first line to the top of the log, not its end.
  function scrollTo(node) {
    var top = node.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
    log.scrollTop = Math.max(top - 8, 0);
  }

  // Text with its web addresses as links (built node by node: nothing the server sends becomes HTML).
  var URL_RE = /https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?]/g;
  function fill(node, text) {
    var last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      node.appendChild(el("a", { href: m[0], target: "_blank", rel: "noopener noreferrer" }, m[0]));
      last = m.index + m[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function render(item, index) {
    var cls = item.who === "user" ? "motcua-user" : (item.kind === "notice" ? "motcua-notice" : "motcua-bot");
    var who = item.who === "user" ? "Bạn: " : "Trợ lý: ";
    var div = el("div", { "class": "motcua-msg " + cls });
    div.appendChild(el("span", { "class": "motcua-sr" }, who));
    if (item.who === "user") { div.appendChild(document.createTextNode(item.text || "")); }
    else { fill(div, item.text || ""); }
    log.appendChild(div);
    if (item.buttons && item.buttons.length) {
      var row = el("div", { "class": "motcua-buttons", role: "group", "aria-label": "Lựa chọn" });
      item.buttons.forEach(function (b) {
        var btn = el("button", { type: "button" }, b.title);
        if (item.used) { btn.disabled = true; }
        btn.addEventListener("click", function () {
          history[index].used = true; save();
          Array.prototype.forEach.call(row.querySelectorAll("button"), function (x) { x.disabled = true; });
          ask(b.payload, b.title);
        });
        row.appendChild(btn);
      });
      log.appendChild(row);
    }
    scroll();
    return div;
  }

  function save() { store("history", history.slice(-MAX_KEPT)); }
  function add(item) {
    var node;
    history.push(item);
    if (history.length > MAX_KEPT) {
      history = history.slice(-MAX_KEPT); log.innerHTML = ""; history.forEach(render);
      node = log.querySelector(".motcua-msg:last-of-type");
    } else { node = render(item, history.length - 1); }
    save();
    return node;
  }

  function ServerError(message) { this.message = message; }  // the server answered, but not with replies

  var busy = false;
  function ask(message, shown) {
    if (busy) { return; }
    busy = true; send.disabled = true;
    add({ who: "user", text: shown || message });
    status.textContent = "Trợ lý đang trả lời…";
    fetch(server + "/webhooks/web/webhook", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message })
    }).then(function (r) {
      // The server answers with a list of bot messages, also when it does not pass the message on
      // (too long, too many: 429); {"error": ...} for a malformed request; anything else is a failure.
      return r.json().catch(function () { return null; }).then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!Array.isArray(res.body)) {
        throw new ServerError((res.body && res.body.error) ||
          "Xin lỗi, hệ thống đang bận nên chưa trả lời được. Bạn vui lòng gửi lại sau ít phút nhé.");
      }
      var first = null;
      res.body.forEach(function (m) {
        if (m.text || (m.buttons && m.buttons.length)) {
          var node = add({ who: "bot", text: m.text || "", buttons: m.buttons || [] });
          first = first || node;
        }
      });
      if (first) { scrollTo(first); }
    }).catch(function (err) {
      var text = (err instanceof ServerError) ? err.message :
        "Xin lỗi, mình chưa kết nối được máy chủ. Bạn kiểm tra mạng rồi gửi lại sau ít phút nhé.";
      add({ who: "bot", text: text });
    }).then(function () {
      busy = false; send.disabled = false; status.textContent = ""; input.focus();
    });
  }

  function poll() {
    if (document.hidden) { return; }
    fetch(server + "/webhooks/web/inbox", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sender: sender })
    }).then(function (r) {
      return r.ok ? r.json() : [];
    }).then(function (items) {
      items.forEach(function (m) { add({ who: "bot", kind: m.kind || "bot", text: m.text || "", buttons: m.buttons || [] }); });
    }).catch(function () { /* offline: try again at the next tick */ });
  }

  function open(focus) {
    panel.hidden = false; launcher.hidden = true; launcher.setAttribute("aria-expanded", "true");
    store("open", true); scroll();
    if (focus) { input.focus(); }
  }
  function shut() {
    panel.hidden = true; launcher.hidden = false; launcher.setAttribute("aria-expanded", "false");
    store("open", false); launcher.focus();
  }

  launcher.addEventListener("click", function () { open(true); });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { shut(); } });
  // As the citizen nears the limit, say how much is left; at the limit, say why typing stops.
  input.addEventListener("input", function () {
    var n = input.value.length;
    if (n >= MAX_CHARS) {
      status.textContent = "Câu hỏi dài tối đa " + MAX_CHARS.toLocaleString("vi-VN") +
        " ký tự. Bạn gửi phần này trước, rồi gửi tiếp phần còn lại nhé.";
    } else if (n >= WARN_CHARS) {
      status.textContent = "Còn " + (MAX_CHARS - n) + " ký tự.";
    } else if (/ký tự/.test(status.textContent)) { status.textContent = ""; }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { status.textContent = "Bạn gõ câu hỏi rồi bấm Gửi nhé."; return; }
    input.value = "";
    ask(text);
  });

  history.forEach(render);
  if (!history.length) {
    add({ who: "bot", text: "Xin chào! Bạn cần hỏi thủ tục nào? Ví dụ: \"làm lại sổ đỏ bị mất cần giấy tờ gì\"." });
  }
  if (data.open === "true" || load("open", false)) { open(false); }
  // Check for notices and staff replies: every 5 s for 5 minutes after the citizen wrote, else every data-poll s.
  var lastAsked = 0, ticks = 0;
  form.addEventListener("submit", function () { lastAsked = Date.now(); });
  poll();
  setInterval(function () {
    ticks += 1;
    if (Date.now() - lastAsked < 300000 || ticks % Math.max(Math.round(pollSeconds / 5), 1) === 0) { poll(); }
  }, 5000);
})();
