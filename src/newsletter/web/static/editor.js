// The issue editor on one screen: every edit is saved in the background (autosave) and the
// live preview follows; articles are added, removed, dismissed and moved without a page load;
// scheduling, sending and test copies save what is on screen first; keyboard shortcuts for
// the rows. The page works without it (plain forms), only slower.
(function () {
  "use strict";

  var form = document.getElementById("editor-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var stateBox = document.getElementById("save-state");
  var itemsBox = document.getElementById("items");
  var panelBox = document.getElementById("panel");
  var panelForm = document.getElementById("panel-form");
  var search = document.getElementById("panel-q");
  var live = document.getElementById("live");
  var frame = document.getElementById("live-frame");
  var textBox = document.getElementById("live-text");
  var editUrl = form.getAttribute("data-edit");
  var panelUrl = form.getAttribute("data-panel");
  var previewUrl = frame ? frame.getAttribute("src") : "";
  var textUrl = previewUrl.replace(/\.html$/, ".txt");

  var dirty = false;
  var broken = false;
  var saving = null;
  var again = false;
  var timer = null;
  var version = 0;
  var query = "";
  var page = 1;

  function fresh() { return { add: [], remove: [], dismiss: [], restructure: false }; }
  var pending = fresh();

  function show(state, text) {
    stateBox.setAttribute("data-state", state);
    stateBox.textContent = text;
  }

  function markDirty(delay) {
    dirty = true;
    show("dirty", "Modifications non enregistrées");
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay === undefined ? 700 : delay);
  }

  function body(sent) {
    var data = new FormData(form);
    data.delete("pick");
    data.delete("action");
    data.delete("move");
    data.delete("remove");
    data.delete("remove_picked");
    sent.add.forEach(function (id) { data.append("add", id); });
    sent.remove.forEach(function (id) { data.append("remove", id); });
    sent.dismiss.forEach(function (id) { data.append("dismiss", id); });
    if (sent.restructure) { data.append("restructure", "1"); }
    return data;
  }

  // Save the form as it is on screen; one request at a time, the latest state always last.
  function save() {
    window.clearTimeout(timer);
    timer = null;
    if (saving) { again = true; return saving; }
    var sent = pending;
    pending = fresh();
    var data = body(sent);
    dirty = false;
    show("saving", "Enregistrement…");
    saving = fetch(editUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (!response.ok) {
            var error = new Error(json.error || json.detail || ("erreur " + response.status));
            error.final = response.status === 409 || response.status === 403;
            throw error;
          }
          return json;
        });
      })
      .then(function (json) { broken = false; apply(json); })
      .catch(function (error) {
        broken = true;
        dirty = true;
        pending.add = sent.add.concat(pending.add);
        pending.remove = sent.remove.concat(pending.remove);
        pending.dismiss = sent.dismiss.concat(pending.dismiss);
        pending.restructure = pending.restructure || sent.restructure;
        show("error", "Non enregistré : " + error.message);
        if (!error.final) { timer = window.setTimeout(save, 5000); }
      })
      .then(function () {
        saving = null;
        if (again) { again = false; return save(); }
        return undefined;
      });
    return saving;
  }

  // Everything unsaved saved now; resolves true when nothing is left unsaved.
  function flush() {
    var waiting = (dirty || timer) ? save() : (saving || Promise.resolve());
    return waiting.then(function () {
      if (dirty && !broken) { return flush(); }
      return !dirty && !broken;
    });
  }

  function apply(json) {
    if (json.items && dirty) {
      // Typed since this save left: keep the rows (and what is typed); the next save redraws.
      pending.restructure = true;
    } else if (json.items) {
      var focused = document.activeElement;
      var focusId = focused && focused.closest ? focused.closest("li.item") : null;
      itemsBox.innerHTML = json.items;
      refreshMoves();
      if (focusId) {
        var back = document.getElementById(focusId.id);
        if (back) { back.setAttribute("tabindex", "-1"); back.focus(); }
      }
    }
    document.getElementById("checks").innerHTML = json.checks;
    document.getElementById("item-count").textContent = String(json.count);
    document.getElementById("shown-subject").textContent = json.subject;
    document.getElementById("shown-preheader").textContent = form.elements.preheader.value;
    refreshPreview();
    if (json.panel) { loadPanel(); }
    if (!dirty) { show("saved", "Enregistré"); }
  }

  // -- the live preview ------------------------------------------------------------------------

  function refreshPreview() {
    version += 1;
    if (frame) { frame.setAttribute("src", previewUrl + "?v=" + version); }
    if (live && live.getAttribute("data-view") === "text") { loadText(); }
  }

  function loadText() {
    fetch(textUrl + "?v=" + version, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (text) { textBox.textContent = text; });
  }

  document.querySelectorAll(".tabs [data-view]").forEach(function (button) {
    button.addEventListener("click", function () {
      var view = button.getAttribute("data-view");
      live.setAttribute("data-view", view);
      document.querySelectorAll(".tabs [data-view]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
      frame.hidden = view === "text";
      textBox.hidden = view !== "text";
      if (view === "text") { loadText(); }
    });
  });

  // -- the items -------------------------------------------------------------------------------

  function itemRows() { return Array.prototype.slice.call(itemsBox.querySelectorAll("li.item")); }

  function refreshMoves() {
    itemsBox.querySelectorAll("ol.rows").forEach(function (list) {
      var rows = Array.prototype.slice.call(list.children);
      rows.forEach(function (li, index) {
        var up = li.querySelector(".move-up");
        var down = li.querySelector(".move-down");
        if (up) { up.disabled = index === 0; }
        if (down) { down.disabled = index === rows.length - 1; }
      });
    });
  }

  function move(li, up) {
    var sibling = up ? li.previousElementSibling : li.nextElementSibling;
    if (!sibling) { return false; }
    if (up) { li.parentNode.insertBefore(li, sibling); } else { li.parentNode.insertBefore(sibling, li); }
    refreshMoves();
    markDirty(300);
    return true;
  }

  function removeRows(rows) {
    if (!rows.length) { return; }
    var next = rows[rows.length - 1].nextElementSibling || rows[0].previousElementSibling;
    rows.forEach(function (li) {
      pending.remove.push(li.getAttribute("data-id"));
      li.parentNode.removeChild(li);
    });
    pending.restructure = true;
    document.getElementById("item-count").textContent = String(itemRows().length);
    if (next) { next.setAttribute("tabindex", "-1"); next.focus(); }
    markDirty(0);
  }

  function picked(box) {
    return Array.prototype.slice.call(box.querySelectorAll("input.pick:checked")).map(function (input) {
      return input.closest("li.row");
    });
  }

  form.addEventListener("input", function (event) {
    if (event.target.classList && event.target.classList.contains("pick")) { return; }
    markDirty();
  });
  form.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("pick")) {
      event.target.closest("li.row").classList.toggle("picked", event.target.checked);
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.submitter;
    var name = button ? button.getAttribute("name") : "";
    if (name === "remove") {
      removeRows([button.closest("li.item")]);
    } else if (name === "remove_picked") {
      removeRows(picked(itemsBox));
    } else if (name === "move") {
      var li = button.closest("li.item");
      var up = button.classList.contains("move-up");
      if (move(li, up)) {
        var target = button.disabled ? li.querySelector(up ? ".move-down" : ".move-up") : button;
        if (target) { target.focus(); }
      }
    } else {
      save();
    }
  });

  // Drag and drop by the handle, within a section.
  var dragged = null;
  itemsBox.addEventListener("dragstart", function (event) {
    dragged = window.deskCommon.startDrag(event);
  });
  itemsBox.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    var over = event.target.closest ? event.target.closest("li.item") : null;
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) { return; }
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  itemsBox.addEventListener("drop", function (event) { if (dragged) { event.preventDefault(); } });
  itemsBox.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("dragging");
    dragged = null;
    refreshMoves();
    markDirty(300);
  });

  // -- the inbox panel -------------------------------------------------------------------------

  function loadPanel() {
    var url = panelUrl + "?q=" + encodeURIComponent(query) + "&page=" + page;
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var row = currentRow();
        var focused = row && panelBox.contains(row) ? row.getAttribute("data-id") : null;
        panelBox.innerHTML = html;
        if (focused) { focusRow(panelBox.querySelector("li.row[data-id='" + focused + "']")); }
      });
  }

  var searchTimer = null;
  if (search) {
    search.form.addEventListener("submit", function (event) {
      event.preventDefault();
      query = search.value;
      page = 1;
      loadPanel();
    });
    search.addEventListener("input", function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(function () {
        query = search.value;
        page = 1;
        loadPanel();
      }, 250);
    });
  }

  panelBox.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-page]") : null;
    if (!link) { return; }
    event.preventDefault();
    page = Number(link.getAttribute("data-page")) || 1;
    loadPanel();
  });
  panelBox.addEventListener("change", function (event) {
    if (event.target.classList.contains("pick")) {
      event.target.closest("li.row").classList.toggle("picked", event.target.checked);
    }
  });

  function addRows(rows, dismiss) {
    if (!rows.length) { return; }
    rows.forEach(function (li) {
      (dismiss ? pending.dismiss : pending.add).push(li.getAttribute("data-id"));
      li.classList.add("used");
      var input = li.querySelector("input.pick");
      if (input) { input.checked = false; input.disabled = true; }
    });
    if (!dismiss) { pending.restructure = true; }
    markDirty(0);
  }

  // A story's funding facts corrected (or cleared) from its row; the preview follows.
  function correctFunding(button) {
    var data = new FormData(panelForm);
    if (button.name) { data.append(button.name, button.value); }
    fetch(button.getAttribute("formaction"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        show(response.ok ? "saved" : "error", response.ok ? "Levée enregistrée" : "La levée n’a pas été enregistrée");
        loadPanel();
        refreshPreview();
      })
      .catch(function () { show("error", "La levée n’a pas été enregistrée"); });
  }

  panelForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.submitter;
    if (button && button.classList.contains("fund")) {
      correctFunding(button);
    } else if (button && button.classList.contains("add-one")) {
      addRows([button.closest("li.row")], false);
    } else if (button && button.classList.contains("dismiss-one")) {
      addRows([button.closest("li.row")], true);
    } else {
      addRows(picked(panelBox), button && button.id === "dismiss-picked");
    }
  });

  // -- keyboard shortcuts ------------------------------------------------------------------------

  function currentRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("li.row") : null;
  }

  function focusRow(li) {
    if (!li) { return; }
    li.setAttribute("tabindex", "-1");
    li.focus();
    li.scrollIntoView({ block: "nearest" });
  }

  function step(li, forward) {
    var box = li ? (itemsBox.contains(li) ? itemsBox : panelBox) : itemsBox;
    var rows = Array.prototype.slice.call(box.querySelectorAll("li.row"));
    if (!rows.length) { return; }
    var at = li ? rows.indexOf(li) : -1;
    focusRow(rows[Math.max(0, Math.min(rows.length - 1, at + (forward ? 1 : -1)))]);
  }

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      save();
      return;
    }
    var target = event.target;
    var typing = target.matches && target.matches("input:not([type=checkbox]), textarea, select");
    if (typing || event.ctrlKey || event.metaKey) { return; }
    var li = currentRow();
    var key = event.key;
    if (key === "/") { event.preventDefault(); search.focus(); return; }
    if (event.altKey && li && itemsBox.contains(li) && (key === "ArrowUp" || key === "ArrowDown")) {
      event.preventDefault();
      move(li, key === "ArrowUp");
      li.focus();
      return;
    }
    if (event.altKey) { return; }
    if (key === "j" || (key === "ArrowDown" && li)) { event.preventDefault(); step(li, true); return; }
    if (key === "k" || (key === "ArrowUp" && li)) { event.preventDefault(); step(li, false); return; }
    if (!li) { return; }
    var inItems = itemsBox.contains(li);
    if (key === "x" || (key === " " && target === li)) {
      event.preventDefault();
      var box = li.querySelector("input.pick");
      if (box && !box.disabled) {
        box.checked = !box.checked;
        li.classList.toggle("picked", box.checked);
      }
    } else if (key === "Enter" && target === li) {
      event.preventDefault();
      var details = li.querySelector("details");
      if (details) { details.open = !details.open; }
    } else if (key === "a" && !inItems) {
      event.preventDefault();
      var chosen = picked(panelBox);
      addRows(chosen.length ? chosen : [li], false);
      step(li, true);
    } else if (key === "d" && !inItems) {
      event.preventDefault();
      var dismissed = picked(panelBox);
      addRows(dismissed.length ? dismissed : [li], true);
      step(li, true);
    } else if ((key === "Delete" || key === "Backspace" || key === "r") && inItems) {
      event.preventDefault();
      var gone = picked(itemsBox);
      removeRows(gone.length ? gone : [li]);
    }
  });

  // -- schedule, send, test copy: what is on screen is saved first ------------------------------

  document.querySelectorAll("form.after-save").forEach(function (other) {
    other.addEventListener("submit", function (event) {
      event.preventDefault();
      flush().then(function (clean) { if (clean) { other.submit(); } });
    });
  });
  document.querySelectorAll("a.after-save").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      flush().then(function (clean) { if (clean) { window.location.href = link.href; } });
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty || saving) {
      save();
      event.preventDefault();
      event.returnValue = "";
    }
  });

  refreshMoves();
})();
