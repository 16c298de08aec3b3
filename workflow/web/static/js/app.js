/* Small enhancements only; every page works without scripts. */
(function () {
  "use strict";
  // After a failed form post, put keyboard and screen-reader focus on the list of errors.
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
})();
