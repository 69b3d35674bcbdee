// The partner dashboard's lead summary as a bar chart (Chart.js, served by Relasi itself).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.getElementById("lead-chart");
    if (!canvas || typeof window.Chart === "undefined") return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: canvas.dataset.labels.split("|"),
        datasets: [{ data: canvas.dataset.values.split("|").map(Number), backgroundColor: ["#6c757d", "#0d6efd", "#198754"] }]
      },
      options: { maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  });
})();
