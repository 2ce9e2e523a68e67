/* visitorsite page counter: <script src="https://HOST/js/v1/site.js" data-namespace="example.com" defer></script>
   Counts the site and this page. data-dnt="ignore" counts Do-Not-Track visitors too;
   data-query="keep" keeps ?query in page names; data-auto="false" waits for visitorsite.count(). */
(function () {
  var s = document.currentScript;
  if (!s) return;
  var d = s.dataset, ns = d.namespace, url = new URL(s.src).origin + "/e/" + encodeURIComponent(ns || "");
  function off() {
    return !ns || navigator.webdriver ||
      (d.dnt !== "ignore" && (navigator.doNotTrack === "1" || window.doNotTrack === "1"));
  }
  function count(path) {
    if (off()) return;
    path = path || location.pathname + (d.query === "keep" ? location.search : "");
    var body = new Blob([path], { type: "text/plain" });
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      fetch(url, { method: "POST", body: body, keepalive: true, mode: "no-cors" });
    }
  }
  window.visitorsite = { count: count };
  if (d.auto === "false") return;
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", function () { count(); }, { once: true });
  } else {
    count();
  }
})();
