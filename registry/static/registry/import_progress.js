// Live register-import progress in the admin's list of runs: each running run's cell is
// refreshed every 2 s from <run>/progress.json until the run ends.
(function () {
  "use strict";
  const base = window.location.pathname.replace(/\/?$/, "/");
  function poll(run) {
    fetch(base + run + "/progress.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        const cell = document.querySelector('.import-progress[data-run="' + run + '"]');
        if (!data || !cell) { return; }
        cell.outerHTML = data.status === "running" ? data.text : "<span>" + data.text + "</span>";
        if (data.status === "running") { setTimeout(function () { poll(run); }, 2000); }
      })
      .catch(function () { setTimeout(function () { poll(run); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".import-progress").forEach(function (cell) {
      setTimeout(function () { poll(cell.dataset.run); }, 2000);
    });
  });
})();
