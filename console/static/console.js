/* The console's small behaviours, all opt-in through data attributes:
 *   <form data-confirm="Delete X?">      asks before submitting (destructive actions)
 *   <button data-copy="#selector">       copies the value or text of the element to the clipboard
 *   <form data-warn-unsaved>             warns before leaving the page with unsaved edits
 * CSRF for htmx requests is sent by hx-headers on <body> (templates/base.html).
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const text = "value" in source ? source.value : source.textContent;
    const done = function () {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else if (source.select) {
      source.select();
      document.execCommand("copy");
      done();
    }
  });

  let dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target.closest("form[data-warn-unsaved]")) dirty = true;
  });
  document.addEventListener("submit", function (event) {
    if (event.target.closest("form[data-warn-unsaved]")) dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
