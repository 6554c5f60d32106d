// The "More" menu of a comment or a chat message (shared by document.html's discussion and
// the chat pages). The menu is a <details class="more"> disclosure of plain links, buttons
// and nested disclosures: it opens and works without this file. With it:
// - Escape closes the open menu (and puts the focus back on its summary);
// - a click elsewhere, or Tab out of it, closes it;
// - opening one menu closes any other;
// - an opened menu (or a form opened in it) is scrolled into sight inside a scrolling list (a chat room's messages).
// thread.js and chat.js add what their menus' items do.
(function () {
  "use strict";
  if (window.plazaMoreMenu) return;  // loaded by both the discussion and the chat panel
  window.plazaMoreMenu = true;

  var OPEN = "details.more[open]";

  function closeMenu(menu, focusSummary) {
    menu.open = false;
    if (focusSummary) menu.querySelector("summary").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var inside = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest(OPEN);
    var menu = inside || document.querySelector(OPEN);
    if (menu) { event.preventDefault(); closeMenu(menu, true); }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll(OPEN).forEach(function (menu) {
      if (!menu.contains(event.target)) closeMenu(menu, false);
    });
  });

  document.addEventListener("focusout", function (event) {
    var menu = event.target.closest && event.target.closest(OPEN);
    if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) closeMenu(menu, false);
  });

  function sight(element) {
    if (element && element.scrollIntoView) element.scrollIntoView({ block: "nearest" });
  }

  // "toggle" does not bubble, but it does pass through the capture phase.
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.open) return;
    if (opened.matches("details.more")) {
      document.querySelectorAll(OPEN).forEach(function (other) {
        if (other !== opened) other.open = false;
      });
      sight(opened.querySelector(".more-menu"));
    } else if (opened.matches(".more-menu details")) {
      sight(opened);  // a form inside the menu (edit, report)
    }
  }, true);
})();
