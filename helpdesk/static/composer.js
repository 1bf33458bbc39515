/* The reply composer on the ticket page, without a framework.
 *
 * - "Insert: <answer>" links put the filled-in canned response into the text field in one
 *   click (at the cursor, or as the whole text when the field is empty) and remember its
 *   shortcut. Without JavaScript the same link reloads the page with the answer filled in.
 * - The channel choice is hidden while an internal note is being written.
 * - Files over the size or count limit are refused before a long upload (the server
 *   checks again).
 * Words and limits come from the form's data-* attributes (templates/ticket/composer.html).
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-composer]");
  if (!form) return;
  var field = form.querySelector("textarea[name=text]");
  var response = form.querySelector("input[name=response]");
  var touched = false;  // whether the agent has put the cursor somewhere in the field

  field.addEventListener("focus", function () { touched = true; });

  function insert(text) {
    if (!field.value.trim()) {
      field.value = text;
    } else if (touched) {
      field.setRangeText(text, field.selectionStart, field.selectionEnd, "end");
    } else {
      field.value = field.value.replace(/\s*$/, "") + "\n\n" + text;
    }
  }

  document.querySelectorAll("[data-insert-text]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      insert(link.getAttribute("data-insert-text"));
      if (response) response.value = link.getAttribute("data-response") || "";
      var reply = form.querySelector("input[name=kind][value=reply]");
      if (reply && !reply.disabled) reply.checked = true;
      showKind();
      field.focus();
      // Tell live.js that the agent is writing (it listens for input events).
      field.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  function showKind() {
    var note = form.querySelector("input[name=kind][value=note]");
    var isNote = Boolean(note && note.checked);
    form.classList.toggle("is-note", isNote);
    var channel = form.querySelector("[data-channel]");
    if (channel) channel.hidden = isNote;
  }
  form.addEventListener("change", showKind);
  showKind();

  var files = form.querySelector("input[type=file]");
  var error = form.querySelector("[data-upload-error]");
  if (files && error) {
    files.addEventListener("change", function () {
      var maxBytes = Number(form.getAttribute("data-max-bytes"));
      var maxFiles = Number(form.getAttribute("data-max-files"));
      var problem = "";
      if (files.files.length > maxFiles) problem = form.getAttribute("data-t-too-many");
      Array.prototype.forEach.call(files.files, function (file) {
        if (!problem && file.size > maxBytes) {
          problem = form.getAttribute("data-t-too-large").split("%(name)s").join(file.name);
        }
      });
      files.setCustomValidity(problem);
      error.textContent = problem;
      error.hidden = !problem;
    });
  }
})();
