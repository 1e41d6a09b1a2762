/* A live room's page, kept up to date by the room's event stream (Server-Sent
   Events). Everything a viewer wrote is set as text, never as markup. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function yuan(fen) {
    return "¥" + (fen / 100).toFixed(2);
  }

  onReady(function () {
    var root = document.querySelector("[data-live-room]");
    if (!root || !window.EventSource) return;
    var roomId = root.dataset.liveRoom;
    var list = root.querySelector("[data-live-messages]");
    var viewers = root.querySelector("[data-live-viewers]");
    var status = root.querySelector("[data-live-status]");
    var cards = root.querySelector("[data-live-cards]");
    var orders = root.querySelector("[data-live-orders]");

    // The page shows every event up to data-last-event-id; the stream goes on
    // from there, and the browser resumes with Last-Event-ID by itself.
    var url = "/api/v1/live-rooms/" + roomId + "/events?last_event_id=" +
      encodeURIComponent(root.dataset.lastEventId || "0");
    var source = new EventSource(url);

    function data(event) {
      try { return JSON.parse(event.data); } catch (error) { return null; }
    }

    source.addEventListener("message", function (event) {
      var message = data(event);
      if (!message || !list) return;
      var item = element("li");
      item.appendChild(element("b", message.author));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(element("span", message.text));
      list.appendChild(item);
      list.scrollTop = list.scrollHeight;
    });

    source.addEventListener("viewers", function (event) {
      var count = data(event);
      if (count && viewers) viewers.textContent = String(count.viewers);
    });

    source.addEventListener("status", function (event) {
      var change = data(event);
      if (!change || !status) return;
      status.textContent = status.dataset["text" + change.status.charAt(0).toUpperCase() + change.status.slice(1)] || change.status;
      status.className = "live-status live-status-" + change.status;
      if (change.status === "ended") source.close();
    });

    source.addEventListener("pin", function (event) {
      var pin = data(event);
      if (!pin || !cards) return;
      var old = cards.querySelector('[data-product="' + Number(pin.product_id) + '"]');
      if (old) old.remove();
      if (!pin.pinned) return;
      var card = element("li", undefined, "live-card");
      card.dataset.product = String(Number(pin.product_id));
      var link = element("a", pin.title);
      link.href = "/shop/" + encodeURIComponent(cards.dataset.shop) + "/p/" + Number(pin.product_id) + "/";
      card.appendChild(link);
      card.appendChild(element("span", pin.price === null ? "" : yuan(pin.price), "amount"));
      card.appendChild(element("span", pin.in_stock ? pin.stock + " " + cards.dataset.textLeft : cards.dataset.textSoldOut, "muted"));
      cards.insertBefore(card, cards.firstChild);
    });

    source.addEventListener("order", function (event) {
      var order = data(event);
      if (order && orders) orders.textContent = order.buyer + " " + orders.dataset.textBought + " " + order.titles.join(", ") + " ×" + order.items;
    });

    // Flash deals: a `deal` event shows a new deal or updates the units left;
    // every deal counts down to its start, then to its end, once a second.
    var deals = root.querySelector("[data-live-deals]");
    var dealList = deals && deals.querySelector("[data-live-deal-list]");
    var dealSelect = deals && deals.querySelector("[data-live-deal-select]");

    function leftText(deal) {
      return deal.left > 0 ? deal.left + " " + deals.dataset.textLeft : deals.dataset.textSoldOut;
    }

    function clockText(ms) {
      var seconds = Math.max(0, Math.floor(ms / 1000));
      var hours = Math.floor(seconds / 3600);
      var minutes = Math.floor((seconds % 3600) / 60);
      var rest = seconds % 60;
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      return (hours ? hours + ":" : "") + pad(minutes) + ":" + pad(rest);
    }

    function tick() {
      if (!dealList) return;
      var now = Date.now();
      dealList.querySelectorAll("[data-deal]").forEach(function (item) {
        var clock = item.querySelector("[data-deal-clock]");
        var starts = Date.parse(item.dataset.startsAt);
        var ends = Date.parse(item.dataset.endsAt);
        if (!clock || isNaN(starts) || isNaN(ends)) return;
        if (item.dataset.ended) {
          clock.textContent = deals.dataset.textEnded;
          item.classList.add("live-deal-over");
        } else if (now < starts) clock.textContent = deals.dataset.textStartsIn + " " + clockText(starts - now);
        else if (now < ends) clock.textContent = deals.dataset.textEndsIn + " " + clockText(ends - now);
        else {
          clock.textContent = deals.dataset.textEnded;
          item.classList.add("live-deal-over");
        }
      });
    }

    source.addEventListener("deal", function (event) {
      var deal = data(event);
      if (!deal || !dealList) return;
      var id = String(Number(deal.id));
      var item = dealList.querySelector('[data-deal="' + id + '"]');
      if (!item) {
        item = element("li", undefined, "live-deal");
        item.dataset.deal = id;
        item.appendChild(element("b", deal.title, "live-deal-title"));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(element("span", yuan(deal.price), "amount"));
        item.appendChild(document.createTextNode(" "));
        var left = element("span", "", "muted");
        left.dataset.dealLeft = "";
        item.appendChild(left);
        item.appendChild(document.createTextNode(" "));
        var clock = element("span", "", "live-deal-clock");
        clock.dataset.dealClock = "";
        clock.dataset.testid = "live-deal-clock";
        item.appendChild(clock);
        dealList.insertBefore(item, dealList.firstChild);
        if (dealSelect) {
          var option = element("option", deal.title + " — " + yuan(deal.price));
          option.value = id;
          dealSelect.insertBefore(option, dealSelect.firstChild);
          dealSelect.value = id;
        }
      }
      item.dataset.startsAt = deal.starts_at;
      item.dataset.endsAt = deal.ends_at;
      // A deal its shop ended early is over whatever its window says.
      if (deal.status === "ended") {
        item.dataset.ended = "1";
        var ended = dealSelect && dealSelect.querySelector('option[value="' + id + '"]');
        if (ended) ended.remove();
      }
      item.querySelector("[data-deal-left]").textContent = leftText(deal);
      deals.hidden = false;
      tick();
    });

    tick();
    window.setInterval(tick, 1000);

    // Chat without leaving the page; the message comes back through the stream.
    var form = root.querySelector("[data-live-say]");
    if (form) {
      var error = form.querySelector("[data-live-error]");
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = new FormData(form);
        fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", "X-CSRFToken": body.get("csrfmiddlewaretoken") },
        }).then(function (response) {
          if (response.ok) {
            form.reset();
            if (error) error.textContent = "";
            return null;
          }
          return response.json().then(function (answer) {
            if (error) error.textContent = answer.message || "";
          });
        }).catch(function () {
          if (error) error.textContent = "…";
        });
      });
    }
  });
})();
