/* VECTOR CRM: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    document.documentElement.classList.add("js");
    // Selects marked data-autosubmit (the institution switcher) submit on change.
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
        target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
      }
    });
  });

  // After htmx swaps in a form with errors, move focus to the first invalid field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target && event.detail.target.querySelector(".field--error input, .field--error select, .field--error textarea");
    if (invalid) { invalid.focus(); }
  });
})();
