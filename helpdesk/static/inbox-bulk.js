/* The inbox's "select all" box for bulk actions, without a framework.
 *
 * The box is rendered hidden and shown only here: without JavaScript each row is
 * ticked by hand and the form works the same. Events are delegated to the document,
 * so a list that live.js replaced in place keeps working.
 */
(function () {
  "use strict";

  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="ticket"]'));
  }

  function reveal() {
    document.querySelectorAll("form#bulk input.select-all").forEach(function (all) {
      all.hidden = false;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.form;
    if (!form || form.id !== "bulk") return;
    var all = form.querySelector("input.select-all");
    if (target === all) {
      boxes(form).forEach(function (box) { box.checked = all.checked; });
    } else if (target.name === "ticket" && all) {
      var list = boxes(form);
      var ticked = list.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === list.length;
      all.indeterminate = ticked > 0 && ticked < list.length;
    }
  });

  reveal();
  document.addEventListener("live:refreshed", reveal);
})();
