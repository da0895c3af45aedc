// Fills the web URL templates of the layer form from a preset, as the
// server does when the form is posted (internal/web/layerform.go).
(function () {
  "use strict";
  var presets = {
    github: ["/tree/%branch%/%path%", "/blob/%branch%/%path%", "/commit/%hash%"],
    gitlab: ["/-/tree/%branch%/%path%", "/-/blob/%branch%/%path%", "/-/commit/%hash%"],
    cgit: ["/tree/%path%?h=%branch%", "/tree/%path%?h=%branch%", "/commit/?id=%hash%"]
  };
  function $(id) { return document.getElementById(id); }
  var sel = $("web_preset");
  if (!sel) { return; }
  function base() {
    var web = $("vcs_web_url").value.trim().replace(/\/+$/, "");
    if (web) { return web; }
    var repo = $("vcs_url").value.trim().replace(/\/+$/, "").replace(/\.git$/, "");
    if (/^https?:\/\//.test(repo)) { $("vcs_web_url").value = repo; return repo; }
    return "";
  }
  function fill() {
    var p = presets[sel.value];
    if (!p) { return; }
    var b = base();
    if (!b) { return; }
    $("vcs_web_tree_base_url").value = b + p[0];
    $("vcs_web_file_base_url").value = b + p[1];
    $("vcs_web_commit_url").value = b + p[2];
  }
  sel.addEventListener("change", fill);
  $("vcs_web_url").addEventListener("change", fill);
  $("vcs_url").addEventListener("change", function () { if (sel.value) { fill(); } });
}());
