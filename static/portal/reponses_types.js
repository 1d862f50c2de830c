// Canned replies (réponses types) in the caisse's answer form: choosing one fills the message in place.
// Without this script, the "Insérer" button posts the form, which comes back with the text inserted.
(function () {
  "use strict";
  function setUp() {
    var select = document.getElementById("id_reponse_type");
    var body = document.getElementById("id_body");
    if (!select || !body) { return; }
    var button = select.parentNode.querySelector("[data-reponse-type-insert]");
    var inserted = "";
    function insert() {
      var option = select.options[select.selectedIndex];
      var text = option ? option.getAttribute("data-body") : null;
      if (!text) { return; }
      var typed = body.value;
      // Another reply chosen right after the first one replaces it instead of piling up.
      if (inserted && typed.slice(-inserted.length) === inserted) {
        typed = typed.slice(0, -inserted.length);
      }
      typed = typed.replace(/\s+$/, "");
      body.value = typed ? typed + "\n\n" + text : text;
      inserted = text;
    }
    select.addEventListener("change", insert);
    if (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        insert();
        body.focus();
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
