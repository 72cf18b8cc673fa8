// idlescale dashboard: approve and deny pending approval requests, and
// reload on the configured interval. Everything from the server is set
// with textContent, never as HTML.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var status = document.getElementById("status");

  function say(text) {
    status.textContent = text;
  }

  function decide(button, verb) {
    var id = button.getAttribute("data-id");
    var row = button.closest("tr");
    var buttons = row.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch("api/approvals/" + encodeURIComponent(id) + "/" + verb, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ comment: (verb === "approve" ? "approved" : "denied") + " from the dashboard" })
    }).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) {
        say(verb + " failed: " + (res.body.error || "unknown error"));
        buttons.forEach(function (b) { b.disabled = false; });
        return;
      }
      var cell = row.querySelector("td.decide");
      cell.textContent = res.body.request.state + " by " + res.body.request.decided_by;
      row.setAttribute("data-state", res.body.request.state);
      say("request " + id + " " + res.body.request.state);
    }).catch(function (err) {
      say(verb + " failed: " + err);
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  document.querySelectorAll("button.approve").forEach(function (b) {
    b.addEventListener("click", function () { decide(b, "approve"); });
  });
  document.querySelectorAll("button.deny").forEach(function (b) {
    b.addEventListener("click", function () { decide(b, "deny"); });
  });

  var refresh = parseInt(document.querySelector('meta[name="refresh-seconds"]').getAttribute("content"), 10);
  if (refresh > 0) {
    setTimeout(function () { location.reload(); }, refresh * 1000);
  }
  document.body.setAttribute("data-ready", "true");
})();
