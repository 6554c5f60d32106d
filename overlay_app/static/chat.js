// Chat in the browser (helper "chat-ui"), part 1 of 2: the rooms on the page. Progressive
// enhancement: every chat page works without it. chat_stream.js, loaded after this file, adds
// the live part (the event stream and the outbox) and starts both.
//
// - A RoomView per room shown: its messages (built from the page's blank one), the composer,
//   edit and delete through the API, the read marker; the rooms list keeps unread badges.
// - Server HTML (bodyHtml, sanitised by the server) is parsed in an inert <template>; every
//   other text goes in with textContent.
// - window.plazaChat is what the two files share: the page's settings, its views, these
//   classes and helpers, and (from chat_stream.js) the outbox, flush and reconnect.
(function () {
  "use strict";
  if (window.plazaChat || !window.plaza || !window.fetch || !window.EventSource) return;

  var t = window.plaza.t;  // words in the page's language (plaza.js)
  var KIND_LABELS = { document: t("Document"), channel: t("Channel"), direct: t("Direct") };
  var config = document.getElementById("chat-config");
  if (!config) return;
  var me = config.getAttribute("data-me-id");
  var views = {};          // roomId -> RoomView of a room shown on this page

  // -- small helpers ---------------------------------------------------------------------------
  // The API calls are plaza.js's (window.plaza), which every page loads before this file.
  var csrfToken = window.plaza.csrfToken, callApi = window.plaza.callApi;

  function errorMessage(result) {
    if (result.data && result.data.error && result.data.error.message) return result.data.error.message;
    return t("Not sent ({status}).", { status: result.status });
  }

  function newClientKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // -- one room on the page ---------------------------------------------------------------------
  function RoomView(element) {
    this.element = element;
    this.roomId = element.getAttribute("data-room-id");
    this.list = element.querySelector(".chat-messages");
    this.skeleton = document.querySelector("#chat-message-skeleton li.chat-message");
    this.composer = element.querySelector("form.chat-composer");
    this.notice = element.querySelector(".chat-error");
    // Ids are random: places in the room (`seq`) order messages and read markers.
    this.readUpTo = Number(element.getAttribute("data-last-read-seq") || 0);
    this.readId = null;
    this.readTimer = 0;
    var self = this;
    if (this.composer) {
      this.composer.addEventListener("submit", function (event) {
        event.preventDefault();
        self.send();
      });
      var field = this.composer.querySelector("textarea[name=body]");
      field.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          self.send();
        }
      });
    }
    this.list.querySelectorAll("li.chat-message[data-message-id]").forEach(function (item) {
      self.enhanceActions(item);
    });
    this.scrollToEnd();
  }

  RoomView.prototype.send = function () {
    var field = this.composer.querySelector("textarea[name=body]");
    var body = field.value;
    if (!body.trim()) return;
    var item = { clientKey: newClientKey(), roomId: this.roomId, body: body, queuedAt: Date.now() };
    chat.outbox.add(item);
    field.value = "";
    this.showError("");
    this.showPending(item);
    chat.flush(true);
  };

  RoomView.prototype.showError = function (text) {
    if (!this.notice) return;
    this.notice.textContent = text;
    this.notice.hidden = !text;
  };

  RoomView.prototype.find = function (messageId) {
    return this.list.querySelector('li.chat-message[data-message-id="' + messageId + '"]');
  };

  RoomView.prototype.findPending = function (clientKey) {
    var found = null;
    this.list.querySelectorAll("li.chat-message.pending").forEach(function (item) {
      if (item.getAttribute("data-client-key") === clientKey) found = item;
    });
    return found;
  };

  RoomView.prototype.showPending = function (item) {
    if (this.findPending(item.clientKey)) return;
    var node = this.build({
      id: "", author: { id: me, displayName: config.getAttribute("data-me-name") || "" },
      body: item.body, bodyHtml: null, createdAt: new Date(item.queuedAt).toISOString(),
      editedAt: null, deleted: false, clientKey: item.clientKey
    });
    node.classList.add("pending");
    node.querySelector(".state").textContent = navigator.onLine ? "sending…" : "waiting for the connection…";
    this.list.appendChild(node);
    this.scrollToEnd();
  };

  RoomView.prototype.markFailed = function (clientKey, reason) {
    var node = this.findPending(clientKey);
    if (!node) return;
    node.classList.remove("pending");
    node.classList.add("failed");
    node.querySelector(".state").textContent = t("not sent: {reason}", { reason: reason });
  };

  // A message JSON as a list item, from the page's blank one (#chat-message-skeleton).
  RoomView.prototype.build = function (message) {
    var node = this.skeleton.cloneNode(true);
    this.fill(node, message);
    return node;
  };

  RoomView.prototype.fill = function (node, message) {
    node.setAttribute("data-message-id", String(message.id));
    if (message.seq) node.setAttribute("data-seq", String(message.seq));
    node.setAttribute("data-author-id", message.author.id);
    if (message.id) node.id = "message-" + message.id;
    if (message.clientKey) node.setAttribute("data-client-key", message.clientKey);
    var author = node.querySelector(".author");
    author.textContent = message.author.displayName;
    author.setAttribute("href", "/people/" + encodeURIComponent(message.author.id));
    var face = node.querySelector("img.avatar");
    face.hidden = !message.author.id;
    if (message.author.id) face.src = "/people/" + encodeURIComponent(message.author.id) + "/photo";
    var time = node.querySelector("time");
    window.plaza.showTime(time, message.createdAt);
    node.querySelector(".edited").hidden = !message.editedAt;
    node.querySelector(".state").textContent = "";
    this.fillBody(node, message);
    var actions = node.querySelector(".message-actions");
    var own = message.author.id === me && message.id && !message.deleted;
    if (actions) {
      actions.hidden = !own;
      if (own) this.prepareActions(node, message);
    }
  };

  RoomView.prototype.fillBody = function (node, message) {
    var body = node.querySelector(".body");
    body.textContent = "";
    node.classList.toggle("deleted", !!message.deleted);
    if (message.deleted) {
      body.textContent = t("message deleted");
    } else if (message.bodyHtml === null || message.bodyHtml === undefined) {
      body.textContent = message.body;
    } else {
      // Parsed inert (no script runs, nothing loads) and moved in: sanitised by the server.
      var holder = document.createElement("template");
      holder.innerHTML = message.bodyHtml;
      body.appendChild(holder.content);
    }
  };

  RoomView.prototype.prepareActions = function (node, message) {
    var edit = node.querySelector("form.message-edit");
    var remove = node.querySelector("form.message-delete");
    if (edit) {
      edit.setAttribute("action", "/chat/messages/" + message.id + "/edit");
      edit.querySelector("textarea[name=body]").value = message.body;
    }
    if (remove) remove.setAttribute("action", "/chat/messages/" + message.id + "/delete");
    node.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = csrfToken(); });
    this.enhanceActions(node);
  };

  // Edit and delete forms post normally without script; with it they call the API.
  RoomView.prototype.enhanceActions = function (node) {
    var self = this;
    var id = node.getAttribute("data-message-id");
    var edit = node.querySelector("form.message-edit");
    var remove = node.querySelector("form.message-delete");
    if (edit && !edit.hasAttribute("data-enhanced")) {
      edit.setAttribute("data-enhanced", "1");
      edit.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = edit.querySelector("textarea[name=body]").value;
        callApi("PATCH", "/api/v1/messages/" + id, { body: body }).then(function (result) {
          if (!result.ok) { self.showError(errorMessage(result)); return; }
          self.upsert(result.data);
        }, function () { self.showError(t("No connection: the edit was not saved.")); });
      });
    }
    if (remove && !remove.hasAttribute("data-enhanced")) {
      remove.setAttribute("data-enhanced", "1");
      remove.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!window.confirm(t("Delete this message?"))) return;
        callApi("DELETE", "/api/v1/messages/" + id).then(function (result) {
          if (!result.ok) { self.showError(errorMessage(result)); return; }
          var node = self.find(id);
          if (!node) return;
          self.fillBody(node, { deleted: true });
          node.querySelector(".message-actions").hidden = true;
        }, function () { self.showError(t("No connection: the message was not deleted.")); });
      });
    }
  };

  // Shows a message once: a replayed or echoed copy updates the item already there.
  RoomView.prototype.upsert = function (message) {
    var node = this.find(message.id);
    if (!node && message.clientKey && message.author.id === me) node = this.findPending(message.clientKey);
    if (node) {
      node.classList.remove("pending", "failed");
      this.fill(node, message);
      return false;
    }
    node = this.build(message);
    var newer = null;
    this.list.querySelectorAll("li.chat-message[data-message-id]").forEach(function (item) {
      var seq = Number(item.getAttribute("data-seq") || 0);
      if (!newer && seq > message.seq && !item.classList.contains("pending")) newer = item;
    });
    var empty = this.element.querySelector(".chat-empty");
    if (empty) empty.hidden = true;
    this.list.insertBefore(node, newer || this.firstPending());
    this.scrollToEnd();
    return true;
  };

  RoomView.prototype.firstPending = function () {
    return this.list.querySelector("li.chat-message.pending, li.chat-message.failed");
  };

  RoomView.prototype.scrollToEnd = function () {
    this.list.scrollTop = this.list.scrollHeight;
  };

  // Moves the read marker when a message ({id, seq}) is seen in a visible tab (batched).
  RoomView.prototype.markRead = function (message) {
    var seq = Number(message.seq || 0);
    if (!message.id || seq <= this.readUpTo || document.visibilityState !== "visible") return;
    this.readUpTo = seq;
    this.readId = message.id;
    var self = this;
    window.clearTimeout(this.readTimer);
    this.readTimer = window.setTimeout(function () {
      callApi("PUT", "/api/v1/rooms/" + encodeURIComponent(self.roomId) + "/read",
        { last_read_id: self.readId }).catch(function () {});
    }, 300);
  };

  RoomView.prototype.remove = function () {
    this.element.classList.add("removed");
    this.list.textContent = "";
    var gone = document.createElement("p");
    gone.className = "chat-removed";
    gone.setAttribute("role", "status");
    gone.textContent = t("You no longer have access to this conversation.");
    this.element.insertBefore(gone, this.list);
    if (this.composer) this.composer.remove();
    this.composer = null;
    chat.outbox.dropRoom(this.roomId);
    delete views[this.roomId];
  };

  // -- the rooms list (unread badges) ---------------------------------------------------------------
  var roomList = {
    entry: function (roomId) {
      return document.querySelector('.chat-rooms li[data-room-id="' + roomId + '"]');
    },
    counted: {},
    bump: function (message) {
      var entry = this.entry(message.roomId);
      if (!entry || this.counted[message.id]) return;
      if (Number(message.seq) <= Number(entry.getAttribute("data-last-read-seq") || 0)) return;
      this.counted[message.id] = true;
      var badge = entry.querySelector(".unread");
      var count = Number(badge.getAttribute("data-count") || 0) + 1;
      this.setBadge(badge, count);
    },
    read: function (roomId, lastReadSeq) {
      var entry = this.entry(roomId);
      if (!entry) return;
      entry.setAttribute("data-last-read-seq", String(lastReadSeq || 0));
      this.setBadge(entry.querySelector(".unread"), 0);
    },
    setBadge: function (badge, count) {
      badge.setAttribute("data-count", String(count));
      badge.textContent = count ? String(count) : "";
      badge.hidden = !count;
    },
    add: function (room) {
      var list = document.querySelector(".chat-rooms");
      if (!list || !room || !room.id || this.entry(room.id)) return;
      var item = document.createElement("li");
      item.setAttribute("data-room-id", room.id);
      item.className = "chat-room-entry " + room.kind;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = KIND_LABELS[room.kind] || room.kind;
      var link = document.createElement("a");
      link.href = "/chat/" + encodeURIComponent(room.id);
      link.textContent = this.title(room);
      var badge = document.createElement("span");
      badge.className = "badge unread";
      this.setBadge(badge, 0);
      item.appendChild(kind);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(badge);
      list.appendChild(item);
      var empty = document.querySelector(".chat-rooms-empty");
      if (empty) empty.hidden = true;
    },
    remove: function (roomId) {
      var entry = this.entry(roomId);
      if (entry) entry.remove();
    },
    // Events name no document (they may be replayed after access is gone): the page's own
    // list, rendered by the server, has the title; a room added live says what kind it is.
    title: function (room) {
      if (room.kind === "channel") return "#" + (room.name || "");
      var others = (room.members || []).filter(function (m) { return m.id !== me; });
      if (room.kind === "direct" && others.length) {
        return others.map(function (m) { return m.displayName; }).join(", ");
      }
      return room.kind === "document" ? t("A document's chat") : t("Conversation");
    }
  };

  function bumpNotifications() {
    var link = document.querySelector("header .notifications");
    if (!link) return;
    var badge = link.querySelector(".badge");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "0";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    badge.textContent = String(Number(badge.textContent || 0) + 1);
  }

  var chat = window.plazaChat = {
    config: config, me: me, views: views, RoomView: RoomView, roomList: roomList,
    bumpNotifications: bumpNotifications, callApi: callApi, errorMessage: errorMessage
  };
})();
