// Copy buttons: <button data-copy="URL" hidden>. They stay hidden without JavaScript, where the URL
// beside them is selectable text; with it, a click puts the URL on the clipboard.
"use strict";

function showCopyButtons(root) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => showCopyButtons(document));
document.addEventListener("htmx:afterSwap", (event) => showCopyButtons(event.target));

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select the link and copy it";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});
