// The dashboard, live. Two triggers of one refresh:
// - a public counter's page follows its server-sent-events stream (/live/<namespace>/<key>,
//   data-live on #total), which says the counter's total and today's figures whenever they
//   change: the total and "Today" are set from the event at once, and the page is read again
//   at most once every 5 seconds after a change;
// - a private counter's page (its owner's: data-refresh on #total, in seconds) has no stream,
//   since the stream needs the admin key and the page never holds it: it is read again every
//   30 seconds instead (the same-origin read carries the owner's cookie, nothing more).
// A read is of this page's own URL, query included: the rest of the figures (the period's
// cards, the chart, the table, the breakdowns, the top pages, who is here now) have their
// regions swapped in. Never while the tab is hidden (once when it is shown again, if a read
// came due meanwhile), never under the reader's focus (that region waits for the next read).
// A read that answers the locked page (the owner's cookie ran out) changes nothing. None is a
// live region but the one line of who is here now, as before. Without EventSource a public
// page's figures stay as served; without fetch only its total and "Today" follow, and a
// private page's stay as served.
(function () {
  var total = document.getElementById("total");
  if (!total) return;
  var REGIONS = ["cards", "chart", "day-rows", "breakdowns", "top-pages", "here-now-pages"];
  var GAP = 5000; // between reads after the stream's changes
  var reads = window.fetch && window.DOMParser;
  var streams = total.dataset.live && window.EventSource;
  var every = reads ? Number(total.dataset.refresh) * 1000 || 0 : 0; // the private page's
  if (!streams && !every) return;
  // "total/today's hits/today's uniques" as served: the stream's first event is no change
  var shown = document.getElementById("cards").dataset.figures;
  var last = Date.now(), timer = null, due = 0, pending = false, busy = false;

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
    if (!fetched.getElementById("cards")) return; // the locked page: leave the figures be
    if (fetched.title) document.title = fetched.title; // it says the total
    REGIONS.forEach(function (id) {
      var here = document.getElementById(id), there = fetched.getElementById(id);
      if (!here || !there) return;
      if (here.contains(document.activeElement)) return; // the reader is in it: next read
      var nodes = Array.prototype.map.call(there.childNodes, function (node) {
        return document.importNode(node, true);
      });
      here.replaceChildren.apply(here, nodes);
    });
  }

  // A read no sooner than `wait` after the last one; the earlier of two asked stands.
  function later(wait) {
    var at = last + wait;
    if (timer && due <= at) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(refresh, Math.max(0, at - Date.now()));
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
        if (pending && !document.hidden) later(GAP);
        if (every && !document.hidden) later(every);
      });
  }

  if (streams) {
    var stream = new EventSource(total.dataset.live);
    stream.addEventListener("count", function (event) {
      var figures = JSON.parse(event.data);
      var said = [figures.value, figures.today.hits, figures.today.uniques].join("/");
      if (said === shown) return;
      shown = said;
      showEvent(figures);
      if (reads) later(GAP);
    });
  }
  if (every) later(every); // the page as served is the first read
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && pending) later(GAP);
  });
})();
