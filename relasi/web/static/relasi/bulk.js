// The All customers selection bar (customers/_bulk_bar.html): "N selected", "Select all N matching", the bulk
// actions. It reads the table's row checkboxes (.row-select, name "ids") and header checkbox (#select-all), and
// works again after each htmx swap of the table. The count and the confirmation come from the server.
(function () {
  "use strict";

  function formatted(number) {
    var language = document.documentElement.lang || undefined;
    try { return number.toLocaleString(language); } catch (error) { return String(number); }
  }

  function wireBar() {
    var bar = document.getElementById("bulk-bar");
    if (!bar || bar.dataset.wired) return;
    bar.dataset.wired = "1";
    var form = bar.closest("form");
    var all = document.getElementById("bulk-all");
    var selected = document.getElementById("bulk-selected");
    var selectAllMatching = document.getElementById("bulk-select-all");
    var clear = document.getElementById("bulk-clear");
    var header = document.getElementById("select-all");
    var boxes = function () { return form ? form.querySelectorAll(".row-select") : []; };

    function refresh() {
      var rows = boxes();
      var ticked = Array.prototype.filter.call(rows, function (box) { return box.checked; }).length;
      var wholePage = rows.length > 0 && ticked === rows.length;
      if (all.value === "1" && !wholePage) all.value = "";
      bar.classList.toggle("d-none", ticked === 0);
      bar.classList.toggle("d-flex", ticked > 0);
      if (all.value === "1") {
        selected.textContent = bar.dataset.labelAllSelected;
      } else {
        selected.textContent = bar.dataset.labelSelected.replace("2", formatted(ticked));
      }
      if (selectAllMatching) selectAllMatching.classList.toggle("d-none", !wholePage || all.value === "1");
      if (header) header.checked = wholePage;
    }

    if (form) {
      form.addEventListener("change", function (event) {
        var target = event.target;
        if (!target) return;
        if (target.id === "select-all") {
          // customers.js ticks the rows on the same event; wait for it.
          window.setTimeout(refresh, 0);
        } else if (target.classList.contains("row-select")) {
          if (!target.checked) all.value = "";
          refresh();
        }
      });
    }
    if (selectAllMatching) {
      selectAllMatching.addEventListener("click", function () {
        all.value = "1";
        refresh();
      });
    }
    if (clear) {
      clear.addEventListener("click", function () {
        all.value = "";
        boxes().forEach(function (box) { box.checked = false; });
        refresh();
      });
    }
    refresh();
  }

  // A bulk action acts on the selection: never on a row whose own menu button was used before.
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (!submitter || submitter.name !== "action" || !submitter.closest("#bulk-bar")) return;
    var all = document.getElementById("bulk-all");
    var ticked = event.target.querySelectorAll(".row-select:checked").length;
    if (ticked === 0 && !(all && all.value === "1")) event.preventDefault();
  });

  // The confirmation (customers/bulk_confirm.html): ticking "Clear the … of these N customers" disables the value
  // (so that no value is sent with it) and makes the button say "Clear … of N customers". The server refuses a
  // value sent with the clear anyway, and draws the same state after a refused post.
  function wireConfirm() {
    var form = document.querySelector("form[data-bulk-confirm]");
    if (!form || form.dataset.wired) return;
    var clear = form.querySelector("[data-bulk-clear]");
    if (!clear) return;
    form.dataset.wired = "1";
    var change = form.querySelector("[data-bulk-label-change]");
    var clearing = form.querySelector("[data-bulk-label-clear]");
    function refresh() {
      form.querySelectorAll("[data-bulk-value] input, [data-bulk-value] select, [data-bulk-value] textarea")
        .forEach(function (input) { input.disabled = clear.checked; });
      if (change) change.hidden = clear.checked;
      if (clearing) clearing.hidden = !clear.checked;
    }
    clear.addEventListener("change", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", wireConfirm);
  document.addEventListener("DOMContentLoaded", wireBar);
  document.body.addEventListener("htmx:afterSwap", wireBar);
})();
