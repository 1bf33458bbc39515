/* Live updates and collision detection, without a framework.
 *
 * Settings and every word shown come from the page (#live, rendered by templates/_live.html
 * in the user's language); this file holds no user-facing text. Pages opt in with data-*:
 *   [data-live-inbox]          the inbox: a "N new — Show" bar; Show refreshes every
 *                              [data-live-region] in place from the server's page
 *   [data-live-ticket="<n>"]   a ticket page: presence beats, "Julia is typing…",
 *                              new messages appended to [data-live-timeline]
 *                              (articles carry data-message-id)
 * The stream is a server-sent event source; the browser reconnects by itself with
 * Last-Event-ID when the server ends it (it does so every minute).
 */
(function () {
  "use strict";

  var config = document.getElementById("live");
  if (!config || !window.EventSource) return;
  var data = config.dataset;
  var BEAT_MS = 10000;          // presence expires after 30 s without a beat
  var TYPING_BEAT_MS = 3000;    // while typing, at most one beat per 3 s
  var TYPING_IDLE_MS = 6000;    // no input for this long: back to "viewing"
  var seen = new Map();         // event ids already handled (a resumed stream may repeat some)

  function text(name, values) {
    var result = data["t" + name.charAt(0).toUpperCase() + name.slice(1)] || "";
    Object.keys(values || {}).forEach(function (key) {
      result = result.split("%(" + key + ")s").join(values[key]);
    });
    return result;
  }

  function firstTime(eventId) {
    if (seen.has(eventId)) return false;
    seen.set(eventId, true);
    if (seen.size > 2000) seen.delete(seen.keys().next().value);
    return true;
  }

  /* Follow a stream while the tab is visible. Browsers allow about six connections per
   * server over HTTP/1.1, so hidden tabs give theirs up and catch up when shown again. */
  function follow(query, onEvent, onPresence) {
    var source = null;
    var since = data.since;
    function connect() {
      if (source) return;
      source = new EventSource(data.stream + "?" + query + "&since=" + since);
      source.onmessage = function (message) {
        if (message.lastEventId) since = message.lastEventId;
        var event = JSON.parse(message.data);
        if (firstTime(event.id)) onEvent(event);
      };
      if (onPresence) {
        source.addEventListener("presence", function (message) {
          onPresence(JSON.parse(message.data));
        });
      }
    }
    function disconnect() {
      if (source) { source.close(); source = null; }
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") disconnect(); else connect();
    });
    window.addEventListener("pagehide", disconnect);
    if (document.visibilityState !== "hidden") connect();
  }

  /* A bar at the top of the page: a message and one button. */
  function notice(id, onClick) {
    var bar = document.getElementById(id);
    if (bar) return bar;
    bar = document.createElement("div");
    bar.id = id;
    bar.className = "live-bar";
    bar.setAttribute("role", "status");
    var label = document.createElement("span");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.addEventListener("click", onClick);
    bar.appendChild(label);
    bar.appendChild(document.createTextNode(" "));
    bar.appendChild(button);
    var main = document.querySelector("main") || document.body;
    main.insertBefore(bar, main.firstChild);
    return bar;
  }

  function setNotice(bar, message, action) {
    bar.firstChild.textContent = message;
    bar.lastChild.textContent = action;
    bar.hidden = false;
  }

  // --- the inbox ------------------------------------------------------------------------

  function inbox() {
    var created = new Set();
    var updated = new Set();

    function show() {
      fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          // Boxes ticked for a bulk action stay ticked.
          var ticked = Array.prototype.map.call(
            document.querySelectorAll("[data-live-region] input[type=checkbox][name]:checked"),
            function (box) { return [box.name, box.value]; }
          );
          document.querySelectorAll("[data-live-region]").forEach(function (region) {
            var name = region.getAttribute("data-live-region");
            var replacement = fresh.querySelector('[data-live-region="' + name + '"]');
            if (replacement) region.replaceWith(document.importNode(replacement, true));
          });
          ticked.forEach(function (pair) {
            document.querySelectorAll("[data-live-region] input[type=checkbox]").forEach(function (box) {
              if (box.name === pair[0] && box.value === pair[1]) box.checked = true;
            });
          });
          created.clear();
          updated.clear();
          document.getElementById("live-inbox-bar").hidden = true;
          document.dispatchEvent(new CustomEvent("live:refreshed"));
        })
        .catch(function () { window.location.reload(); });
    }

    follow("inbox=1", function (event) {
      if (event.by_me) return;
      if (event.new_ticket) created.add(event.ticket);
      else if (event.message && !created.has(event.ticket)) updated.add(event.ticket);
      else return;
      var parts = [];
      if (created.size) parts.push(created.size === 1 ? text("newOne") : text("newMany", { num: created.size }));
      if (updated.size) parts.push(updated.size === 1 ? text("updatedOne") : text("updatedMany", { num: updated.size }));
      setNotice(notice("live-inbox-bar", show), parts.join(" · "), text("show"));
    });
  }

  // --- a ticket page --------------------------------------------------------------------

  function ticketPage(page) {
    var number = page.getAttribute("data-live-ticket");
    var timeline = page.querySelector("[data-live-timeline]");
    var fetching = null;
    var again = null;
    // This page's own id: its goodbye must not remove the beat of the page that follows.
    var tab = Math.random().toString(36).slice(2) + Date.now().toString(36);

    function post(state) {
      var body = new URLSearchParams({ ticket: number, state: state, tab: tab });
      return fetch(data.presence, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": data.csrf },
        credentials: "same-origin",
      }).catch(function () { /* the next beat tries again */ });
    }

    function shownIds() {
      return Array.prototype.map.call(
        timeline.querySelectorAll("[data-message-id]"),
        function (element) { return Number(element.getAttribute("data-message-id")); }
      );
    }

    /* Fetch the messages after `after` and put each missing one in id order. */
    function load(after) {
      if (fetching) { again = again === null ? after : Math.min(again, after); return; }
      fetching = fetch(timeline.getAttribute("data-live-timeline") + "?after=" + after,
                       { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var present = new Set(shownIds());
          fresh.querySelectorAll("[data-message-id]").forEach(function (article) {
            var id = Number(article.getAttribute("data-message-id"));
            if (present.has(id)) return;
            var later = Array.prototype.find.call(
              timeline.querySelectorAll("[data-message-id]"),
              function (element) { return Number(element.getAttribute("data-message-id")) > id; }
            );
            var node = document.importNode(article, true);
            node.classList.add("live-new");
            if (later) later.parentNode.insertBefore(node, later);
            else {
              var anchor = timeline.querySelector("[data-live-append]");
              if (anchor) anchor.parentNode.insertBefore(node, anchor);
              else timeline.appendChild(node);
            }
          });
        })
        .catch(function () {})
        .then(function () {
          fetching = null;
          if (again !== null) { var next = again; again = null; load(next); }
        });
    }

    function showPresence(people) {
      var line = page.querySelector("[data-live-presence]");
      if (!line) {
        line = document.createElement("p");
        line.setAttribute("data-live-presence", "");
        var heading = page.querySelector("h1");
        if (heading) heading.insertAdjacentElement("afterend", line);
        else page.insertBefore(line, page.firstChild);
      }
      line.className = "presence";
      line.setAttribute("role", "status");
      line.textContent = "";
      people.forEach(function (person) {
        var item = document.createElement("span");
        item.className = "presence-person " + person.state;
        item.textContent = text(person.state === "typing" ? "typing" : "viewing", { name: person.name });
        line.appendChild(item);
      });
      line.hidden = people.length === 0;
    }

    follow("ticket=" + encodeURIComponent(number), function (event) {
      if (event.message) {
        var ids = shownIds();
        var newest = ids.length ? Math.max.apply(null, ids) : 0;
        if (ids.indexOf(event.message) === -1) load(Math.min(newest, event.message - 1));
      } else if (event.kind.indexOf("ticket.") === 0 && event.by_person && !event.by_me) {
        // A colleague set the status, assignee, tags...: the page shows the old ones.
        setNotice(notice("live-ticket-bar", function () { window.location.reload(); }),
                  text("changed"), text("reload"));
      }
    }, showPresence);

    // Presence: "viewing" while the page is open, "typing" while a reply is being written.
    var state = "viewing";
    var lastTyping = 0;
    var idle = null;
    function becomeViewing() {
      if (idle) { clearTimeout(idle); idle = null; }
      if (state !== "viewing") { state = "viewing"; post("viewing"); }
    }
    page.addEventListener("input", function (event) {
      if (event.target.tagName !== "TEXTAREA") return;
      var now = Date.now();
      if (state !== "typing" || now - lastTyping > TYPING_BEAT_MS) {
        state = "typing";
        lastTyping = now;
        post("typing");
      }
      if (idle) clearTimeout(idle);
      idle = setTimeout(becomeViewing, TYPING_IDLE_MS);
    });
    page.addEventListener("focusout", function (event) {
      if (event.target.tagName === "TEXTAREA") becomeViewing();
    });
    post("viewing");
    setInterval(function () { post(state); }, BEAT_MS);
    window.addEventListener("pagehide", function () {
      var form = new FormData();
      form.append("ticket", number);
      form.append("state", "gone");
      form.append("tab", tab);
      form.append("csrf_token", data.csrf);
      navigator.sendBeacon(data.presence, form);
    });
  }

  var ticket = document.querySelector("[data-live-ticket]");
  if (ticket && ticket.querySelector("[data-live-timeline]")) ticketPage(ticket);
  else if (document.querySelector("[data-live-inbox]")) inbox();
})();
