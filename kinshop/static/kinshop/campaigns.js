// Campaign countdowns and the group's share button (no inline script: CSP).
// <span data-countdown="ISO time" data-ended-text="…"> shows "1d 02:03:04" / "02:03:04".
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.countdown) - Date.now()) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = el.dataset.endedText || "0:00:00"; return; }
      var days = Math.floor(left / 86400);
      var h = Math.floor((left % 86400) / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (days ? days + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    });
  }

  // The system share sheet where the browser has one; site.js copies the link otherwise.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-share-url]");
    if (!button || !navigator.share) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    navigator.share({ title: button.dataset.shareTitle || document.title, url: button.dataset.shareUrl })
      .catch(function () { /* the person closed the sheet */ });
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
