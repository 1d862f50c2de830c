// Accessible names for what Django's admin scripts draw after the page (loaded by admin/base_site.html):
// - select2 comboboxes (autocomplete fields): select2 names them by their current text, empty until a choice
//   is made (axe: aria-input-field-name); they get their field's label, or the select's own aria-label (rows
//   of a tabular inline, core.admin_inlines.LabelledTabularInline);
// - the filter's help icons of the two-list selector (SelectFilter2): an aria-label on a span without a role
//   (axe: aria-prohibited-attr); they become images named by that text.
// A MutationObserver applies it to what those scripts add later (new inline rows, a choice made).
(function () {
  "use strict";

  function labelIdFor(select) {
    if (!select.id) {
      return null;
    }
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (!label) {
      return null;
    }
    if (!label.id) {
      label.id = select.id + "-label";
    }
    return label.id;
  }

  function nameCombobox(container) {
    var select = container.previousElementSibling;
    if (!select || select.tagName !== "SELECT") {
      return;
    }
    var selection = container.querySelector(".select2-selection");
    var rendered = container.querySelector(".select2-selection__rendered");
    if (!selection) {
      return;
    }
    var labelId = labelIdFor(select);
    if (labelId) {
      selection.setAttribute("aria-labelledby", labelId + (rendered && rendered.id ? " " + rendered.id : ""));
      if (rendered) {
        rendered.setAttribute("aria-labelledby", labelId);
      }
    } else if (select.getAttribute("aria-label")) {
      selection.removeAttribute("aria-labelledby");
      selection.setAttribute("aria-label", select.getAttribute("aria-label"));
      if (rendered) {
        rendered.setAttribute("aria-label", select.getAttribute("aria-label"));
      }
    }
  }

  function fix(root) {
    root.querySelectorAll(".select2-container").forEach(nameCombobox);
    root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  function start() {
    fix(document);
    new MutationObserver(function (mutations) {
      if (mutations.some(function (m) { return m.addedNodes.length > 0; })) {
        fix(document);
      }
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
