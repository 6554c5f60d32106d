// Progressive enhancement only: every page works without this file.

// --- Calls to the JSON API, shared: window.plaza ------------------------------------------
// Loaded on every page, in <head> with defer, so it runs before the chat scripts (deferred
// further down the page), which take csrfToken and callApi from window.plaza.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Resolves to { ok, status, data (the JSON body, or null), response }; rejects only when
  // the network failed.
  function callApi(method, url, body, extraHeaders) {
    var headers = { "Accept": "application/json", "X-CSRF-Token": csrfToken() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.keys(extraHeaders || {}).forEach(function (name) { headers[name] = extraHeaders[name]; });
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      function answer(data) {
        return { ok: response.ok, status: response.status, data: data, response: response };
      }
      if (response.status === 204) return answer(null);
      return response.json().then(answer, function () { return answer(null); });
    });
  }

  // Words made here, in the page's language: base.html renders their translations
  // (overlay_app/i18n/js_strings.py) as JSON; English pages carry none, so the words stand.
  // t("Like"); tn("{n} like", "{n} likes", 3): {name} is filled from `values`, {n} with n.
  var LANG = document.documentElement.lang || "en";
  var translations = null;
  function catalog() {
    if (translations === null) {
      var block = document.getElementById("plaza-messages");
      try { translations = block ? JSON.parse(block.textContent) : {}; } catch (e) { translations = {}; }
    }
    return translations;
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }
  function t(text, values) {
    var found = catalog()[text];
    return fill(typeof found === "string" ? found : text, values);
  }
  function tn(one, other, n, values) {
    var found = catalog()[one];
    var many = window.Intl && Intl.PluralRules ? new Intl.PluralRules(LANG).select(n) !== "one" : n !== 1;
    var text = Array.isArray(found) ? found[many ? 1 : 0] : (many ? other : one);
    var all = { n: Number(n).toLocaleString(LANG) };
    Object.keys(values || {}).forEach(function (name) { all[name] = values[name]; });
    return fill(text, all);
  }

  // Times read the same everywhere (overlay_app/times.py words them the same way): a phrase
  // such as "5 min ago", the exact UTC time as the element's title. English keeps its own
  // short words; other languages take Intl's ("5 minuten geleden", "22 nov 2025").
  var INTL = LANG !== "en" && window.Intl && Intl.RelativeTimeFormat;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function exactTime(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return "";
    if (INTL) {
      return new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" }).format(d) + " UTC";
    }
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }
  function relativeTime(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return "";
    var seconds = (Date.now() - d.getTime()) / 1000;
    if (seconds < 60) return t("just now");
    if (INTL) return intlRelativeTime(d, seconds);
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    if (seconds < 2 * 86400) return "yesterday";
    if (seconds < 7 * 86400) return Math.floor(seconds / 86400) + " days ago";
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
  }
  function intlRelativeTime(d, seconds) {
    var words = new Intl.RelativeTimeFormat(LANG, { numeric: "auto" });
    if (seconds < 3600) return words.format(-Math.floor(seconds / 60), "minute");
    if (seconds < 86400) return words.format(-Math.floor(seconds / 3600), "hour");
    if (seconds < 7 * 86400) return words.format(-Math.floor(seconds / 86400), "day");
    return new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short", year: "numeric",
      timeZone: "UTC" }).format(d);
  }
  function showTime(element, iso) {
    if (!iso) { element.textContent = ""; return; }  // a message still on its way
    element.setAttribute("datetime", iso);
    element.setAttribute("title", exactTime(iso));
    element.textContent = relativeTime(iso);
  }
  function refreshTimes() {
    document.querySelectorAll("time[data-relative][datetime]").forEach(function (element) {
      var iso = element.getAttribute("datetime");
      if (iso) element.textContent = relativeTime(iso);
    });
  }
  window.setInterval(refreshTimes, 60000);

  // Installable, with an offline page (static/sw.js caches nothing a person reads).
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () {});
    });
  }

  window.plaza = { csrfToken: csrfToken, callApi: callApi, showTime: showTime, t: t, tn: tn };
})();

// --- Discussion: comment forms and likes (helper "overlay-discussion"; more in thread.js) ---
// Forms post normally without JavaScript. With it, writes go to the JSON API so a refused
// comment keeps its text and shows why, and likes toggle in place (thread.js adds mention
// chips: typing "@" offers people who can open the document). User text is only ever set
// with textContent, never as HTML.
(function () {
  "use strict";

  var callApi = window.plaza.callApi;

  function errorMessage(result) {
    if (result.data && result.data.error && result.data.error.message) return result.data.error.message;
    return window.plaza.t("That did not work ({status}). Try again.", { status: result.status });
  }

  // -- comment, reply and edit forms --------------------------------------------------------
  function enhanceCommentForm(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var field = form.querySelector("textarea[name=body]");
      var shown = form.querySelector(".form-error");
      var button = form.querySelector("button[type=submit]");
      var method = form.getAttribute("data-method") || "POST";
      var payload = { body: field.value };
      var headers = {};
      if (method === "POST") {
        var parent = form.querySelector("input[name=parent_id]");
        payload.parent_id = parent ? parent.value : null;
        var key = form.querySelector("input[name=idempotency_key]");
        if (key) headers["Idempotency-Key"] = key.value;
      }
      button.disabled = true;
      callApi(method, form.getAttribute("data-api"), payload, headers).then(function (result) {
        if (!result.ok) {
          shown.textContent = errorMessage(result);
          shown.hidden = false;
          button.disabled = false;
          form.dispatchEvent(new CustomEvent("plaza:refused", { detail: result }));  // thread.js
          return;
        }
        var id = result.data && result.data.id;
        var here = window.location.pathname + window.location.search;
        window.location.replace(here + (id ? "#comment-" + id : "#discussion"));
        window.location.reload();
      }, function () {
        form.submit();  // the network failed: fall back to the plain form post
      });
    });
  }

  // -- the shared reply and edit forms ----------------------------------------------------------
  // Comments carry no reply or edit form of their own (a page of many comments stays small):
  // opening "Reply" or "Edit" moves the ONE stock form of that kind into the comment and points
  // it at it. Without this script the same <details> hold a link to ?reply= / ?edit=.
  function shareForms(section) {
    var stock = section.querySelector(".comment-form-stock");
    if (!stock) return;
    var shared = { reply: stock.querySelector('form[data-method="POST"]'),
                   edit: stock.querySelector('form[data-method="PATCH"]') };
    var key = shared.reply && shared.reply.querySelector("input[name=idempotency_key]");
    var baseKey = key ? key.value : "";
    // "toggle" does not bubble, but it does pass through the capture phase.
    section.addEventListener("toggle", function (event) {
      var details = event.target;
      if (!details.open || !details.matches || !details.matches("li.comment > .actions > details")) return;
      var kind = details.classList.contains("reply") ? "reply" : details.classList.contains("edit") ? "edit" : "";
      var form = shared[kind];
      if (!form || form.parentNode === details) return;
      var holder = form.parentNode.closest && form.parentNode.closest("details");
      if (holder) holder.open = false;
      var comment = details.closest("li.comment");
      var id = comment.id.replace(/^comment-/, "");
      var field = form.querySelector("textarea[name=body]");
      var label = form.querySelector("label");
      if (kind === "reply") {
        form.querySelector("input[name=parent_id]").value = id;
        if (key) key.value = baseKey + ":" + id;  // one key per reply target: retries dedupe
        var author = comment.querySelector(".meta .author");
        label.textContent = "Reply to " + (author ? author.textContent : "this comment");
        field.value = "";
      } else {
        form.setAttribute("action", "/comments/" + id + "/edit");
        form.setAttribute("data-api", "/api/v1/comments/" + id);
        field.value = details.getAttribute("data-body") || "";
      }
      field.id = kind + "-" + id;
      label.htmlFor = field.id;
      var shown = form.querySelector(".form-error");
      shown.hidden = true;
      shown.textContent = "";
      form.querySelector("button[type=submit]").disabled = false;
      details.querySelectorAll(":scope > a").forEach(function (link) { link.hidden = true; });
      details.appendChild(form);
      field.focus();
    }, true);
  }

  // -- likes -----------------------------------------------------------------------------------
  function enhanceLikeForm(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var wanted = form.querySelector("input[name=liked]");
      var like = wanted.value !== "0";
      callApi(like ? "PUT" : "DELETE", form.getAttribute("data-api")).then(function (result) {
        if (!result.ok) { form.submit(); return; }
        var button = form.querySelector("button");
        button.textContent = window.plaza.t(result.data.likedByMe ? "Unlike" : "Like");
        button.setAttribute("aria-pressed", result.data.likedByMe ? "true" : "false");
        wanted.value = result.data.likedByMe ? "0" : "1";
        var count = form.parentNode.querySelector(".like-count");
        if (count) {
          var n = result.data.likeCount;
          count.textContent = window.plaza.tn("{n} like", "{n} likes", n);
        }
      }, function () { form.submit(); });
    });
  }

  function enhanceConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  // Each listing cell knows its column's name, for the phone layout (plaza.css).
  function labelCells(table) {
    var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, n) {
        if (names[n]) cell.setAttribute("data-label", names[n]);
      });
    });
  }

  function start() {
    document.querySelectorAll("table.listing").forEach(labelCells);
    if (!window.fetch) return;
    document.querySelectorAll("form.comment-form[data-api]").forEach(enhanceCommentForm);
    document.querySelectorAll("form.like-form[data-api]").forEach(enhanceLikeForm);
    document.querySelectorAll("form[data-confirm]").forEach(enhanceConfirm);
    var section = document.getElementById("discussion");
    if (section) {
      shareForms(section);  // mention chips and the More menu: thread.js
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
