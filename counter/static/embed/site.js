/* visitorsite page counter: <script src="https://HOST/js/v1/site.js" data-namespace="example.com" defer></script>
   Counts the site and this page, with the referrer's host (never its URL), the landing URL's
   utm_source/utm_medium/utm_campaign (or ref, source), the viewport's width class and
   whether a Mac's User-Agent has a touch screen (an iPad); counts
   single-page-app navigations (pushState, replaceState, popstate) once per new path.
   data-dnt="ignore" counts Do-Not-Track visitors too; data-query="keep" keeps ?query in page
   names; data-hash="true" counts #hash changes as pages; data-auto="false" counts nothing by
   itself (call visitorsite.count()). visitorsite.event("signup") counts a custom event.
   No cookies, no storage. */
(function () {
  var s = document.currentScript;
  if (!s) return;
  var d = s.dataset, ns = d.namespace, last, landed,
    url = new URL(s.src).origin + "/e/" + encodeURIComponent(ns || "");
  function off() {
    return !ns || navigator.webdriver ||
      (d.dnt !== "ignore" && (navigator.doNotTrack === "1" || window.doNotTrack === "1"));
  }
  function send(data) {
    if (off()) return;
    var body = new Blob([JSON.stringify(data)], { type: "text/plain" });
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      fetch(url, { method: "POST", body: body, keepalive: true, mode: "no-cors" });
    }
  }
  function here() {
    return location.pathname + (d.query === "keep" ? location.search : "") +
      (d.hash === "true" ? location.hash : "");
  }
  function count(path) {
    var w = window.innerWidth, q, r = "";
    last = path = path || here();
    var data = { p: path, r: r, w: w < 600 ? "s" : w < 1024 ? "m" : w < 1440 ? "l" : "x" };
    // iPadOS Safari sends a Mac's User-Agent: a touch screen on a "Mac" is an iPad (t: tablet)
    if (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1) data.t = 1;
    if (!landed) {  // the landing: where the visit came from (later views come from the site)
      landed = 1;
      q = new URLSearchParams(location.search);
      try { r = new URL(document.referrer).hostname; } catch (e) { r = null; }
      data.r = r === location.hostname ? "" : r || undefined;
      data.s = q.get("utm_source") || q.get("ref") || q.get("source") || undefined;
      data.m = q.get("utm_medium") || undefined;
      data.c = q.get("utm_campaign") || undefined;
    }
    send(data);
  }
  function moved() {
    if (here() !== last) count();
  }
  window.visitorsite = {
    count: count,
    event: function (name) { send({ e: String(name), p: here() }); }
  };
  if (d.auto === "false") return;
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      moved();
      return result;
    };
  });
  window.addEventListener("popstate", moved);
  if (d.hash === "true") window.addEventListener("hashchange", moved);
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", function () { count(); }, { once: true });
  } else {
    count();
  }
})();
