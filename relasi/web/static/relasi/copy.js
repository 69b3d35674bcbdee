// Copy buttons: <button data-copy-target="ID" data-copy-status="ID" data-copied-text="…" data-select-text="…">.
// The clipboard API needs a secure context (HTTPS or localhost); elsewhere the text is selected for Ctrl+C instead.
(function () {
  "use strict";

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function announce(status, message) {
    if (!status) return;
    // Emptied first, so that a second click is announced again.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!source) return;
    var text = source.textContent.trim();

    function fallback() {
      selectContents(source);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      announce(status, copied ? button.dataset.copiedText : button.dataset.selectText);
    }

    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { announce(status, button.dataset.copiedText); }, fallback);
    } else {
      fallback();
    }
  });
})();
