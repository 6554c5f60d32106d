// Plaza's service worker: installs the app and shows an offline page when the network is
// gone. It caches only that page, the stylesheet and the icon; never a document, a comment
// or anything else a person reads (they may lose access to it tomorrow).
"use strict";

var CACHE = "plaza-shell-v1";
var SHELL = ["/offline", "/static/plaza.css", "/static/icons/plaza-192.png"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method === "GET" && request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () { return caches.match("/offline"); }));
  } else if (SHELL.indexOf(new URL(request.url).pathname) >= 0) {
    event.respondWith(fetch(request).catch(function () { return caches.match(request); }));
  }
});
