// An invoice's countdown to its deadline: <p data-countdown="ISO time" data-left-text="…" data-expired-text="…">.
(function () {
  "use strict";

  function pad(number) {
    return number < 10 ? "0" + number : String(number);
  }

  function tick(element, deadline) {
    var left = Math.floor((deadline - Date.now()) / 1000);
    if (left <= 0) {
      element.textContent = element.dataset.expiredText;
      return false;
    }
    var hours = Math.floor(left / 3600);
    var minutes = Math.floor((left % 3600) / 60);
    element.textContent = hours + ":" + pad(minutes) + ":" + pad(left % 60) + " " + element.dataset.leftText;
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      var deadline = Date.parse(element.dataset.countdown);
      if (isNaN(deadline)) return;
      if (!tick(element, deadline)) return;
      var timer = window.setInterval(function () {
        if (!tick(element, deadline)) window.clearInterval(timer);
      }, 1000);
    });
  });
})();
