// The desk's script (the editor has its own, editor.js): reorder articles by drag or with the Up/Down buttons without a page
// load, warn about unsaved changes, and follow a send's progress. Every form works without it.
(function () {
  "use strict";

  var form = document.getElementById("issue-form");
  var list = document.getElementById("items");
  var status = document.getElementById("dirty");
  var dirty = false;

  function say(message) {
    if (status) { status.textContent = message; }
  }

  function markDirty(message) {
    dirty = true;
    say(message || "Modifications non enregistrées");
  }

  function items() {
    return Array.prototype.slice.call(list.querySelectorAll("li.item"));
  }

  function renumber() {
    var all = items();
    all.forEach(function (li, index) {
      var num = li.querySelector(".num");
      if (num) { num.textContent = String(index + 1); }
      var up = li.querySelector(".move-up");
      var down = li.querySelector(".move-down");
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === all.length - 1; }
    });
  }

  function titleOf(li) {
    var input = li.querySelector("input[name^='title-']");
    return input ? input.value : "";
  }

  if (form && list) {
    form.addEventListener("input", function () { markDirty(); });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });

    // Up/Down buttons: move in place, keep the focus on the moved article.
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button.move-up, button.move-down");
      if (!button) { return; }
      event.preventDefault();
      var li = button.closest("li.item");
      var up = button.classList.contains("move-up");
      var sibling = up ? li.previousElementSibling : li.nextElementSibling;
      if (!sibling) { return; }
      if (up) { list.insertBefore(li, sibling); } else { list.insertBefore(sibling, li); }
      renumber();
      var position = items().indexOf(li) + 1;
      markDirty("« " + titleOf(li) + " » déplacé en position " + position + " — non enregistré");
      var target = button.disabled ? li.querySelector(up ? ".move-down" : ".move-up") : button;
      if (target) { target.focus(); }
    });

    // Drag and drop by the handle.
    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = window.deskCommon.startDrag(event);
    });
    list.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      var over = event.target.closest("li.item");
      if (!over || over === dragged) { event.preventDefault(); return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      items().forEach(function (li) { li.classList.toggle("over", li === over); });
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextElementSibling : over);
    });
    list.addEventListener("drop", function (event) {
      if (dragged) { event.preventDefault(); }
    });
    list.addEventListener("dragend", function () {
      if (!dragged) { return; }
      dragged.classList.remove("dragging");
      items().forEach(function (li) { li.classList.remove("over"); });
      renumber();
      var position = items().indexOf(dragged) + 1;
      markDirty("« " + titleOf(dragged) + " » déplacé en position " + position + " — non enregistré");
      dragged = null;
    });
  }

  // Progress of a send: poll a small JSON endpoint; the counts and the banner follow it (the
  // banner goes when the send ends); reload when the state changes.
  var progress = document.getElementById("progress");
  if (progress && window.fetch) {
    var url = progress.getAttribute("data-progress");
    var state = progress.getAttribute("data-state");
    var watched = state === "sending" || state === "scheduled";
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          ["total", "sent", "pending", "failed", "skipped", "uncertain"].forEach(function (key) {
            var cells = "#progress [data-count='" + key + "'], #sending-banner [data-count='" + key + "']";
            document.querySelectorAll(cells).forEach(function (cell) {
              cell.textContent = Number(data[key]).toLocaleString("fr-FR");
            });
          });
          var banner = document.getElementById("sending-banner");
          if (banner && !data.sending) { banner.parentNode.removeChild(banner); }
          var bar = progress.querySelector(".progress");
          if (bar) {
            bar.setAttribute("aria-valuenow", String(data.percent));
            bar.firstElementChild.style.width = data.percent + "%";
          }
          if (data.state !== state) { window.location.reload(); return; }
          window.setTimeout(poll, 3000);
        })
        .catch(function () { window.setTimeout(poll, 10000); });
    };
    if (watched) { window.setTimeout(poll, 1500); }
  }
})();
