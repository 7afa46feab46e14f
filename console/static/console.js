/* The console's small behaviours, all opt-in through data attributes:
 *   <form data-confirm="Delete X?">      asks before submitting (destructive actions)
 *   <button data-copy="#selector">       copies the value or text of the element to the clipboard
 *   <form data-warn-unsaved="the rules"> warns before leaving the page with its edits unsaved
 *   <textarea class="json-input">        (and a rule's return value) grows with its JSON
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

  // JSON boxes as tall as their JSON (up to a limit, then they scroll), so the last line, the
  // closing brace, is never cut off; also the ones the rule editor adds later.
  const SIZED = "textarea.json-input, textarea[data-return-value]";
  const MAX_ROWS = 40;
  function fit(area) {
    if (!area.dataset.minRows) area.dataset.minRows = area.getAttribute("rows") || "2";
    const lines = area.value.split("\n").length + 1;
    area.rows = Math.min(MAX_ROWS, Math.max(Number(area.dataset.minRows), lines));
    area.style.height = "";
    if (area.offsetParent !== null && area.scrollHeight > area.clientHeight) {
      // Long lines wrap: grow to the wrapped height too.
      const border = area.offsetHeight - area.clientHeight;
      area.style.height = Math.min(area.scrollHeight + border, window.innerHeight * 0.8) + "px";
    }
  }
  function fitAll(root) {
    if (root.matches && root.matches(SIZED)) fit(root);
    if (root.querySelectorAll) root.querySelectorAll(SIZED).forEach(fit);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches(SIZED)) fit(event.target);
  });
  document.addEventListener("toggle", function (event) { fitAll(event.target); }, true);
  document.addEventListener("DOMContentLoaded", function () {
    fitAll(document);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) { change.addedNodes.forEach(fitAll); });
    }).observe(document.body, { childList: true, subtree: true });
  });

  // Unsaved edits, form by form: a form is unsaved when what it would send differs from what it
  // held once the page (and its editors) had loaded. Submitting one form leaves the page, so it
  // asks first when another form still holds unsaved edits (e.g. "Save overrides" while rules
  // were edited), and leaving the page any other way asks the browser's question.
  const GUARDED = "form[data-warn-unsaved]";
  const loaded = new WeakMap();
  let submitting = null;

  function sent(form) {
    const data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    return new URLSearchParams(data).toString();
  }
  function remember(root) {
    root.querySelectorAll(GUARDED).forEach(function (form) {
      // A form shown again with errors holds edits the server refused: unsaved from the start.
      const refused = form.querySelector(".is-invalid, [role=alert]");
      loaded.set(form, refused ? null : sent(form));
    });
  }
  function unsaved(except) {
    return Array.from(document.querySelectorAll(GUARDED)).filter(function (form) {
      return form !== except && loaded.has(form) && loaded.get(form) !== sent(form);
    });
  }
  function named(form) {
    if (form.dataset.warnUnsaved) return form.dataset.warnUnsaved;
    const heading = form.closest("section, .card");
    const title = heading && heading.querySelector("h2, h3");
    return title ? title.textContent.trim() : "another form";
  }

  window.addEventListener("load", function () { remember(document); });
  document.addEventListener("htmx:afterSettle", function (event) { remember(event.target); });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("[hx-post], [hx-get]")) return;  // answered in place: nothing is left
    const others = unsaved(form);
    if (others.length && !window.confirm(
      "Unsaved changes in " + others.map(named).join(", ") + " will be lost if you continue. " +
      "Continue anyway?"
    )) {
      event.preventDefault();
      return;
    }
    submitting = form;
  });
  window.addEventListener("beforeunload", function (event) {
    if (submitting === null && unsaved(null).length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
