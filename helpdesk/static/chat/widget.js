/* The Nordlicht Mode chat widget: one <script src=".../chat/widget.js" defer></script> on a
 * shop page adds a launcher button and a chat panel. No framework, no outside requests:
 * styles, words and messages all come from the helpdesk the script was loaded from.
 *
 *   data-lang="de|en"   on the script tag: the language (else the page's <html lang>)
 *
 * The visitor token (signed by the helpdesk) is kept in localStorage, so a reload or
 * another page of the shop continues the conversation. New messages, the bot's answers
 * and "is typing…" arrive over a server-sent event stream; every text is shown with
 * textContent, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch || !window.EventSource) return;
  var base = new URL(script.src, window.location.href).origin;
  var language = (script.getAttribute("data-lang") || document.documentElement.lang || "de")
    .slice(0, 2).toLowerCase();
  var STORE = "nlchat:" + base;
  var saved = load();
  var words = {};
  var seen = {};
  var lastId = 0;
  var source = null;
  var ui = {};

  function load() {
    try { return JSON.parse(window.localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { window.localStorage.setItem(STORE, JSON.stringify(saved)); } catch (e) { /* private mode */ }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (saved.token) headers["X-Chat-Token"] = saved.token;
    return fetch(base + path, {
      method: method, headers: headers, credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error((data.error && data.error.detail) || response.statusText);
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* --- the panel ------------------------------------------------------------------------ */

  function build() {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = base + "/chat/widget.css";
    document.head.appendChild(link);

    ui.launcher = el("button", "nlchat-launcher", words.open);
    ui.launcher.type = "button";
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.panel = el("section", "nlchat-panel");
    ui.panel.hidden = true;
    ui.panel.setAttribute("aria-label", words.title);
    ui.panel.setAttribute("lang", language);

    var header = el("header", "nlchat-header");
    header.appendChild(el("h2", "nlchat-title", words.title));
    ui.close = el("button", "nlchat-close", "×");
    ui.close.type = "button";
    ui.close.setAttribute("aria-label", words.close);
    ui.restart = el("button", "nlchat-restart", words.restart);
    ui.restart.type = "button";
    header.appendChild(ui.restart);
    header.appendChild(ui.close);

    ui.log = el("ol", "nlchat-log");
    ui.log.setAttribute("aria-live", "polite");
    ui.typing = el("p", "nlchat-typing");
    ui.typing.hidden = true;
    ui.notice = el("p", "nlchat-notice");
    ui.notice.hidden = true;

    ui.intro = el("form", "nlchat-intro");
    ui.intro.appendChild(el("p", "nlchat-hint", words.intro));
    ui.name = field(ui.intro, "text", words.name, "name");
    ui.email = field(ui.intro, "email", words.email, "email");
    var start = el("button", "nlchat-primary", words.start);
    start.type = "submit";
    ui.intro.appendChild(start);

    ui.form = el("form", "nlchat-form");
    ui.input = el("textarea", "nlchat-input");
    ui.input.rows = 2;
    ui.input.maxLength = 4000;
    ui.input.placeholder = words.placeholder;
    ui.input.setAttribute("aria-label", words.placeholder);
    var send = el("button", "nlchat-primary", words.send);
    send.type = "submit";
    ui.form.appendChild(ui.input);
    ui.form.appendChild(send);

    [header, ui.log, ui.typing, ui.notice, ui.intro, ui.form].forEach(function (part) {
      ui.panel.appendChild(part);
    });
    document.body.appendChild(ui.launcher);
    document.body.appendChild(ui.panel);

    ui.launcher.addEventListener("click", function () { toggle(true); });
    ui.close.addEventListener("click", function () { toggle(false); });
    // On a shared computer the next person starts afresh: the token is forgotten here.
    ui.restart.addEventListener("click", function () {
      forget();
      seen = {};
      lastId = 0;
      while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
      greet();
      state("bot");
      ui.name.focus();
    });
    ui.intro.addEventListener("submit", function (event) { event.preventDefault(); begin(); });
    ui.form.addEventListener("submit", function (event) { event.preventDefault(); sendMessage(); });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); sendMessage(); }
    });
  }

  function field(form, type, label, name) {
    var input = el("input", "nlchat-field");
    input.type = type;
    input.name = name;
    input.placeholder = label;
    input.setAttribute("aria-label", label);
    input.maxLength = type === "email" ? 254 : 200;
    form.appendChild(input);
    return input;
  }

  function toggle(open) {
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    saved.open = open;
    save();
    showForms();
    if (open && saved.token) connect();
    if (open) (saved.token ? ui.input : ui.name).focus();
  }

  function showForms() {
    ui.intro.hidden = !!saved.token;
    ui.form.hidden = !saved.token;
    ui.restart.hidden = !saved.token;
  }

  function show(line) {
    if (seen[line.id]) return;
    seen[line.id] = true;
    lastId = Math.max(lastId, line.id);
    var item = el("li", "nlchat-line nlchat-" + line.author);
    var who = line.author === "visitor" ? words.you
      : line.author === "bot" ? words.bot : (line.name || words.someone);
    item.appendChild(el("span", "nlchat-who", who));
    item.appendChild(el("p", "nlchat-text", line.text));
    item.setAttribute("data-message-id", String(line.id));
    ui.log.appendChild(item);
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function greet() {
    if (ui.log.querySelector(".nlchat-greeting")) return;
    var item = el("li", "nlchat-line nlchat-bot nlchat-greeting");
    item.appendChild(el("span", "nlchat-who", words.bot));
    item.appendChild(el("p", "nlchat-text", words.greeting));
    ui.log.insertBefore(item, ui.log.firstChild);
  }

  function state(value) {
    ui.notice.hidden = value !== "email";
    ui.notice.textContent = words.offline;
  }

  /* --- talking to the helpdesk ---------------------------------------------------------- */

  function begin() {
    api("POST", "/chat/api/start", {
      name: ui.name.value.trim() || null,
      email: ui.email.value.trim() || null,
      language: language,
      page: window.location.pathname
    }).then(function (data) {
      saved.token = data.token;
      save();
      showForms();
      connect();
      ui.input.focus();
    }).catch(failed);
  }

  function sendMessage() {
    var text = ui.input.value.trim();
    if (!text || !saved.token) return;
    ui.input.value = "";
    api("POST", "/chat/api/messages", { id: randomId(), text: text, after: lastId })
      .then(function (data) {
        data.messages.forEach(show);
        state(data.state);
      })
      .catch(function (error) { ui.input.value = text; failed(error); });
  }

  function failed(error) {
    if (error.status === 401) { forget(); }
    ui.notice.hidden = false;
    ui.notice.textContent = words.error + (error.message ? " (" + error.message + ")" : "");
  }

  function forget() {
    delete saved.token;
    save();
    if (source) { source.close(); source = null; }
    showForms();
  }

  function connect() {
    if (source || !saved.token) return;
    source = new EventSource(base + "/chat/api/stream?token=" + encodeURIComponent(saved.token) +
                             "&after=" + lastId);
    source.addEventListener("message", function (event) { show(JSON.parse(event.data)); });
    source.addEventListener("typing", function (event) {
      ui.typing.hidden = !JSON.parse(event.data);
      ui.typing.textContent = words.typing.split("%(name)s").join(words.someone);
    });
    source.addEventListener("state", function (event) { state(JSON.parse(event.data)); });
    source.onerror = function () {
      // The server ends the stream every minute; the browser reconnects by itself with
      // Last-Event-ID. A token the server refuses closes it for good.
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        window.setTimeout(resume, 3000);
      }
    };
  }

  function resume() {
    if (!saved.token) return;
    api("GET", "/chat/api/messages?after=" + lastId).then(function (data) {
      data.messages.forEach(show);
      state(data.state);
      if (!ui.panel.hidden) connect();
    }).catch(function (error) { if (error.status === 401) forget(); });
  }

  api("GET", "/chat/api/texts?lang=" + encodeURIComponent(language)).then(function (data) {
    words = data.texts;
    words.greeting = data.greeting;
    language = data.language;
    build();
    greet();
    if (saved.token) resume();
    toggle(!!saved.open);
  });
})();
