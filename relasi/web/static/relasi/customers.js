// All customers page: date filter inputs, row selection, confirmations, column ordering, export filters, and the
// filter form kept in step with the table's sort and rows per page.
(function () {
  "use strict";

  function showDateInputs() {
    var mode = document.getElementById("date-mode");
    if (!mode) return;
    document.querySelectorAll(".date-extra").forEach(function (element) {
      element.classList.toggle("d-none", element.dataset.mode !== mode.value);
    });
  }

  function syncExportFilters() {
    var source = document.getElementById("export-filter-values");
    var target = document.getElementById("export-filters");
    if (source && target) target.innerHTML = source.innerHTML;
  }

  // The name and actions columns stay in view; a shadow on their edge shows that columns are scrolled under them.
  function markScrolled(box) {
    var maxLeft = box.scrollWidth - box.clientWidth;
    box.toggleAttribute("data-scrolled-left", box.scrollLeft > 0);
    box.toggleAttribute("data-scrolled-right", box.scrollLeft < maxLeft - 1);
  }

  function wireScrollShadows() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (!box.dataset.wired) {
        box.dataset.wired = "1";
        box.addEventListener("scroll", function () { markScrolled(box); }, { passive: true });
      }
      markScrolled(box);
    });
  }

  function wireTable() {
    // Ticking rows (and the header box) is bulk.js's: it shows the selection bar and its count.
    var selectAll = document.getElementById("select-all");
    var boxes = document.querySelectorAll(".row-select");
    if (selectAll) {
      selectAll.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = selectAll.checked; });
      });
    }
    syncExportFilters();
    wireScrollShadows();
    syncFilterForm();
  }

  // A column header or a rows-per-page link changes the table, not the form above it: the form's sort and
  // rows per page follow the table, so that the next filter change keeps them.
  function syncFilterForm() {
    var table = document.getElementById("customer-table");
    if (!table) return;
    var sort = document.getElementById("sort");
    if (sort && table.dataset.sort) sort.value = table.dataset.sort;
    var perPage = document.getElementById("per-page");
    if (perPage && table.dataset.perPage) perPage.value = table.dataset.perPage;
  }

  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = submitter && submitter.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
    if (submitter && submitter.name === "ids" && submitter.value) {
      // A row's own action acts on that row only, whatever else is ticked.
      event.target.querySelectorAll(".row-select").forEach(function (box) { box.checked = false; });
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    showDateInputs();
    var mode = document.getElementById("date-mode");
    if (mode) {
      // Choosing "per day" or "per month" starts from today / this month rather than an empty filter.
      mode.addEventListener("change", function () {
        var today = new Date();
        var iso = new Date(today.getTime() - today.getTimezoneOffset() * 60000).toISOString();
        var day = document.getElementById("date-day");
        var month = document.getElementById("date-month");
        if (mode.value === "day" && day && !day.value) day.value = iso.slice(0, 10);
        if (mode.value === "month" && month && !month.value) month.value = iso.slice(0, 7);
        showDateInputs();
      }, true);
    }
    wireTable();
    var list = document.getElementById("column-list");
    if (list && window.Sortable) {
      window.Sortable.create(list, { handle: ".drag-handle", animation: 150, forceFallback: true });
    }
  });
  document.body.addEventListener("htmx:afterSwap", wireTable);
  window.addEventListener("resize", wireScrollShadows);
  // Forms that send the user back here (language switch, Manage view) follow the filters shown.
  document.body.addEventListener("htmx:pushedIntoHistory", function () {
    var here = window.location.pathname + window.location.search;
    document.querySelectorAll('[data-testid="language-switch"] input[name="next"], [data-testid="manage-view-form"] input[name="next"]')
      .forEach(function (input) { input.value = here; });
  });
  // The search box asks as you type; its "change" on leaving the box would ask again for the same thing.
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "search") event.stopPropagation();
  }, true);
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box || box.name !== "source" || box.type !== "checkbox") return;
    var button = document.querySelector('[data-testid="source-filter"]');
    var ticked = document.querySelectorAll('#filters input[name="source"]:checked').length;
    if (!button) return;
    button.textContent = ticked === 0 ? button.dataset.labelAll
      : ticked === 1 ? button.dataset.labelOne
      : button.dataset.labelMany.replace("2", String(ticked));
  });
  // Keep shared URLs short: leave out empty fields and the defaults.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "filters") return;
    var parameters = event.detail.parameters;
    Object.keys(parameters).forEach(function (key) {
      var value = parameters[key];
      var perPage = document.getElementById("per-page");
      var isDefault = (key === "date" && value === "all") || (key === "sort" && value === "recent") ||
        (key === "per_page" && perPage && value === perPage.dataset.default);
      if (value === "" || isDefault) delete parameters[key];
    });
    var mode = parameters.date || "all";
    if (mode !== "day") delete parameters.day;
    if (mode !== "month") delete parameters.month;
    if (mode !== "custom") { delete parameters.from; delete parameters.to; }
  });
})();
