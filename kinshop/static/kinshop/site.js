/* Kinshop: the little behaviour pages need beyond HTMX. No framework. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // Toasts: close on click, fade after a few seconds (errors stay until closed).
  function wireToasts(root) {
    root.querySelectorAll(".toast").forEach(function (toast) {
      var close = toast.querySelector(".toast-close");
      if (close) close.addEventListener("click", function () { toast.remove(); });
      if (!toast.classList.contains("toast-error")) {
        setTimeout(function () { toast.classList.add("is-leaving"); }, 4500);
        setTimeout(function () { toast.remove(); }, 5000);
      }
    });
  }

  // Payment deadline: <span data-deadline="ISO" data-expired-text="…">.
  function tick() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.deadline) - Date.now()) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = el.dataset.expiredText || "0:00"; return; }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    });
  }

  // Copy a share link: the clipboard API where allowed, a selected field otherwise.
  function copyText(text, button) {
    function done(ok) {
      var label = ok ? button.dataset.copied : button.dataset.failed;
      if (label) {
        var original = button.dataset.label || button.textContent;
        button.dataset.label = original;
        button.textContent = label;
        setTimeout(function () { button.textContent = original; }, 2000);
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { fallback(); });
    } else {
      fallback();
    }
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      done(ok);
    }
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      event.preventDefault();
      copyText(copy.dataset.copy, copy);
      return;
    }
    var close = event.target.closest("[data-close-sheet]");
    if (close || event.target.classList.contains("sheet-backdrop")) {
      event.preventDefault();
      var sheet = document.getElementById("sheet");
      if (sheet) sheet.innerHTML = "";
      return;
    }
    var step = event.target.closest("[data-step]");
    if (step) {
      var input = step.parentElement.querySelector("input[type=number]");
      if (input) {
        var value = (parseInt(input.value, 10) || 1) + parseInt(step.dataset.step, 10);
        var min = parseInt(input.min || "1", 10), max = parseInt(input.max || "999", 10);
        input.value = Math.max(min, Math.min(max, value));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var sheet = document.getElementById("sheet");
      if (sheet) sheet.innerHTML = "";
    }
  });

  onReady(function () {
    wireToasts(document);
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", function (event) { wireToasts(event.target); });
})();
