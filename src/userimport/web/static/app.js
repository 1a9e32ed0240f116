// userimport's own small script (no build step): the drop zone on the upload page, the
// Escape key in the row editor, and the editor's first cell focused when it opens (once: not
// with the autofocus attribute, which both htmx and the browser would act on, each at its
// own moment). Every listener sits on the document, so it keeps working after htmx swaps
// the page body. Without JavaScript the plain file input and the Cancel link do the same.
(function () {
  "use strict";
  function zone(event) {
    return event.target instanceof Element ? event.target.closest("#drop") : null;
  }
  function show(input) {
    var picked = document.getElementById("picked");
    if (picked && input.files && input.files.length) picked.textContent = input.files[0].name;
  }
  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var drop = zone(event);
      if (!drop) return;
      event.preventDefault();
      drop.classList.add("over");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var drop = zone(event);
    if (drop) drop.classList.remove("over");
  });
  document.addEventListener("drop", function (event) {
    var drop = zone(event);
    if (!drop) return;
    event.preventDefault();
    drop.classList.remove("over");
    var input = drop.querySelector("input[type=file]");
    if (input && event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show(input);
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.type === "file") show(event.target);
  });
  function focusFirst() {
    var first = document.querySelector("[data-autofocus]");
    if (first && document.activeElement !== first) first.focus();
  }
  document.addEventListener("htmx:afterSettle", focusFirst);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirst);
  } else {
    focusFirst();
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !(event.target instanceof Element)) return;
    var editor = event.target.closest("#editor");
    var cancel = editor && document.getElementById("cancel");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });
})();
