// Names for the admin's widgets that libraries build without one, for screen readers
// (and axe-core, tests/e2e/axe.py): the select2 autocomplete boxes Django's admin
// uses for topics, bylines and related stories, and the body's rich-text editor.
// Each gets the text of its form row's own <label>. select2 rebuilds its boxes as
// choices change and inline rows are added, so this runs again on every change.
"use strict";
{
  const labelled = new WeakSet();

  // The visible label of a field: <label for=id>, else the first label of its row.
  function labelFor(id, element) {
    let label = id ? document.querySelector(`label[for="${CSS.escape(id)}"]`) : null;
    if (!label) {
      const row = element.closest(".fieldBox, .form-row");
      label = row ? row.querySelector("label") : null;
    }
    if (label && !label.id) {
      label.id = `${id || "field-" + Math.random().toString(36).slice(2)}-label`;
    }
    return label;
  }

  function nameSelect2(select) {
    const container = select.nextElementSibling;
    if (!container || !container.classList.contains("select2")) {
      return;
    }
    const label = labelFor(select.id, select);
    if (!label) {
      return;
    }
    const text = label.textContent.replace(/:\s*$/, "").trim();
    const selection = container.querySelector(".select2-selection");
    if (selection && !selection.hasAttribute("aria-controls")) {
      // An open combobox names the list it controls: select2's list of results.
      selection.setAttribute("aria-controls", `select2-${select.id}-results`);
    }
    if (selection) {
      // The box is named by its label, then the choice it shows (select2's own name).
      const shown = selection.getAttribute("aria-labelledby") || "";
      if (!shown.split(" ").includes(label.id)) {
        selection.setAttribute("aria-labelledby", `${label.id} ${shown}`.trim());
      }
    }
    const rendered = container.querySelector(".select2-selection__rendered[role=textbox]");
    if (rendered && !rendered.hasAttribute("aria-label")) {
      rendered.setAttribute("aria-label", text);
    }
    const search = container.querySelector(".select2-search__field");
    if (search && !search.hasAttribute("aria-label")) {
      search.setAttribute("aria-label", text);
    }
    // The "clear all" cross sits inside the list of choices, where a list allows items
    // only; it is for the mouse (Backspace clears from the keyboard).
    container.querySelectorAll(".select2-selection__clear").forEach((cross) => {
      cross.setAttribute("aria-hidden", "true");
    });
  }

  function nameEditors() {
    document.querySelectorAll(".form-row [contenteditable=true]").forEach((editor) => {
      if (labelled.has(editor) || editor.hasAttribute("aria-label")) {
        return;
      }
      const row = editor.closest(".form-row");
      const label = row && row.querySelector("label");
      if (label) {
        if (!label.id) {
          label.id = `${row.className.match(/field-(\S+)/)?.[1] || "editor"}-label`;
        }
        editor.setAttribute("aria-labelledby", label.id);
        labelled.add(editor);
      }
    });
  }

  function nameAll() {
    document.querySelectorAll("select.admin-autocomplete").forEach(nameSelect2);
    nameEditors();
  }

  let pending = false;
  const observer = new MutationObserver(() => {
    if (!pending) {
      pending = true;
      // After the library's own change has finished.
      requestAnimationFrame(() => {
        pending = false;
        nameAll();
      });
    }
  });

  function start() {
    nameAll();
    observer.observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}
