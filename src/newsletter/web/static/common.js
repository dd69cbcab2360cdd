// What the desk's script (desk.js) and the editor's (editor.js) share, loaded before both.
(function () {
  "use strict";

  window.deskCommon = {
    // A drag begun on a row's handle: the row (li.item), marked as dragged; anything else is
    // not dragged (null).
    startDrag: function (event) {
      var handle = event.target.closest ? event.target.closest(".handle") : null;
      if (!handle) { event.preventDefault(); return null; }
      var row = handle.closest("li.item");
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.getAttribute("data-id"));
      event.dataTransfer.setDragImage(row, 20, 20);
      return row;
    }
  };
})();
