// "Add as related" on the article form's suggested stories: one click fills a new row
// of the Related links below with the story, as if the editor had searched for it.
// Nothing is saved until the form is: then the links' own rules apply (a live story's
// links are a chief editor's to change; a draft of changes holds none), with the
// inline's own refusal, and nothing else typed in the form is lost.
"use strict";
{
  const GROUP = "#related_links-group";

  // A row added and left empty (no story, no address), else a new one.
  function emptyRow(group) {
    const rows = group.querySelectorAll(".inline-related:not(.empty-form):not(.has_original)");
    for (const row of rows) {
      const target = row.querySelector("select[name$='-target_article']");
      const url = row.querySelector("input[name$='-url']");
      if (target && !target.value && url && !url.value) {
        return row;
      }
    }
    const add = group.querySelector(".add-row a");
    if (!add) {
      return null;
    }
    add.click();  // Django's inlines.js adds the row and sets up its search box at once.
    const added = group.querySelectorAll(".inline-related:not(.empty-form):not(.has_original)");
    return added[added.length - 1] || null;
  }

  function addAsRelated(button) {
    const group = document.querySelector(GROUP);
    const row = group && emptyRow(group);
    const select = row && row.querySelector("select[name$='-target_article']");
    if (!select) {
      return;
    }
    select.append(new Option(button.dataset.title, button.dataset.articleId, true, true));
    // select2 (jQuery) hears a native change event and shows the choice.
    select.dispatchEvent(new Event("change", { bubbles: true }));
    const item = button.closest("li");
    item.classList.add("added");
    const note = document.createElement("span");
    note.className = "suggestion-added";
    note.setAttribute("role", "status");
    note.textContent = button.dataset.addedText;
    item.append(note);
    row.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.add-suggested");
    if (button) {
      event.preventDefault();
      addAsRelated(button);
    }
  });
}
