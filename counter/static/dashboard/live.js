// The dashboard's total, live: a server-sent-events stream (/live/<namespace>/<key>)
// replaces it whenever it changes. Without EventSource the page's figure stays as served.
(function () {
  var total = document.getElementById("total");
  if (!total || !total.dataset.live || !window.EventSource) return;
  var stream = new EventSource(total.dataset.live);
  stream.addEventListener("count", function (event) {
    total.textContent = JSON.parse(event.data).value.toLocaleString("en-US");
  });
})();
