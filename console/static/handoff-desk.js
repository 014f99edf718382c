/* The live handoff desk (/handoffs) and conversation page (/handoffs/<id>): poll the console's JSON every 2 s
   and update the page in place, mark unread messages, and beep (Web Audio, generated here) once staff switch
   the sound on with a click. The pages work without this script: it only keeps them current.
   A file of its own because the console's Content-Security-Policy forbids inline scripts. */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var SOUND_KEY = "motcua.handoff.sound";
  var live = document.getElementById("live");
  if (!live || !window.fetch) {
    return;
  }
  var statusLine = document.getElementById("live-status");
  var baseTitle = document.title;

  function say(text) {
    if (statusLine) {
      statusLine.textContent = text;
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  // Sound ------------------------------------------------------------------------------------------------
  var sound = {
    on: false,
    context: null,
    button: document.getElementById("sound-toggle"),

    stored: function () {
      try {
        return window.localStorage.getItem(SOUND_KEY) === "1";
      } catch (e) {
        return false;
      }
    },

    store: function (on) {
      try {
        window.localStorage.setItem(SOUND_KEY, on ? "1" : "0");
      } catch (e) { /* private mode: the choice lasts for this page */ }
    },

    // Browsers let audio start only after a click or key press on the page: made (or resumed) then.
    wake: function () {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) {
        return null;
      }
      if (!sound.context) {
        sound.context = new Context();
      }
      if (sound.context.state === "suspended") {
        sound.context.resume();
      }
      return sound.context;
    },

    beep: function () {
      if (!sound.on || !sound.context || sound.context.state !== "running") {
        return;
      }
      var ctx = sound.context;
      [[880, 0], [660, 0.18]].forEach(function (tone) {
        var oscillator = ctx.createOscillator();
        var gain = ctx.createGain();
        var start = ctx.currentTime + tone[1];
        oscillator.type = "sine";
        oscillator.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
        oscillator.connect(gain).connect(ctx.destination);
        oscillator.start(start);
        oscillator.stop(start + 0.17);
      });
    },

    show: function () {
      if (!sound.button) {
        return;
      }
      sound.button.hidden = false;
      sound.button.setAttribute("aria-pressed", sound.on ? "true" : "false");
      sound.button.textContent = sound.on ? "Tắt âm báo" : "Bật âm báo";
    },

    setup: function () {
      if (!sound.button || !(window.AudioContext || window.webkitAudioContext)) {
        return;
      }
      sound.on = sound.stored();
      sound.button.addEventListener("click", function () {
        sound.on = !sound.on;
        sound.store(sound.on);
        if (sound.on && sound.wake()) {
          window.setTimeout(sound.beep, 50);  // a sample, so staff know what to listen for
        }
        sound.show();
      });
      if (sound.on) {  // switched on earlier: ready after the first click or key press on this page
        var first = function () {
          sound.wake();
          document.removeEventListener("pointerdown", first, true);
          document.removeEventListener("keydown", first, true);
        };
        document.addEventListener("pointerdown", first, true);
        document.addEventListener("keydown", first, true);
      }
      sound.show();
    }
  };

  // Polling ------------------------------------------------------------------------------------------------
  function poll(url, handle) {
    var stopped = false;

    function next(delay) {
      if (!stopped) {
        window.setTimeout(run, delay);
      }
    }

    function run() {
      fetch(url(), {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
        .then(function (response) {
          var json = (response.headers.get("content-type") || "").indexOf("application/json") === 0;
          if (response.redirected || !json) {  // the session ended: the login page came back
            stopped = true;
            say("Phiên đăng nhập đã hết. Bạn tải lại trang để đăng nhập lại.");
            return null;
          }
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          if (data) {
            next(handle(data) ? 0 : POLL_MS);
            say("Tự cập nhật mỗi 2 giây · " + clock());
          }
        })
        .catch(function () {
          say("Mất kết nối với máy chủ, đang thử lại…");
          next(POLL_MS * 2);
        });
    }

    next(POLL_MS);
  }

  // The time of the last update, on the console's clock (Vietnam time) whatever the computer's zone.
  function clock() {
    try {
      return new Date().toLocaleTimeString("vi-VN", {timeZone: "Asia/Ho_Chi_Minh"});
    } catch (e) {
      return new Date().toLocaleTimeString();
    }
  }

  function setTitle(count) {
    document.title = count > 0 ? "(" + count + ") " + baseTitle : baseTitle;
  }

  function setNavBadge(waiting) {
    var link = document.querySelector('header nav a[href="/handoffs"]');
    if (!link) {
      return;
    }
    var badge = link.querySelector(".badge");
    if (!waiting) {
      if (badge) {
        badge.remove();
      }
      return;
    }
    if (!badge) {
      badge = element("span", "badge");
      badge.title = "người dân đang chờ";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    badge.textContent = String(waiting);
  }

  // The desk: every open handoff ------------------------------------------------------------------------
  function desk() {
    var rows = document.getElementById("desk-rows");
    var seen = null;  // conversation -> unread count at the previous poll (null: the first poll)

    function row(item) {
      var tr = element("tr", item.unread ? "unread" : "");
      tr.setAttribute("data-conversation", item.conversation);
      var first = element("td");
      var link = element("a", "", item.conversation);
      link.href = item.url;
      first.appendChild(link);
      first.appendChild(element("div", "muted", "yêu cầu lúc " + item.requested_at));
      tr.appendChild(first);
      tr.appendChild(element("td", "", item.channel_name));
      tr.appendChild(element("td", "", item.state_name));
      var last = element("td");
      if (item.last_message) {
        last.appendChild(document.createTextNode(item.last_message));
        last.appendChild(element("div", "muted", item.last_at));
      } else {
        last.appendChild(element("span", "muted", "—"));
      }
      tr.appendChild(last);
      tr.appendChild(element("td", "", item.waiting));
      var unread = element("td");
      unread.appendChild(item.unread ? element("span", "badge", item.unread) : element("span", "muted", "0"));
      tr.appendChild(unread);
      tr.appendChild(element("td", "", item.staff_name));
      return tr;
    }

    poll(function () { return live.getAttribute("data-source"); }, function (data) {
      var fresh = document.createDocumentFragment();
      var now = {};
      var ring = false;
      data.items.forEach(function (item) {
        fresh.appendChild(row(item));
        now[item.conversation] = item.unread;
        if (seen !== null && (!(item.conversation in seen) ? item.state === "requested"
                                                            : item.unread > seen[item.conversation])) {
          ring = true;  // a new citizen waiting, or a new message
        }
      });
      rows.replaceChildren(fresh);
      document.getElementById("desk-empty").hidden = data.items.length > 0;
      document.getElementById("desk-more").hidden = !data.more;
      setNavBadge(data.waiting);
      setTitle(data.unread + data.waiting);
      if (ring) {
        sound.beep();
      }
      seen = now;
      return false;
    });
  }

  // One conversation: new messages as they come ---------------------------------------------------------
  function conversation() {
    var list = document.getElementById("handoff-messages");
    var after = parseInt(live.getAttribute("data-after"), 10) || 0;
    var state = live.getAttribute("data-state");
    var staff = live.getAttribute("data-staff");
    var hidden = 0;  // messages that came while the page was not in view

    function visible() {
      return document.visibilityState === "visible";
    }

    function add(message) {
      if (list.querySelector('[data-id="' + message.id + '"]')) {
        return false;
      }
      var div = element("div", "turn " + (message.who === "citizen" ? "citizen" : "bot"));
      div.setAttribute("data-id", message.id);
      if (message.who === "citizen") {
        div.classList.add("unread");
      }
      div.appendChild(element("span", "muted", message.at + " · " + message.label + ":"));
      div.appendChild(document.createTextNode(" " + message.text));
      list.appendChild(div);
      return message.who === "citizen";
    }

    // Highlights fade once staff have had the page in view for a few seconds.
    function fade() {
      if (visible()) {
        hidden = 0;
        setTitle(0);
        window.setTimeout(function () {
          list.querySelectorAll(".turn.unread").forEach(function (node) { node.classList.remove("unread"); });
        }, 8000);
      }
    }
    document.addEventListener("visibilitychange", fade);
    fade();

    poll(function () {
      return live.getAttribute("data-source") + "?after=" + after + (visible() ? "&seen=1" : "");
    }, function (data) {
      var citizen = 0;
      data.messages.forEach(function (message) {
        if (add(message)) {
          citizen += 1;
        }
      });
      after = Math.max(after, data.last_id);
      if (data.messages.length) {
        document.getElementById("no-messages").hidden = true;
      }
      if ((data.state || "") !== state || (data.staff || "") !== staff) {
        document.getElementById("handoff-status").textContent = data.status;
        document.getElementById("state-changed").hidden = false;
      }
      setNavBadge(data.waiting);
      if (citizen) {
        sound.beep();
        if (visible()) {
          fade();
        } else {
          hidden += citizen;
          setTitle(hidden);
        }
      }
      return data.more;
    });
  }

  sound.setup();
  if (live.getAttribute("data-live") === "desk") {
    desk();
  } else {
    conversation();
  }
}());
