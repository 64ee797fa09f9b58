/*
 * Beside each instant an admin page shows in UTC, the reader's local time,
 * when the browser gives it: "2026-12-06 17:00:05 UTC (18:00:05 local, UTC+1)".
 * Instants are marked with data-instant (an ISO instant) by the registry's
 * formatter; read-only fields and history rows written as
 * "YYYY-MM-DD HH:MM:SS UTC" are recognized by their text. Served from this
 * site (the Content-Security-Policy allows no other script source).
 */
(function () {
  "use strict";

  var WRITTEN = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/;

  function pad(value) {
    return String(value).padStart(2, "0");
  }

  function offsetText(date) {
    var minutes = -date.getTimezoneOffset();
    var sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    var rest = minutes % 60;
    return "UTC" + sign + Math.floor(minutes / 60) + (rest ? ":" + pad(rest) : "");
  }

  function localText(date) {
    var day = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
    var time = pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
    var sameDay = day === date.toISOString().slice(0, 10);
    return (sameDay ? "" : day + " ") + time + " local, " + offsetText(date);
  }

  function note(date) {
    if (isNaN(date.getTime()) || date.getTimezoneOffset() === 0) {
      return null; // unknown, or local time is UTC: nothing to add
    }
    var span = document.createElement("span");
    span.className = "registry-local-time";
    span.textContent = " (" + localText(date) + ")";
    return span;
  }

  function showLocalTimes() {
    document.querySelectorAll("[data-instant]").forEach(function (element) {
      var added = note(new Date(element.getAttribute("data-instant")));
      if (added) {
        element.insertAdjacentElement("afterend", added);
      }
    });
    document.querySelectorAll("div.readonly, #change-history td, table td").forEach(function (element) {
      if (element.children.length) {
        return;
      }
      var written = WRITTEN.exec(element.textContent.trim());
      var added = written && note(new Date(written[1] + "T" + written[2] + "Z"));
      if (added) {
        element.appendChild(added);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showLocalTimes);
  } else {
    showLocalTimes();
  }
})();
