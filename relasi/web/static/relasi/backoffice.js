// The back-office's Menu button on phones: shows or hides the list of sections it controls.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".backoffice-menu-toggle");
    if (!button) return;
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    menu.hidden = !open;
  });
})();
