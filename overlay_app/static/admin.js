// The admin console's job page: polls the job's progress while a run goes on and shows it.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) return;
  var shownRun = box.dataset.lastRun || ""; // the latest run the history table shows

  function show(name, value) {
    var field = box.querySelector('[data-field="' + name + '"]');
    if (field) field.textContent = value;
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (progress) {
        if (!progress) return;
        var last = progress.lastRun;
        show("state", progress.running ? "running" : (last ? last.outcome : "not run yet"));
        show("items", progress.items);
        show("pages", progress.pages);
        show("throttledWaits", progress.throttledWaits);
        show("error", last && last.error && !progress.running ? last.error : "");
        if (!progress.running && last && String(last.id) !== shownRun) {
          window.location.reload(); // a run ended since the page was made: show it in history
          return;
        }
        setTimeout(poll, progress.running ? 1000 : 3000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
