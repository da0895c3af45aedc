// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Close open menus (the release selector) on Escape or a click elsewhere.
  function closeMenus(except) {
    document.querySelectorAll("details.branch-menu[open]").forEach(function (d) {
      if (d !== except) { d.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (e) {
    closeMenus(e.target.closest ? e.target.closest("details.branch-menu") : null);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      var open = document.querySelector("details.branch-menu[open]");
      if (open) { open.removeAttribute("open"); open.querySelector("summary").focus(); }
    }
  });
  // Copy buttons next to repository URLs.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = btn.getAttribute("data-copy");
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () {
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = "Copy"; }, 1500);
        });
      }
    });
  });
}());
