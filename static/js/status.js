// The indexing status page (/layerindex/status/) follows the update runs
// live: every few seconds it fetches itself again and replaces its
// #status-live part with the new one, so running runs' logs grow, and
// runs move from waiting to running to failing (or away) without a reload.
(function () {
  "use strict";
  var live = document.getElementById("status-live");
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = parseInt(live.getAttribute("data-refresh"), 10) || 3000;
  function mark(el) {
    var note = el.querySelector(".status-live-note");
    if (note) {
      note.hidden = false;
    }
  }
  mark(live);
  function tick() {
    fetch(window.location.href, { headers: { Accept: "text/html" }, cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("status " + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("status-live");
        if (fresh) {
          fresh = document.importNode(fresh, true);
          mark(fresh);
          live.replaceWith(fresh);
          live = fresh;
        }
      })
      .catch(function () {
        // A failed poll (the server restarting) is tried again next time.
      })
      .then(function () {
        window.setTimeout(tick, every);
      });
  }
  window.setTimeout(tick, every);
})();
