// Times in the browser's zone, for visitors and for members who chose no zone in their settings.
// The server writes such times in UTC, labelled, with `data-local`; here they are rewritten in the
// browser's zone. A meetup's line for "your time" (`data-your-time`) is filled in when the browser's zone
// differs from the venue's, and a new meetup's zone starts as the browser's. Without JavaScript the UTC
// text stays, and says it is UTC.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  var parts = {
    date: { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" },
    day: { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" },
    time: { hour: "2-digit", minute: "2-digit" }
  };

  // The zone's short name as the server writes it: "CST", "UTC", "UTC+9" (where there is no common name).
  function zoneName(instant) {
    var named = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" }).formatToParts(instant)
      .filter(function (part) { return part.type === "timeZoneName"; });
    return named.length ? named[0].value.replace(/^GMT/, "UTC") : zone;
  }

  function format(instant, kind, named) {
    var options = Object.assign({ timeZone: zone, hourCycle: "h23" }, parts[kind] || parts.date);
    var text = new Intl.DateTimeFormat("en-GB", options).format(instant).replace(" at ", ", ");
    return named ? text + " " + zoneName(instant) : text;
  }

  function sameDay(a, b) {
    var day = { timeZone: zone, year: "numeric", month: "numeric", day: "numeric" };
    return new Intl.DateTimeFormat("en-GB", day).format(a) === new Intl.DateTimeFormat("en-GB", day).format(b);
  }

  function localise(root) {
    root.querySelectorAll("time[data-local]").forEach(function (element) {
      var instant = new Date(element.getAttribute("datetime"));
      if (!isNaN(instant)) {
        element.textContent = format(instant, element.getAttribute("data-local"), true);
        element.removeAttribute("data-local");
      }
    });
    root.querySelectorAll("[data-your-time]").forEach(function (element) {
      var starts = new Date(element.getAttribute("data-starts"));
      var ends = new Date(element.getAttribute("data-ends"));
      if (zone !== element.getAttribute("data-zone") && !isNaN(starts) && !isNaN(ends)) {
        var end = format(ends, sameDay(starts, ends) ? "time" : "day", false);
        element.textContent = format(starts, "day", false) + " – " + end + " (" + zone + ")";
        element.hidden = false;
        if (element.getAttribute("data-your-time") === "first") {
          element.parentNode.insertBefore(element, element.parentNode.firstChild);
        }
      }
      element.removeAttribute("data-your-time");
    });
    root.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
      input.value = zone;
      input.removeAttribute("data-browser-zone");
    });
    root.querySelectorAll("select[data-browser-zone] option[value='']").forEach(function (option) {
      option.textContent = "My browser's (" + zone + ")";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  document.addEventListener("htmx:load", function (event) { localise(event.detail.elt.parentNode || document); });
})();
