// The top-up form's live quote: what the visitors cost, the WhatsApp amount after the minimum, and how much of it
// settles the outstanding. A preview only: the booking confirmation shows the order as the server priced it.
(function () {
  "use strict";

  function whole(value) {
    var digits = String(value || "").replace(/[.,\s]/g, "");
    return /^\d{1,16}$/.test(digits) ? parseInt(digits, 10) : 0;
  }

  function rupiah(amount) {
    var locale = document.documentElement.lang === "id" ? "id-ID" : "en-US";
    return "Rp " + amount.toLocaleString(locale);
  }

  function update(form) {
    var block = whole(form.dataset.block);
    var blockPrice = whole(form.dataset.blockPrice);
    var minimum = whole(form.dataset.minimum);
    var outstanding = whole(form.dataset.outstanding);
    var visitors = whole(form.elements.muv_visitors.value);
    var asked = whole(form.elements.whatsapp_amount.value);
    var whatsapp = asked > 0 && asked < minimum ? minimum : asked;
    var muvPrice = block && visitors % block === 0 ? (visitors / block) * blockPrice : 0;
    var settles = Math.min(outstanding, whatsapp);
    var show = function (name, text) {
      var element = document.querySelector('[data-quote="' + name + '"]');
      if (element) element.textContent = text;
    };
    show("muv", visitors && block && visitors % block !== 0 ? "×" + block : rupiah(muvPrice));
    show("whatsapp", rupiah(whatsapp));
    show("settles", rupiah(settles));
    show("adds", rupiah(whatsapp - settles));
    show("subtotal", rupiah(muvPrice + whatsapp));
    var raised = document.querySelector('[data-quote="raised"]');
    if (raised) raised.classList.toggle("d-none", !(asked > 0 && asked < minimum));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-top-up-form]");
    if (!form) return;
    form.addEventListener("input", function () { update(form); });
    update(form);
  });
})();
