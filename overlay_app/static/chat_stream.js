// Chat in the browser (helper "chat-ui"), part 2 of 2: live delivery. Loaded after chat.js,
// whose rooms it keeps up to date; it starts the chat once the page is ready.
//
// - ONE EventSource per tab (GET /api/v1/events) carries every room on the page; the browser
//   resumes it with Last-Event-ID; when it gives up (readyState CLOSED), or the browser goes
//   offline and back, we open a new one with ?after=<last id seen> (an opaque cursor: the
//   newest one received is the one to keep). Messages are deduplicated by id, so a replay
//   shows nothing twice; room.removed takes a room off the page.
// - Sending puts {clientKey, roomId, body} in a localStorage outbox first; it leaves the outbox
//   only when the server acknowledged it (or refused it for good). Offline, failed or unsent
//   items are retried with backoff and on the 'online' event; the client key makes a retry
//   return the same message instead of a second one.
(function () {
  "use strict";
  var chat = window.plazaChat;
  if (!chat || chat.outbox) return;  // no chat on this page, or this file ran already

  var OUTBOX_KEY = "plaza.chat.outbox.v1";
  var MAX_BACKOFF_MS = 30000;
  var config = chat.config, me = chat.me, views = chat.views, roomList = chat.roomList;
  var callApi = chat.callApi, errorMessage = chat.errorMessage;
  var eventsUrl = config.getAttribute("data-events-url") || "/api/v1/events";
  var lastEventId = config.getAttribute("data-after") || "";

  // -- events from the stream -------------------------------------------------------------------------
  var handlers = {
    "message.new": function (message) {
      var view = views[message.roomId];
      if (view) {
        view.upsert(message);
        if (message.author.id !== me) view.markRead(message);
        else outbox.remove(message.clientKey);
      } else if (message.author.id !== me) {
        roomList.bump(message);
      }
    },
    "message.edited": function (message) {
      var view = views[message.roomId];
      if (view && view.find(message.id)) view.upsert(message);
    },
    "message.deleted": function (message) {
      var view = views[message.roomId];
      if (view && view.find(message.id)) view.upsert(Object.assign({}, message, { deleted: true }));
    },
    "room.read": function (marker) { roomList.read(marker.roomId, marker.lastReadSeq); },
    "room.removed": function (gone) {
      roomList.remove(gone.roomId);
      if (views[gone.roomId]) views[gone.roomId].remove();
    },
    "room.created": function (change) { roomList.add(change.room); },
    "room.member_added": function (change) {
      if (change.personId === me) roomList.add(change.room);
    },
    "room.member_removed": function (change) {
      if (change.room && change.personId === me) handlers["room.removed"]({ roomId: change.room.id });
    },
    "notification.new": function () { chat.bumpNotifications(); },
    "stream.open": function () {},
    // The backlog was too long to replay: the page reloads its rooms from the server.
    "stream.reset": function () { window.location.reload(); }
  };

  var stream = { source: null, retryMs: 1000, timer: 0 };

  function connect() {
    window.clearTimeout(stream.timer);
    if (stream.source) stream.source.close();
    var url = eventsUrl + (lastEventId
      ? (eventsUrl.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(lastEventId) : "");
    var crossOrigin = new URL(url, window.location.href).origin !== window.location.origin;
    var source = new EventSource(url, { withCredentials: crossOrigin });
    stream.source = source;
    config.setAttribute("data-stream", "connecting");
    source.onopen = function () {
      stream.retryMs = 1000;
      config.setAttribute("data-stream", "open");
      flush(true);
    };
    source.onerror = function () {
      config.setAttribute("data-stream", "down");
      // The browser retries by itself while CONNECTING; once CLOSED, it is up to us.
      if (source.readyState === EventSource.CLOSED && stream.source === source) reconnectLater();
    };
    Object.keys(handlers).forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        // Notices such as room.removed carry no id (lastEventId then repeats the previous
        // one), and a replay may repeat events: every handler is idempotent instead.
        if (event.lastEventId) lastEventId = event.lastEventId;
        var payload;
        try { payload = JSON.parse(event.data); } catch (error) { return; }
        handlers[kind](payload);
      });
    });
  }

  function reconnectLater() {
    window.clearTimeout(stream.timer);
    stream.timer = window.setTimeout(connect, stream.retryMs);
    stream.retryMs = Math.min(stream.retryMs * 2, MAX_BACKOFF_MS);
  }

  // -- the outbox ---------------------------------------------------------------------------------
  var outbox = {
    load: function () {
      try { return JSON.parse(window.localStorage.getItem(OUTBOX_KEY) || "[]"); } catch (error) { return []; }
    },
    save: function (items) { window.localStorage.setItem(OUTBOX_KEY, JSON.stringify(items)); },
    add: function (item) { var items = this.load(); items.push(item); this.save(items); },
    remove: function (clientKey) {
      if (!clientKey) return;
      this.save(this.load().filter(function (item) { return item.clientKey !== clientKey; }));
    },
    dropRoom: function (roomId) {
      this.save(this.load().filter(function (item) { return item.roomId !== roomId; }));
    }
  };

  var sending = { busy: false, retryMs: 1000, timer: 0 };

  // Sends the outbox in order; stops at the first item that may succeed later.
  function flush(now) {
    if (now) { sending.retryMs = 1000; window.clearTimeout(sending.timer); }
    if (sending.busy) return;
    var items = outbox.load();
    if (!items.length) return;
    if (!navigator.onLine) return;  // the 'online' event resumes
    sending.busy = true;
    sendOne(items[0]).then(function (outcome) {
      sending.busy = false;
      if (outcome.done) { sending.retryMs = 1000; flush(false); } else retryLater(outcome.waitMs);
    });
  }

  function retryLater(afterMs) {
    window.clearTimeout(sending.timer);
    sending.timer = window.setTimeout(function () { flush(false); }, afterMs || sending.retryMs);
    sending.retryMs = Math.min(sending.retryMs * 2, MAX_BACKOFF_MS);
  }

  // {done: true} when the item left the outbox (sent, or refused for good); else retry later.
  function sendOne(item) {
    var view = views[item.roomId];
    var url = "/api/v1/rooms/" + encodeURIComponent(item.roomId) + "/messages";
    return callApi("POST", url, { body: item.body, client_key: item.clientKey },
      { "Idempotency-Key": item.clientKey }).then(function (result) {
      if (result.ok) {
        outbox.remove(item.clientKey);
        if (view) view.upsert(result.data);
        return { done: true };
      }
      if (result.status === 429 || result.status >= 500 || result.status === 401) {
        return { done: false, waitMs: Number(result.response.headers.get("Retry-After") || 0) * 1000 };
      }
      outbox.remove(item.clientKey);  // refused for good (too long, room gone...)
      if (view) {
        view.markFailed(item.clientKey, errorMessage(result));
        view.showError(errorMessage(result));
      }
      return { done: true };
    }, function () {
      return { done: false };  // no connection: keep it
    });
  }

  // -- start --------------------------------------------------------------------------------------
  function openDocumentRoom(panel) {
    // The document's room is made on first use; the stream starts once we know its id.
    return callApi("POST", panel.getAttribute("data-room-api")).then(function (result) {
      if (!result.ok || !result.data || !result.data.id) return;
      panel.setAttribute("data-room-id", result.data.id);
      var form = panel.querySelector("form.chat-composer");
      if (form) form.setAttribute("action", "/chat/" + encodeURIComponent(result.data.id) + "/messages");
    }, function () {});
  }

  function start() {
    var pending = [];
    // A document room's events reach those who follow it: opening the room follows it.
    document.querySelectorAll(".chat-room[data-room-api]").forEach(function (panel) {
      pending.push(openDocumentRoom(panel));
    });
    Promise.all(pending).then(function () {
      document.querySelectorAll(".chat-room[data-room-id]").forEach(function (element) {
        var view = new chat.RoomView(element);
        views[view.roomId] = view;
      });
      outbox.load().forEach(function (item) {
        if (views[item.roomId]) views[item.roomId].showPending(item);
      });
      connect();
      flush(true);
      markShownAsRead();
    });
    window.addEventListener("online", function () {
      flush(true);
      if (!stream.source || stream.source.readyState !== EventSource.OPEN) connect();
    });
    window.addEventListener("offline", function () {
      // A dead network rarely closes the socket at once: let go of the stream now, and
      // resume from the last event seen when the browser is back online.
      if (stream.source) stream.source.close();
      window.clearTimeout(stream.timer);
      config.setAttribute("data-stream", "offline");
      document.querySelectorAll("li.chat-message.pending .state").forEach(function (state) {
        state.textContent = window.plaza.t("waiting for the connection…");
      });
    });
    document.addEventListener("visibilitychange", markShownAsRead);
  }

  // What a visible page shows has been read (the server never moves a marker back).
  function markShownAsRead() {
    if (document.visibilityState !== "visible") return;
    Object.keys(views).forEach(function (roomId) {
      var newest = null;
      views[roomId].list.querySelectorAll("li.chat-message[data-seq]:not(.pending)").forEach(
        function (item) {
          var seq = Number(item.getAttribute("data-seq") || 0);
          if (!newest || seq > newest.seq) newest = { id: item.getAttribute("data-message-id"), seq: seq };
        });
      if (newest) views[roomId].markRead(newest);
    });
  }

  chat.outbox = outbox;
  chat.flush = flush;
  chat.reconnect = connect;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
