// The error summary (templates/portal/_error_summary.html) takes the focus when the page opens, so that a
// keyboard or screen-reader user hears the errors first; its links then lead to each field.
(function () {
  var summary = document.getElementById("resume-erreurs");
  if (summary) {
    summary.focus();
  }
})();
