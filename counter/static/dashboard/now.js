// "Here now" on a public site's dashboard, kept fresh: the site's now endpoint
// (/api/v1/counters/<namespace>/site/now) read every 30 seconds while the page is shown.
// Without fetch the figure stays as served. A private site's has no now endpoint to read
// without the admin key: live.js reads its owner's whole page again every 30 seconds instead.
(function () {
  var card = document.getElementById("here-now");
  var list = document.getElementById("here-now-pages");
  if (!card || !card.dataset.now || !window.fetch) return;
  var url = card.dataset.now;
  function show(now) {
    // looked up each time: live.js may have swapped the cards in since
    var count = document.querySelector("#here-now .n");
    if (count) count.textContent = now.visitors.toLocaleString("en-US");
    if (!list) return;
    list.textContent = "";
    if (!now.pages.length) {
      list.textContent = "Nobody in the last " + Math.round(now.window_seconds / 60) + " minutes.";
      return;
    }
    list.appendChild(document.createTextNode("On "));
    now.pages.slice(0, 5).forEach(function (page, i) {
      if (i) list.appendChild(document.createTextNode(", "));
      var code = document.createElement("code");
      code.textContent = page.page;
      list.appendChild(code);
      list.appendChild(document.createTextNode(" (" + page.visitors + ")"));
    });
    list.appendChild(document.createTextNode("."));
  }
  function refresh() {
    if (document.hidden) return;
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (now) { if (now) show(now); })
      .catch(function () {});
  }
  setInterval(refresh, 30000);
  document.addEventListener("visibilitychange", refresh);
})();
