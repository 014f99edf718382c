// Plain chat page over Rasa's REST channel; no library is fetched from the internet.
(function () {
  "use strict";
  var server = (window.MOTCUA_SERVER || ("http://" + location.hostname + ":5005"));
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var sender = localStorage.getItem("motcua_sender");
  if (!sender) {
    sender = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    localStorage.setItem("motcua_sender", sender);
  }
  var history = JSON.parse(localStorage.getItem("motcua_history") || "[]");

  function save() { localStorage.setItem("motcua_history", JSON.stringify(history.slice(-100))); }

  function render(item) {
    var div = document.createElement("div");
    div.className = "msg " + item.who;
    div.textContent = item.text;
    log.appendChild(div);
    if (item.buttons && item.buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      item.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(btn);
      });
      log.appendChild(row);
    }
    log.scrollTop = log.scrollHeight;
  }

  function add(item) { history.push(item); save(); render(item); }

  function send(message, shown) {
    add({ who: "user", text: shown || message });
    fetch(server + "/webhooks/rest/webhook", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message })
    }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (replies) {
      replies.forEach(function (m) { add({ who: "bot", text: m.text || "", buttons: m.buttons || [] }); });
    }).catch(function () {
      add({ who: "bot", text: "Xin lỗi, hệ thống đang bận. Bạn vui lòng thử lại sau ít phút." });
    });
  }

  history.forEach(render);
  if (!history.length) {
    add({ who: "bot", text: "Xin chào! Bạn cần hỏi thủ tục nào? Ví dụ: \"làm lại sổ đỏ bị mất cần giấy tờ gì\"." });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (text) { send(text); input.value = ""; }
  });
})();
