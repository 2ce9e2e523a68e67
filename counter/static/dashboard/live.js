// The dashboard, live: a server-sent-events stream (/live/<namespace>/<key>) says the
// counter's total and today's figures whenever they change. The total and "Today" are set
// from the event at once; the rest (the period's cards, the chart, the table, the breakdowns,
// the top pages, who is here now) is read again from this page's own URL, query included,
// and its regions swapped in: at most once every 5 seconds, never while the tab is hidden
// (once when it is shown again), never under the reader's focus (that region waits for the
// next change). None is a live region but the one line of who is here now, as before.
// Without EventSource the page's figures stay as served; without fetch only the total and
// "Today" follow. A private counter's page has no stream: its stream needs the admin key,
// which the page never holds.
(function () {
  var total = document.getElementById("total");
  if (!total || !total.dataset.live || !window.EventSource) return;
  var REGIONS = ["cards", "chart", "day-rows", "breakdowns", "top-pages", "here-now-pages"];
  var GAP = 5000;
  // "total/today's hits/today's uniques" as served: the stream's first event is no change
  var shown = document.getElementById("cards").dataset.figures;
  var last = 0, timer = null, pending = false, busy = false;
  var reads = window.fetch && window.DOMParser;

  function number(n) { return n.toLocaleString("en-US"); }

  function showEvent(figures) {
    var here = document.getElementById("total");
    if (here) here.textContent = number(figures.value);
    var today = document.getElementById("today");
    if (!today || !today.firstChild) return;
    today.firstChild.nodeValue = number(figures.today.hits) + " ";
    var small = today.querySelector("small");
    if (small) small.textContent = "(" + number(figures.today.uniques) + " unique)";
  }

  function swap(fetched) {
    if (fetched.title) document.title = fetched.title; // it says the total
    REGIONS.forEach(function (id) {
      var here = document.getElementById(id), there = fetched.getElementById(id);
      if (!here || !there) return;
      if (here.contains(document.activeElement)) return; // the reader is in it: next change
      var nodes = Array.prototype.map.call(there.childNodes, function (node) {
        return document.importNode(node, true);
      });
      here.replaceChildren.apply(here, nodes);
    });
  }

  function later() {
    if (timer) return;
    timer = setTimeout(refresh, Math.max(0, last + GAP - Date.now()));
  }

  function refresh() {
    timer = null;
    if (document.hidden || busy) { pending = true; return; }
    pending = false;
    busy = true;
    last = Date.now();
    fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (answer) {
        var type = answer.headers.get("Content-Type") || "";
        return type.indexOf("text/html") === 0 ? answer.text() : null;
      })
      .then(function (html) {
        if (html) swap(new DOMParser().parseFromString(html, "text/html"));
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (pending && !document.hidden) later();
      });
  }

  var stream = new EventSource(total.dataset.live);
  stream.addEventListener("count", function (event) {
    var figures = JSON.parse(event.data);
    var said = [figures.value, figures.today.hits, figures.today.uniques].join("/");
    if (said === shown) return;
    shown = said;
    showEvent(figures);
    if (reads) later();
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && pending) later();
  });
})();
