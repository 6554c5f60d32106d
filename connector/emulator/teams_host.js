// The host side of the Teams JavaScript library's postMessage protocol (as @microsoft/teams-js
// 2.x speaks it), and the SharePoint page's token hand-off to Plaza's panel.
//
// Requests from the app: {id, uuidAsString, func, args, apiVersionTag, timestamp}.
// Answers: {id, uuidAsString, args} posted back to the asking window at its origin.
// Events from the host: {func, args} (themeChange, settings.save).
// `window.hostLog` records every request's func, for tests.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("host-config").textContent);
  window.hostLog = [];
  if (config.panel) {
    sharePoint(config);
    return;
  }
  const frame = document.getElementById("tab");
  const appOrigin = new URL(frame.src).origin;
  const runtime = {
    apiVersion: 4,
    isLegacyTeams: false,
    supports: {
      app: {}, appInstallDialog: {}, authentication: {}, dialog: {}, teamsCore: {},
      pages: { config: {}, tabs: {}, appButton: {}, backStack: {} },
    },
  };
  let frameContext = config.frameContext;
  let theme = config.theme;
  let settings = null;
  let auth = null; // {window, origin, request, source}

  function answer(target, origin, request, args) {
    target.postMessage({ id: request.id, uuidAsString: request.uuidAsString, args: args }, origin);
  }

  function context(kind) {
    return {
      locale: "en-us", theme: theme, entityId: config.entityId, frameContext: kind,
      hostClientType: "web", hostName: "Teams", appSessionId: "emulator-session",
      userObjectId: config.user.id, userPrincipalName: config.user.upn,
      loginHint: config.user.upn, userDisplayName: config.user.name, tid: config.tid,
      appId: config.appId,
    };
  }

  async function getAuthToken(target, origin, request) {
    const response = await fetch("/_emulator/teams/token", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ resource: config.resource }),
    });
    const body = await response.json();
    answer(target, origin, request, body.token ? [true, body.token] : [false, body.error]);
  }

  function authenticate(target, origin, request) {
    const [url, width, height] = request.args;
    const popup = window.open(url, "teams-auth", `width=${width || 600},height=${height || 535}`);
    if (!popup) {
      answer(target, origin, request, [false, "CancelledByUser"]);
      return;
    }
    auth = { window: popup, target: target, origin: origin, request: request };
    const watch = setInterval(() => {
      if (auth && auth.window === popup && popup.closed) {
        clearInterval(watch);
        answer(target, origin, request, [false, "CancelledByUser"]);
        auth = null;
      }
    }, 300);
  }

  function fromTab(event, request) {
    const target = event.source;
    const origin = event.origin;
    switch (request.func) {
      case "initialize":
        answer(target, origin, request, [frameContext, "web", JSON.stringify(runtime), "2.0.0"]);
        break;
      case "getContext":
        answer(target, origin, request, [context(frameContext)]);
        break;
      case "authentication.getAuthToken":
        getAuthToken(target, origin, request);
        break;
      case "authentication.authenticate":
        authenticate(target, origin, request);
        break;
      case "settings.setValidityState": {
        const save = document.getElementById("save");
        if (save) save.disabled = !request.args[0];
        break;
      }
      case "settings.setSettings":
        settings = request.args[0];
        answer(target, origin, request, [true]);
        break;
      case "settings.getSettings":
        answer(target, origin, request, [settings || {}]);
        break;
      case "settings.save.success":
        if (settings && settings.contentUrl) {
          frameContext = "content";
          config.entityId = settings.entityId || "";
          const saveButton = document.getElementById("save");
          if (saveButton) saveButton.remove();
          document.body.dataset.savedUrl = settings.contentUrl;
          frame.src = settings.contentUrl;
        }
        break;
      default:
        break; // registerHandler, appInitialization.*, ...: nothing to answer
    }
  }

  function fromAuthWindow(event, request) {
    if (request.func === "initialize") {
      answer(event.source, event.origin, request,
        ["authentication", "web", JSON.stringify(runtime), "2.0.0"]);
    } else if (request.func === "getContext") {
      answer(event.source, event.origin, request, [context("authentication")]);
    } else if (request.func === "authentication.authenticate.success" && auth) {
      answer(auth.target, auth.origin, auth.request, [true, request.args[0]]);
      auth = null;
    } else if (request.func === "authentication.authenticate.failure" && auth) {
      answer(auth.target, auth.origin, auth.request, [false, request.args[0]]);
      auth = null;
    }
  }

  window.addEventListener("message", (event) => {
    const request = event.data;
    if (!request || typeof request !== "object" || typeof request.func !== "string") return;
    if (event.source === frame.contentWindow && event.origin === appOrigin) {
      window.hostLog.push(request.func);
      fromTab(event, request);
    } else if (auth && event.source === auth.window && event.origin === appOrigin) {
      window.hostLog.push("auth:" + request.func);
      fromAuthWindow(event, request);
    }
  });

  document.getElementById("theme").addEventListener("change", (event) => {
    theme = event.target.value;
    frame.contentWindow.postMessage({ func: "themeChange", args: [theme] }, appOrigin);
  });
  const save = document.getElementById("save");
  if (save) {
    save.addEventListener("click", () => {
      frame.contentWindow.postMessage({ func: "settings.save", args: [{}] }, appOrigin);
    });
  }

  function sharePoint(page) {
    const panel = document.getElementById("panel");
    window.addEventListener("message", async (event) => {
      if (event.source !== panel.contentWindow || event.origin !== page.origin) return;
      if (!event.data || event.data.type !== "plaza.ready") return;
      window.hostLog.push("plaza.ready");
      const response = await fetch("/_emulator/sharepoint/token", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ origin: page.origin }),
      });
      const body = await response.json();
      panel.contentWindow.postMessage({ type: "plaza.token", token: body.token || "" },
        page.origin);
    });
  }
})();
