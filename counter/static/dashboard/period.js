// The dashboard's custom period: each date bounds the other (from <= to), so the browser
// says so before the form is sent. Without script the server says it on the page.
(function () {
  var first = document.getElementById("period-from");
  var last = document.getElementById("period-to");
  if (!first || !last) return;
  var oldest = first.min;
  var today = last.max;
  function bound() {
    last.min = first.value || oldest;
    first.max = last.value || today;
  }
  first.addEventListener("change", bound);
  last.addEventListener("change", bound);
  bound();
})();
