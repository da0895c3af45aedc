// River UI (the job dashboard at /layerindex/admin/jobs/) has no CSRF
// protection of its own; the site refuses its state-changing API calls
// (cancel, retry, delete a job; pause, resume a queue) without the
// session's token. The server puts the token in the page's csrf-token meta
// element; this adds it to every same-origin request that is not a GET.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  var original = window.fetch;
  window.fetch = function (input, init) {
    init = init || {};
    var isRequest = typeof Request !== "undefined" && input instanceof Request;
    var method = (init.method || (isRequest ? input.method : "GET")).toUpperCase();
    var url = new URL(isRequest ? input.url : String(input), window.location.href);
    if (method !== "GET" && method !== "HEAD" && url.origin === window.location.origin) {
      var headers = new Headers(init.headers || (isRequest ? input.headers : undefined));
      headers.set("X-CSRF-Token", token);
      init = Object.assign({}, init, { headers: headers });
    }
    return original.call(this, input, init);
  };
})();
