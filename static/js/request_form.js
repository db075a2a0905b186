// Live cost estimate on the request form: asks the portal (GET, read-only) as the amount changes.
(function () {
  "use strict";
  var output = document.getElementById("estimate");
  if (!output || !window.fetch) {
    return;
  }
  var url = output.getAttribute("data-estimate-url");
  var resource = output.getAttribute("data-resource");
  var slot = output.getAttribute("data-mode") === "slot";
  var input = document.getElementById(slot ? "requested_minutes" : "quantity");
  if (!input) {
    return;
  }
  var timer = null;
  var latest = 0;

  function show(lines, total) {
    while (output.firstChild) {
      output.removeChild(output.firstChild);
    }
    if (lines.length) {
      var list = document.createElement("ul");
      list.className = "list-unstyled mb-1";
      lines.forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      });
      output.appendChild(list);
    }
    var summary = document.createElement("p");
    summary.className = "fw-semibold mb-0";
    summary.textContent = total;
    output.appendChild(summary);
  }

  function update() {
    var value = input.value.trim();
    if (!/^\d+$/.test(value) || value === "0") {
      return;
    }
    var query = new URLSearchParams({ resource: resource });
    query.set(slot ? "minutes" : "quantity", value);
    var ticket = ++latest;
    fetch(url + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (body) {
        if (ticket !== latest) {
          return; // an answer to an older value
        }
        if (body.ok) {
          show(body.lines, body.text);
        } else {
          show([], body.message);
        }
      })
      .catch(function () {
        /* keep the last estimate shown */
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  });
  input.addEventListener("change", update);
})();

// The requested time and preferred dates are required only when no session is picked on the
// calendar (the server checks them then): their required stars follow the ticks.
(function () {
  "use strict";
  var picker = document.getElementById("slot-picker");
  if (!picker) {
    return;
  }
  var boxes = picker.querySelectorAll('input[type="checkbox"][name="slot"]');
  if (!boxes.length) {
    return; // held sessions: nothing to pick
  }
  var elsewhere = parseInt(picker.getAttribute("data-sessions-elsewhere") || "0", 10) > 0;

  function starFor(id) {
    var label = document.querySelector('label[for="' + id + '"]');
    if (!label) {
      return null;
    }
    var next = label.nextElementSibling;
    if (next && next.tagName === "SPAN" && next.textContent.trim() === "*") {
      return next;
    }
    var star = document.createElement("span");
    star.className = "text-danger";
    star.setAttribute("aria-hidden", "true");
    star.textContent = "*";
    label.parentNode.insertBefore(star, label.nextSibling);
    label.parentNode.insertBefore(document.createTextNode(" "), star);
    return star;
  }

  var stars = ["requested_minutes", "preferred_dates"].map(starFor).filter(Boolean);

  function update() {
    var picked =
      elsewhere ||
      Array.prototype.some.call(boxes, function (box) {
        return box.checked;
      });
    stars.forEach(function (star) {
      star.hidden = picked;
    });
  }

  picker.addEventListener("change", update);
  update();
})();
