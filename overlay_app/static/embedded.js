// Plaza inside Teams and SharePoint frames (overlay_app/embedded). No cookie is used here:
// the host's token is traded at POST /api/v1/embedded/session for a short-lived Plaza token,
// kept in this closure only (never in storage), and sent as `Authorization: Bearer` with
// `credentials: "omit"`. User text is only ever set with textContent.
"use strict";

(function () {
  const root = document.getElementById("embedded");
  if (!root) return;
  const view = root.dataset.view;
  const status = document.getElementById("embedded-status");
  const body = document.getElementById("embedded-body");
  const consentBox = document.getElementById("embedded-consent");
  const foot = document.getElementById("embedded-foot");
  const teams = window.microsoftTeams;
  const validOrigins = (root.dataset.origins || "").split(" ").filter(Boolean);
  let plazaToken = null; // in memory only
  let expiry = null;
  let loginHint = "";
  // Words in the page's language (plaza.js reads the catalog base.html renders).
  const t = (window.plaza && window.plaza.t) || ((text) => text);
  const tn = (window.plaza && window.plaza.tn) || ((one, other, n) => (n === 1 ? one : other).replace("{n}", n));

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => node.setAttribute(name, value));
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function applyTheme(theme) {
    document.documentElement.dataset.theme = ["dark", "contrast"].includes(theme) ? theme : "default";
  }

  // -- signing in ----------------------------------------------------------------------------

  async function hostToken() {
    if (root.dataset.host === "sharepoint") return sharePointToken();
    return teams.authentication.getAuthToken();
  }

  function sharePointToken() {
    // The SharePoint page (or SPFx extension) answers with a token for Plaza's API.
    return new Promise((resolve, reject) => {
      function listen(event) {
        if (event.source !== window.parent || !validOrigins.includes(event.origin)) return;
        if (!event.data || event.data.type !== "plaza.token") return;
        window.removeEventListener("message", listen);
        if (event.data.token) resolve(event.data.token);
        else reject(new Error("the host gave no token"));
      }
      window.addEventListener("message", listen);
      validOrigins.filter((origin) => !origin.includes("*"))
        .forEach((origin) => window.parent.postMessage({ type: "plaza.ready" }, origin));
    });
  }

  async function signIn() {
    say(t("Signing you in…"));
    consentBox.hidden = true;
    let answer;
    try {
      const token = await hostToken();
      answer = await fetch("/api/v1/embedded/session", {
        method: "POST", credentials: "omit",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ token: token }),
      });
    } catch (error) {
      say(t("Plaza could not sign you in here: {reason}", { reason: error.message || error }));
      // Teams' silent sign-in failing (e.g. resourceRequiresConsent): the interactive way.
      if (root.dataset.host !== "sharepoint") consentBox.hidden = false;
      return false;
    }
    const data = await answer.json().catch(() => ({}));
    if (answer.status === 403 && data.error && data.error.code === "consentRequired") {
      say("");
      consentBox.hidden = false;
      return false;
    }
    if (!answer.ok) {
      say(t("Plaza could not sign you in here: {reason}", { reason: (data.error && data.error.message) || answer.status }));
      return false;
    }
    plazaToken = data.token;
    clearTimeout(expiry);
    expiry = setTimeout(forget, data.expiresIn * 1000);
    foot.hidden = false;
    say("");
    return true;
  }

  function forget() {
    plazaToken = null;
    body.replaceChildren();
    foot.hidden = true;
    say(t("Signed out of Plaza. Reload the tab to sign in again."));
  }

  async function consent() {
    const url = `${root.dataset.consent}&login_hint=${encodeURIComponent(loginHint)}`;
    try {
      await teams.authentication.authenticate({ url: url, width: 600, height: 535 });
    } catch (error) {
      say(t("Consent was not given: {reason}", { reason: error.message || error }));
      return;
    }
    if (await signIn()) await show();
  }

  async function api(method, path, payload) {
    if (!plazaToken) throw new Error("signed out");
    const headers = { "Accept": "application/json", "Authorization": "Bearer " + plazaToken };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method: method, headers: headers, credentials: "omit",
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    if (response.status === 401) forget();
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, data: data };
  }

  async function signOut() {
    if (plazaToken) await api("DELETE", "/api/v1/embedded/session").catch(() => null);
    clearTimeout(expiry);
    forget();
  }

  // -- views ---------------------------------------------------------------------------------

  function openLink(path, text) {
    return el("a", { href: root.dataset.public + path, target: "_blank", rel: "noopener" }, text);
  }

  function notFound() {
    body.replaceChildren(el("p", { role: "alert" }, t("Not found.")));
  }

  async function showHome() {
    const sites = await api("GET", "/api/v1/sites");
    const list = el("ul", { class: "embedded-list" });
    for (const site of (sites.data && sites.data.value) || []) {
      for (const library of site.libraries) {
        const item = el("li");
        item.append(openLink(`/drives/${encodeURIComponent(library.id)}`,
          `${site.title || ""} · ${library.name || ""}`));
        list.append(item);
      }
    }
    body.replaceChildren(el("h1", {}, "Plaza"), list);
  }

  async function showActivity() {
    const answer = await api("GET", "/api/v1/notifications");
    const list = el("ul", { class: "embedded-list" });
    for (const note of (answer.data && answer.data.value) || []) {
      const item = el("li");
      item.append(el("b", {}, note.actor ? note.actor.displayName : ""), " ",
        note.excerpt || note.kind, " ");
      if (note.document) item.append(el("span", { class: "muted" }, note.document.name));
      list.append(item);
    }
    body.replaceChildren(el("h1", {}, t("Activity")), list);
  }

  async function showFolder(driveId, itemId) {
    const answer = await api("GET",
      `/api/v1/drives/${encodeURIComponent(driveId)}/items/${encodeURIComponent(itemId)}/children`);
    if (!answer.ok) return notFound();
    const list = el("ul", { class: "embedded-list" });
    for (const row of answer.data.value) {
      const item = el("li");
      const open = el("button", { type: "button", class: "link" }, row.name);
      open.addEventListener("click", () => (row.isFolder ? showFolder : showDocument)(row.driveId, row.itemId));
      item.append(open, el("span", { class: "muted" }, " · " + tn("{n} comment", "{n} comments", row.commentCount)));
      list.append(item);
    }
    body.replaceChildren(list);
  }

  function commentNode(comment, driveId, itemId) {
    const item = el("li", { class: "comment" + (comment.deleted ? " deleted" : "") });
    item.append(el("p", { class: "meta" },
      comment.author ? comment.author.displayName : t("comment deleted")));
    if (!comment.deleted) item.append(el("p", { class: "body" }, comment.body));
    const replies = el("ol", { class: "replies" });
    comment.replies.forEach((reply) => replies.append(commentNode(reply, driveId, itemId)));
    if (!comment.parentId && !comment.deleted) {
      const form = commentForm(driveId, itemId, comment.id, t("Reply"));
      item.append(form);
    }
    item.append(replies);
    return item;
  }

  function commentForm(driveId, itemId, parentId, label) {
    const form = el("form", { class: "comment-form" });
    const id = "comment-" + (parentId || "new");
    const field = el("textarea", { id: id, name: "body", required: "", maxlength: "10000" });
    form.append(el("label", { for: id, class: parentId ? "visually-hidden" : "" }, label), field,
      el("button", { type: "submit" }, label));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const payload = { body: field.value };
      if (parentId) payload.parent_id = parentId;
      const answer = await api("POST", documentPath(driveId, itemId) + "/comments", payload);
      if (answer.ok) await showDocument(driveId, itemId);
      else form.append(el("p", { class: "form-error", role: "alert" },
        (answer.data && answer.data.error && answer.data.error.message) || t("Not sent.")));
    });
    return form;
  }

  function documentPath(driveId, itemId) {
    return `/api/v1/documents/${encodeURIComponent(driveId)}/${encodeURIComponent(itemId)}`;
  }

  async function showDocument(driveId, itemId) {
    const path = documentPath(driveId, itemId);
    const [doc, talk, likes, tags] = await Promise.all([
      api("GET", path), api("GET", path + "/comments"), api("GET", path + "/likes"),
      api("GET", path + "/tags"),
    ]);
    if (!doc.ok || !talk.ok) return notFound();
    const title = el("h1", {}, doc.data.name);
    const like = el("button", { type: "button", class: "like", "aria-pressed": String(likes.data.likedByMe) },
      t("Like · {count}", { count: Number(likes.data.likeCount).toLocaleString(document.documentElement.lang || "en") }));
    like.addEventListener("click", async () => {
      await api(likes.data.likedByMe ? "DELETE" : "PUT", path + "/like");
      await showDocument(driveId, itemId);
    });
    const tagList = el("ul", { class: "embedded-tags" });
    for (const entry of (tags.data && tags.data.value) || []) tagList.append(el("li", { class: "tag" }, entry.tag));
    const tagForm = el("form", { class: "tag-form" });
    const tagField = el("input", { id: "new-tag", name: "tag", maxlength: "50" });
    tagForm.append(el("label", { for: "new-tag" }, t("Add a tag")), tagField, el("button", { type: "submit" }, t("Add")));
    tagForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = await api("POST", path + "/tags", { tag: tagField.value });
      if (answer.ok) await showDocument(driveId, itemId);
    });
    const threads = el("ol", { class: "threads" });
    talk.data.comments.forEach((comment) => threads.append(commentNode(comment, driveId, itemId)));
    const open = openLink(`/documents/${encodeURIComponent(driveId)}/${encodeURIComponent(itemId)}`, t("Open in Plaza"));
    body.replaceChildren(title, el("p", { class: "embedded-actions" }), tagList, tagForm,
      el("h2", {}, `Comments · ${talk.data.commentCount}`), threads,
      commentForm(driveId, itemId, null, t("Comment")));
    body.querySelector(".embedded-actions").append(like, " ", open);
  }

  async function showPin(target) {
    const [kind, id] = [target.slice(0, target.indexOf(":")), target.slice(target.indexOf(":") + 1)];
    const [driveId, itemId] = id.split("/");
    if (kind === "library") return showFolder(id, "root");
    if (kind === "folder") return showFolder(driveId, itemId);
    if (kind === "document") return showDocument(driveId, itemId);
    return showChannel(id);
  }

  async function showChannel(roomId) {
    const path = `/api/v1/rooms/${encodeURIComponent(roomId)}`;
    const [room, history] = await Promise.all([api("GET", path), api("GET", path + "/messages?limit=50")]);
    if (!room.ok || !history.ok) return notFound();
    const list = el("ol", { class: "threads" });
    for (const message of history.data.messages) {
      const item = el("li", { class: "comment" + (message.deleted ? " deleted" : "") });
      item.append(el("p", { class: "meta" }, message.author.displayName),
        el("p", { class: "body" }, message.deleted ? t("message deleted") : message.body));
      list.append(item);
    }
    const form = el("form", { class: "comment-form" });
    const field = el("textarea", { id: "message-new", name: "body", required: "", maxlength: "10000" });
    form.append(el("label", { for: "message-new" }, t("Message")), field, el("button", { type: "submit" }, t("Send")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = await api("POST", path + "/messages", { body: field.value, client_key: crypto.randomUUID() });
      if (answer.ok) await showChannel(roomId);
      else form.append(el("p", { class: "form-error", role: "alert" },
        (answer.data && answer.data.error && answer.data.error.message) || t("Not sent.")));
    });
    body.replaceChildren(el("h1", {}, room.data.name || t("Channel")), list, form,
      openLink(`/chat/${encodeURIComponent(roomId)}`, t("Open in Plaza")));
  }

  async function showConfig() {
    const [sites, rooms] = await Promise.all([api("GET", "/api/v1/sites"), api("GET", "/api/v1/rooms")]);
    const select = el("select", { id: "pin-target" });
    select.append(el("option", { value: "" }, t("Choose a library or a channel")));
    for (const site of (sites.data && sites.data.value) || []) {
      for (const library of site.libraries) {
        select.append(el("option", { value: `library:${library.id}` },
          `${site.title || ""} · ${library.name || ""}`));
      }
    }
    for (const room of (rooms.data && rooms.data.rooms) || []) {
      if (room.kind === "channel") select.append(el("option", { value: `channel:${room.id}` }, `# ${room.name}`));
    }
    select.addEventListener("change", () => {
      teams.pages.config.setValidityState(Boolean(select.value));
    });
    teams.pages.config.registerOnSaveHandler(async (saveEvent) => {
      const target = select.value;
      await teams.pages.config.setConfig({
        entityId: target,
        contentUrl: `${root.dataset.public}/teams/tab/pin?target=${encodeURIComponent(target)}`,
        suggestedDisplayName: select.options[select.selectedIndex].textContent.slice(0, 64),
        websiteUrl: root.dataset.public,
      });
      saveEvent.notifySuccess();
    });
    body.replaceChildren(el("h1", {}, t("Pin Plaza to this channel")),
      el("label", { for: "pin-target" }, t("Library or channel")), select);
  }

  async function show() {
    if (view === "home") return showHome();
    if (view === "activity") return showActivity();
    if (view === "pin") return showPin(root.dataset.target);
    if (view === "config") return showConfig();
    if (view === "panel") return showPin(root.dataset.target);
  }

  // -- start -----------------------------------------------------------------------------------

  async function startTeams() {
    await teams.app.initialize(validOrigins);
    const context = await teams.app.getContext();
    applyTheme(context.app.theme);
    loginHint = (context.user && context.user.loginHint) || "";
    teams.app.registerOnThemeChangeHandler(applyTheme);
    if (view === "consent") {
      const outcome = root.dataset.outcome;
      if (outcome === "consented") teams.authentication.notifySuccess(outcome);
      else teams.authentication.notifyFailure(outcome);
      return;
    }
    if (await signIn()) await show();
  }

  document.getElementById("embedded-consent-button").addEventListener("click", consent);
  document.getElementById("embedded-signout").addEventListener("click", signOut);
  const start = root.dataset.host === "sharepoint"
    ? signIn().then((ok) => ok && show())
    : startTeams();
  start.catch((error) => say(t("Plaza could not start here: {reason}", { reason: error.message || error })));
})();
