// Keyboard shortcuts for moderators. Plain DOM, no dependencies.
//   queue:  j / k move, o or Enter open, x select
//   detail: j / k next / previous flag, c confirm, d dismiss, e edit plate, u back to queue
(function () {
  "use strict";

  function typing(target) {
    const tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  // Enter and Space on a link, button or the kinds list's summary do what they always do.
  function control(target) {
    return Boolean(target && target.closest && target.closest("a, button, summary, label"));
  }

  function go(url) { if (url) { window.location.href = url; } }

  function queuePage() {
    const rows = Array.from(document.querySelectorAll("table.queue tbody tr[data-href]"));
    let current = -1;
    function select(index) {
      if (!rows.length) { return; }
      if (current >= 0) { rows[current].classList.remove("current"); }
      current = Math.max(0, Math.min(rows.length - 1, index));
      rows[current].classList.add("current");
      // Focus follows the cursor (to the row's link), so it is visible and read out, and Tab
      // goes on from the row.
      const link = rows[current].querySelector("a.open");
      if (link) { link.focus({ preventScroll: true }); }
      rows[current].scrollIntoView({ block: "nearest" });
    }
    rows.forEach(function (row, index) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, input, button, label")) { return; }
        select(index);
        go(row.dataset.href);
      });
      const box = row.querySelector("input[type=checkbox]");
      row.classList.toggle("selected", box.checked);  // kept after a validation error
      box.addEventListener("change", function () { row.classList.toggle("selected", box.checked); });
    });
    // On a phone the kinds list would fill the first screen: start it folded.
    const kinds = document.getElementById("kinds-box");
    if (kinds && window.matchMedia("(max-width: 700px)").matches) { kinds.open = false; }
    const all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        rows.forEach(function (row) {
          const box = row.querySelector("input[type=checkbox]");
          box.checked = all.checked;
          row.classList.toggle("selected", box.checked);
        });
      });
    }
    return {
      j: function () { select(current + 1); },
      k: function () { select(current - 1); },
      o: function () { if (current >= 0) { go(rows[current].dataset.href); } },
      Enter: function () { if (current >= 0) { go(rows[current].dataset.href); } },
      x: function () {
        if (current < 0) { return; }
        const box = rows[current].querySelector("input[type=checkbox]");
        box.checked = !box.checked;
        rows[current].classList.toggle("selected", box.checked);
      },
    };
  }

  function detailPage() {
    const body = document.body.dataset;
    function focus(id) {
      const field = document.getElementById(id);
      if (field) { field.focus(); field.select(); }
    }
    return {
      j: function () { go(body.next); },
      k: function () { go(body.prev); },
      u: function () { go(body.queue); },
      c: function () {
        const form = document.getElementById("confirm-form");
        if (form) { form.requestSubmit(); }
      },
      d: function () { focus("dismiss-reason"); },
      e: function () { focus("plate-input"); },
    };
  }

  function wireCorrectForm() {
    // Keep base_reading_id in step with the photo picked for the correction.
    const form = document.getElementById("correct-form");
    if (!form) { return; }
    const select = form.querySelector("select[name=photo_id]");
    const base = form.querySelector("input[name=base_reading_id]");
    select.addEventListener("change", function () {
      base.value = select.selectedOptions[0].dataset.reading || "";
    });
  }

  function wireAutoRefresh() {
    // The live passages reload themselves; the operator may stop that (WCAG 2.2.1), and a reload
    // waits while the keyboard focus is on the page, so it never throws a keyboard user back.
    const box = document.getElementById("auto-refresh");
    if (!box) { return; }
    const key = "platecheck.autoRefresh";
    if (window.sessionStorage.getItem(key) === "off") { box.checked = false; }
    const delay = (Number(box.dataset.seconds) || 5) * 1000;
    let timer = null;
    function arm() {
      window.clearTimeout(timer);
      if (!box.checked) { return; }
      timer = window.setTimeout(function () {
        const focused = document.activeElement;
        if (focused && focused !== document.body && focused !== box) { arm(); return; }
        window.location.reload();
      }, delay);
    }
    box.addEventListener("change", function () {
      window.sessionStorage.setItem(key, box.checked ? "on" : "off");
      arm();
    });
    arm();
  }

  function wireHold() {
    // An open flag's page renews the moderator's hold on it every minute while it is shown
    // (webapp/review/holds.py), and tells them at once when another moderator has it.
    const url = document.body.dataset.hold;
    const banner = document.getElementById("hold-banner");
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!url || !banner || !token) { return; }
    function renew() {
      if (document.visibilityState !== "visible") { return; }
      window.fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token.value, "Accept": "application/json" },
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (hold) {
        if (!hold) { return; }
        banner.textContent = hold.message;
        banner.hidden = !hold.message;
      }).catch(function () { /* offline for a moment: the next minute tries again */ });
    }
    window.setInterval(renew, 60 * 1000);
    document.addEventListener("visibilitychange", renew);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const page = document.body.dataset.page;
    const keys = page === "queue" ? queuePage() : page === "detail" ? detailPage() : null;
    wireCorrectForm();
    wireAutoRefresh();
    wireHold();
    if (!keys) { return; }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (typing(event.target)) {
        if (event.key === "Escape") { event.target.blur(); }
        return;
      }
      if ((event.key === "Enter" || event.key === " ") && control(event.target)) { return; }
      const action = keys[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    });
  });
})();
