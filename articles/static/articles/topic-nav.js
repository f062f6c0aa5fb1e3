// The topic menu scrolls sideways when the screen is too narrow for every topic.
// Mark the edges beyond which topics are hidden (.more-start, .more-end on the
// frame) so the stylesheet can fade them and show an arrow there, and bring the
// current topic into view. Without this script the menu still scrolls.
(function () {
  "use strict";

  for (const frame of document.querySelectorAll(".topic-nav-frame")) {
    const list = frame.querySelector(".topic-nav-list");
    if (!list) {
      continue;
    }
    const update = function () {
      // A pixel of slack: zoomed pages report fractional scroll positions.
      frame.classList.toggle("more-start", list.scrollLeft > 1);
      frame.classList.toggle(
        "more-end",
        list.scrollLeft + list.clientWidth < list.scrollWidth - 1,
      );
    };

    const current = list.querySelector("[aria-current=page]");
    if (current) {
      const offset =
        current.getBoundingClientRect().left - list.getBoundingClientRect().left;
      if (offset < 0 || offset + current.offsetWidth > list.clientWidth) {
        // Horizontally only: the page itself must not jump.
        list.scrollLeft += offset - (list.clientWidth - current.offsetWidth) / 2;
      }
    }
    list.addEventListener("scroll", update, { passive: true });
    new ResizeObserver(update).observe(list);
    update();
  }
})();
