// The document discussion, beyond what plaza.js does (helper "threads"). Progressive
// enhancement only: without this file the More menu and the folded replies are <details>
// that open by themselves, and the forms are plain textareas holding the mention markup.
// - More menu: Escape or a click elsewhere closes it; its Edit opens the comment's edit form.
// - Folded replies ("Show N more replies") unfold in place; a linked #comment-id is unfolded.
// - Comment and reply textareas become editors where a mention is a chip (an atomic token
//   showing the name, gone with one Backspace); the textarea stays the form's field and
//   always holds the markup the server reads, `@[Name](id)`.
// - A mention refused because the person cannot open the document offers to share it in
//   SharePoint (the document's webUrl, from the section's data-share-url).
// User text is only ever set with textContent or text nodes, never as HTML.
(function () {
  "use strict";

  var section = document.getElementById("discussion");
  if (!section) return;

  // The page's words in its language (_discussion.html), English when missing.
  var WORDS = {
    suggestions: "People who can open this document",
    cannotOpen: "%(name)s cannot open this document yet.",
    share: "Share it with them in SharePoint",
    thenSend: "(use Share there), then send your comment again: your text is kept."
  };
  try {
    var given = JSON.parse(section.getAttribute("data-words") || "{}");
    Object.keys(WORDS).forEach(function (key) { if (given[key]) WORDS[key] = given[key]; });
  } catch (error) { /* the English above */ }

  // -- the More menu ------------------------------------------------------------------------
  function closeMenu(menu, focusSummary) {
    menu.open = false;
    if (focusSummary) menu.querySelector("summary").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var inside = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("details.more[open]");
    var menu = inside || section.querySelector("details.more[open]");
    if (menu) { event.preventDefault(); closeMenu(menu, true); }
  });

  document.addEventListener("click", function (event) {
    section.querySelectorAll("details.more[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) closeMenu(menu, false);
    });
  });

  // Tabbing out of an open menu closes it, as a click elsewhere does.
  section.addEventListener("focusout", function (event) {
    var menu = event.target.closest && event.target.closest("details.more[open]");
    if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) closeMenu(menu, false);
  });

  section.addEventListener("click", function (event) {
    var edit = event.target.closest && event.target.closest("details.more a.menu-edit");
    if (!edit) return;
    var holder = edit.closest(".actions").querySelector(":scope > details.edit");
    if (!holder) return;  // no edit holder: follow the link to ?edit=
    event.preventDefault();
    closeMenu(edit.closest("details.more"), false);
    holder.hidden = false;
    holder.open = true;  // plaza.js moves the shared edit form into it on "toggle"
  });

  // -- folded replies -------------------------------------------------------------------------
  // An opened fold is replaced by the comments it held, as if they had never been folded.
  function unfold(details) {
    var folded = details.closest("li.folded");
    var list = details.querySelector(":scope > ol.replies");
    if (!folded || !list) return null;
    var first = list.firstElementChild;
    while (list.firstElementChild) folded.parentNode.insertBefore(list.firstElementChild, folded);
    folded.remove();
    return first;
  }

  function revealComment(id) {
    var target = id && document.getElementById(id);
    if (!target || !section.contains(target)) return;
    var fold = target.closest("details.more-replies");
    if (!fold) return;
    while (fold) { unfold(fold); fold = target.closest("details.more-replies"); }
    target.scrollIntoView();
  }

  // "toggle" does not bubble, but it does pass through the capture phase.
  section.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches) return;
    if (details.matches("details.more-replies") && details.open) {
      var first = unfold(details);
      if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
    } else if (details.matches("details.more") && details.open) {
      section.querySelectorAll("details.more[open]").forEach(function (other) {
        if (other !== details) other.open = false;
      });
    } else if (details.matches(".actions > details.edit") && !details.open) {
      details.hidden = true;
    }
  }, true);

  function revealFromHash() {
    try { revealComment(decodeURIComponent(location.hash.slice(1))); } catch (error) { /* a bad %-escape */ }
  }
  window.addEventListener("hashchange", revealFromHash);
  revealFromHash();

  // -- mention chips ------------------------------------------------------------------------
  var MENTION_MARKUP = /@\[([^\[\]\n]{1,200})\]\(([0-9A-Za-z-]{1,64})\)/g;
  var MENTION_QUERY = /(^|[\s(])@([^\s@\[\]()]{0,40})$/;
  var fieldValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value");
  var editors = 0;

  function chip(name, id) {
    var token = document.createElement("span");
    token.className = "chip";
    token.contentEditable = "false";
    token.setAttribute("data-id", id);
    token.setAttribute("data-name", name);
    token.textContent = "@" + name;
    return token;
  }

  // The editor's content as the markup the server reads.
  function markup(node) {
    var text = "";
    node.childNodes.forEach(function (child) {
      if (child.nodeType === Node.TEXT_NODE) text += child.data.replace(/\u00a0/g, " ");
      else if (child.classList && child.classList.contains("chip")) {
        text += "@[" + child.getAttribute("data-name") + "](" + child.getAttribute("data-id") + ")";
      } else if (child.nodeName === "BR") text += "\n";
      else if (child.nodeName === "DIV" || child.nodeName === "P") {
        if (text && text.slice(-1) !== "\n") text += "\n";
        text += markup(child);
      } else text += markup(child);
    });
    return text;
  }

  function show(editor, text) {
    editor.textContent = "";
    var at = 0, found;
    MENTION_MARKUP.lastIndex = 0;
    while ((found = MENTION_MARKUP.exec(text)) !== null) {
      if (found.index > at) editor.appendChild(document.createTextNode(text.slice(at, found.index)));
      editor.appendChild(chip(found[1], found[2]));
      at = found.index + found[0].length;
    }
    if (at < text.length) editor.appendChild(document.createTextNode(text.slice(at)));
  }

  function caretAfter(node) {
    var range = document.createRange();
    range.setStartAfter(node);
    range.collapse(true);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function enhanceField(field) {
    var form = field.form;
    var label = form.querySelector('label[for="' + field.id + '"]');
    var editor = document.createElement("div");
    var n = ++editors;
    editor.className = "chip-editor";
    editor.contentEditable = "plaintext-only";
    if (editor.contentEditable !== "plaintext-only") editor.contentEditable = "true";
    editor.setAttribute("role", "combobox");
    editor.setAttribute("aria-autocomplete", "list");
    editor.setAttribute("aria-haspopup", "listbox");
    editor.setAttribute("aria-expanded", "false");
    editor.setAttribute("data-placeholder", field.getAttribute("placeholder") || "");
    var list = document.createElement("ul");
    list.className = "mention-suggestions";
    list.id = "mention-suggestions-" + n;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", WORDS.suggestions);
    list.hidden = true;
    editor.setAttribute("aria-controls", list.id);
    if (label) {
      label.id = label.id || "chip-label-" + n;
      editor.setAttribute("aria-labelledby", label.id);
      label.addEventListener("click", function () { editor.focus(); });
    }
    // The editor takes the field's id (tests, labels and plaza.js find it by that id); the
    // field keeps the markup, and whatever sets its value or focuses it reaches the editor.
    var id = field.id;
    field.setAttribute("id", id + "-markup");
    editor.id = id;
    field.required = false;  // a hidden required field would stop the form silently
    field.hidden = true;
    Object.defineProperty(field, "value", {
      configurable: true,
      get: function () { return fieldValue.get.call(field); },
      set: function (text) { fieldValue.set.call(field, text); show(editor, text); }
    });
    Object.defineProperty(field, "id", {
      configurable: true,
      get: function () { return editor.id; },
      set: function (value) { editor.id = value; field.setAttribute("id", value + "-markup"); }
    });
    field.focus = function () {
      editor.focus();
      if (editor.lastChild) caretAfter(editor.lastChild);
    };
    field.parentNode.insertBefore(editor, field);
    field.parentNode.insertBefore(list, field.nextSibling);
    show(editor, fieldValue.get.call(field));
    mentions(editor, field, list);
  }

  function mentions(editor, field, list) {
    var people = [], active = -1, pending = 0, typed = null;
    var driveId = section.getAttribute("data-drive-id"), itemId = section.getAttribute("data-item-id");

    function sync() { fieldValue.set.call(field, markup(editor)); }

    function close() {
      list.hidden = true; people = []; active = -1; typed = null;
      editor.setAttribute("aria-expanded", "false");
      editor.removeAttribute("aria-activedescendant");
    }

    function render() {
      list.textContent = "";
      people.forEach(function (person, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", index === active ? "true" : "false");
        option.textContent = person.displayName + (person.jobTitle ? " · " + person.jobTitle : "");
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
        list.appendChild(option);
      });
      list.hidden = people.length === 0;
      editor.setAttribute("aria-expanded", list.hidden ? "false" : "true");
      if (active >= 0) editor.setAttribute("aria-activedescendant", list.id + "-" + active);
      else editor.removeAttribute("aria-activedescendant");
    }

    // The "@name" being typed just before the caret: its text node, where it starts, the name.
    function typing() {
      var selection = window.getSelection();
      if (!selection.rangeCount || !selection.isCollapsed) return null;
      var node = selection.anchorNode, offset = selection.anchorOffset;
      if (!node || node.nodeType !== Node.TEXT_NODE || !editor.contains(node)) return null;
      var match = MENTION_QUERY.exec(node.data.slice(0, offset));
      if (!match) return null;
      return { node: node, start: offset - match[2].length - 1, end: offset, query: match[2] };
    }

    function choose(index) {
      var person = people[index], at = typed;
      if (!person || !at || !editor.contains(at.node)) { close(); return; }
      var range = document.createRange();
      range.setStart(at.node, at.start);
      range.setEnd(at.node, Math.min(at.end, at.node.data.length));
      range.deleteContents();
      var token = chip(person.displayName, person.id);
      var space = document.createTextNode(" ");
      range.insertNode(space);
      range.insertNode(token);
      editor.normalize();  // the space may join the text after it: the caret goes after it
      var after = document.createRange(), selection = window.getSelection();
      after.setStart(token.nextSibling, 1);
      after.collapse(true);
      selection.removeAllRanges();
      selection.addRange(after);
      close();
      sync();
      editor.focus();
    }

    editor.addEventListener("input", function () {
      sync();
      var at = typing();
      if (!at) { close(); return; }
      typed = at;
      var ticket = ++pending;
      var url = "/api/v1/mentions/suggest?drive_id=" + encodeURIComponent(driveId) +
        "&item_id=" + encodeURIComponent(itemId) + "&q=" + encodeURIComponent(at.query);
      window.plaza.callApi("GET", url).then(function (result) {
        if (ticket !== pending || !result.ok || typed === null) return;
        people = result.data.people || [];
        active = people.length ? 0 : -1;
        render();
      });
    });

    // One Backspace after a chip removes the whole chip.
    function chipBeforeCaret() {
      var selection = window.getSelection();
      if (!selection.rangeCount || !selection.isCollapsed) return null;
      var node = selection.anchorNode, offset = selection.anchorOffset, before = null;
      if (node === editor) before = editor.childNodes[offset - 1];
      else if (node && node.nodeType === Node.TEXT_NODE && editor.contains(node) && offset === 0) {
        before = node.previousSibling;
      }
      return before && before.classList && before.classList.contains("chip") ? before : null;
    }

    editor.addEventListener("keydown", function (event) {
      if (!list.hidden && people.length) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          active = (active + (event.key === "ArrowDown" ? 1 : people.length - 1)) % people.length;
          render();
          return;
        }
        if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
          event.preventDefault();
          choose(active);
          return;
        }
        if (event.key === "Escape") { event.preventDefault(); close(); return; }
      }
      if (event.key === "Backspace") {
        var token = chipBeforeCaret();
        if (token) {
          event.preventDefault();
          var previous = token.previousSibling;
          token.remove();
          if (previous) caretAfter(previous);
          sync();
        }
      }
    });

    if (editor.contentEditable === "true") {  // no plaintext-only: paste text, never markup
      editor.addEventListener("paste", function (event) {
        event.preventDefault();
        document.execCommand("insertText", false, event.clipboardData.getData("text/plain"));
      });
    }
    editor.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  // -- a mention refused: offer to share the document ----------------------------------------
  // plaza.js signals a refused write with "plaza:refused" on the form. The refusal names the
  // person first ("X cannot open this document, ..."): if it names someone chipped here, the
  // writer may share the document with them in SharePoint. Their text stays in the editor.
  function offerShare(form, result) {
    var error = result && result.data && result.data.error;
    var shareUrl = section.getAttribute("data-share-url");
    if (!error || error.code !== "badRequest" || !shareUrl) return;
    var names = Array.prototype.map.call(form.querySelectorAll(".chip-editor .chip"), function (token) {
      return token.getAttribute("data-name");
    });
    var who = names.filter(function (name) { return error.message.indexOf(name + " ") === 0; })[0];
    if (!who) return;
    var offer = document.createElement("p");
    offer.className = "share-offer";
    offer.setAttribute("role", "status");
    offer.appendChild(document.createTextNode(WORDS.cannotOpen.replace("%(name)s", function () { return who; }) + " "));
    var link = document.createElement("a");
    link.href = shareUrl;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = WORDS.share;
    offer.appendChild(link);
    offer.appendChild(document.createTextNode(" " + WORDS.thenSend));
    form.querySelector(".form-error").insertAdjacentElement("afterend", offer);
  }

  section.querySelectorAll("form.comment-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll(".share-offer").forEach(function (offer) { offer.remove(); });
    }, true);
    form.addEventListener("plaza:refused", function (event) { offerShare(form, event.detail); });
  });

  if (window.plaza && window.fetch) section.querySelectorAll("textarea[data-chips]").forEach(enhanceField);
})();
