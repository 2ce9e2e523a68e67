// The dashboards this browser created, kept in its localStorage only (never sent anywhere):
// the "created" page adds its counter (#remember), the landing page lists them (#mine).
(function () {
  var KEY = "visitorsite:dashboards", MAX = 50;
  function read() {
    try {
      var list = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list.filter(function (item) {
        return item && typeof item.name === "string" && /^\/d\//.test(item.url);
      }) : [];
    } catch (e) { return []; }
  }
  function write(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX))); } catch (e) { /* full, or off */ }
  }
  var remember = document.getElementById("remember");
  if (remember) {
    var url = remember.dataset.url, name = remember.dataset.name;
    write([{ name: name, url: url }].concat(read().filter(function (item) { return item.url !== url; })));
  }
  var mine = document.getElementById("mine");
  if (!mine) return;
  var list = read();
  if (!list.length) return;
  var ul = mine.querySelector("ul");
  list.forEach(function (item) {
    var li = document.createElement("li"), a = document.createElement("a");
    a.href = item.url;
    a.textContent = item.name;
    li.appendChild(a);
    ul.appendChild(li);
  });
  mine.hidden = false;
  mine.querySelector("button").addEventListener("click", function () {
    try { localStorage.removeItem(KEY); } catch (e) { /* off */ }
    mine.hidden = true;
  });
})();
