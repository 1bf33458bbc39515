/* Keyboard shortcuts for the frequent actions, without a framework.
 *
 * The inbox:   j / k or ↓ / ↑ select a ticket, Enter or o opens it.
 * A ticket:    r reply, i internal note, a assign to me, s solve,
 *              n the next ticket of the list the agent came from.
 * Everywhere:  ? shows the help (#shortcuts-help, rendered in the user's language by
 *              templates/_shortcuts_help.html), Esc closes it or leaves a text field.
 * Nothing happens while the agent types in a field or holds Ctrl, Alt or Cmd.
 *
 * What a key acts on is marked in the templates with data-*:
 *   [data-ticket-row="<n>"]        an inbox row (falls back to table.tickets rows)
 *   [data-shortcut="reply"|"note"] the composer's field, or a label or button that
 *                                  switches it (then its form's textarea is focused)
 *   button[data-shortcut="assign-me"|"solve"]  a submit button, clicked
 */
(function () {
  "use strict";

  var QUEUE_KEY = "helpdesk.queue";
  var help = document.getElementById("shortcuts-help");

  function typingIn(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  // --- the inbox list -------------------------------------------------------------------

  function rows() {
    var marked = document.querySelectorAll("[data-ticket-row]");
    return Array.prototype.slice.call(
      marked.length ? marked : document.querySelectorAll("table.tickets tbody tr")
    );
  }

  function numberOf(row) {
    var number = row.getAttribute("data-ticket-row");
    if (number) return Number(number);
    var link = row.querySelector('a[href*="/tickets/"]');
    var match = link && link.getAttribute("href").match(/\/tickets\/(\d+)/);
    return match ? Number(match[1]) : null;
  }

  function linkOf(row) {
    return row.querySelector('a[href*="/tickets/"]');
  }

  function selected() {
    return rows().filter(function (row) { return row.classList.contains("selected"); })[0];
  }

  var selectedNumber = null;  // survives live.js refreshing the list in place

  function select(row) {
    selectedNumber = numberOf(row);
    rows().forEach(function (other) {
      other.classList.remove("selected");
      other.removeAttribute("aria-selected");
    });
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(selected());
    var next = index === -1 ? (step > 0 ? 0 : all.length - 1) : index + step;
    select(all[Math.max(0, Math.min(all.length - 1, next))]);
  }

  /* Remember the list's order, so "n" on a ticket page opens the next one of it. */
  function rememberQueue() {
    var numbers = rows().map(numberOf).filter(function (n) { return n !== null; });
    if (!numbers.length) return;
    try {
      sessionStorage.setItem(QUEUE_KEY, JSON.stringify({ numbers: numbers, back: location.href }));
    } catch (error) { /* private mode: "n" then goes back to the inbox */ }
  }

  // --- a ticket page --------------------------------------------------------------------

  function currentTicket() {
    var page = document.querySelector("[data-live-ticket]");
    if (page) return Number(page.getAttribute("data-live-ticket"));
    var match = location.pathname.match(/^\/tickets\/(\d+)/);
    return match ? Number(match[1]) : null;
  }

  function nextTicket() {
    var queue = null;
    try { queue = JSON.parse(sessionStorage.getItem(QUEUE_KEY) || "null"); } catch (error) {}
    var inbox = document.querySelector(".topbar .brand");
    if (!queue || !queue.numbers) { if (inbox) location.href = inbox.href; return; }
    var index = queue.numbers.indexOf(currentTicket());
    var next = index === -1 ? null : queue.numbers[index + 1];
    location.href = next ? "/tickets/" + next : queue.back;
  }

  /* Focus the composer's field, or press what opens it and then focus its field. */
  function compose(kind) {
    // Not the commerce panel's canned answers, whose data-shortcut is their own name.
    var target = document.querySelector(
      ["label", "textarea", "button"].map(function (tag) {
        return tag + '[data-shortcut="' + kind + '"]';
      }).join(", ")
    );
    if (!target) return false;
    if (typingIn(target)) { target.focus(); return true; }
    target.click();
    var form = target.closest("form") || document.querySelector("[data-composer]");
    var field = form && form.querySelector("textarea");
    if (field) field.focus();
    return true;
  }

  function press(kind) {
    var button = document.querySelector('button[data-shortcut="' + kind + '"]');
    if (!button || button.disabled) return false;
    button.click();
    return true;
  }

  // --- the help -------------------------------------------------------------------------

  var focusBeforeHelp = null;

  function toggleHelp(show) {
    if (!help) return;
    var open = show === undefined ? help.hidden : show;
    if (open === !help.hidden) return;
    if (open) {
      focusBeforeHelp = document.activeElement;
      help.hidden = false;
      help.querySelector("[data-shortcuts-close]").focus();
    } else {
      // The hidden close button must not keep the keyboard (Enter would press it).
      if (help.contains(document.activeElement)) document.activeElement.blur();
      help.hidden = true;
      var back = focusBeforeHelp;
      if (back && back !== document.body && back.focus && document.contains(back)) back.focus();
    }
  }

  if (help) {
    help.querySelector("[data-shortcuts-close]").addEventListener("click", function () {
      toggleHelp(false);
    });
    help.addEventListener("click", function (event) {
      if (event.target === help) toggleHelp(false);  // a click beside the card
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.isComposing) return;
    if (event.key === "Escape") {
      if (help && !help.hidden) { toggleHelp(false); event.preventDefault(); }
      else if (typingIn(event.target)) event.target.blur();
      return;
    }
    if (typingIn(event.target)) return;
    var onList = rows().length > 0 && !document.querySelector("[data-live-ticket]");
    var handled = true;
    switch (event.key) {
      case "?": toggleHelp(); break;
      case "j": case "ArrowDown": if (onList) move(1); else handled = false; break;
      case "k": case "ArrowUp": if (onList) move(-1); else handled = false; break;
      case "o": case "Enter": {
        var row = onList && selected();
        // Enter on a focused link or button already does what it should.
        if (row && !(event.key === "Enter" && event.target.closest("a, button"))) {
          rememberQueue();
          linkOf(row).click();
        } else handled = false;
        break;
      }
      case "n": if (currentTicket() !== null) nextTicket(); else handled = false; break;
      case "r": handled = compose("reply"); break;
      case "i": handled = compose("note"); break;
      case "a": handled = press("assign-me"); break;
      case "s": handled = press("solve"); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("live:refreshed", function () {
    var again = rows().filter(function (row) { return numberOf(row) === selectedNumber; })[0];
    if (again) select(again);
  });

  // Opening a ticket by click remembers the list as well.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href*="/tickets/"]');
    if (link && rows().some(function (row) { return row.contains(link); })) rememberQueue();
  });
})();
