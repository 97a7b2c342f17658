// Keyboard: ←/→ move the step, Escape closes the large view. Tiles are
// focusable elements (Tab reaches them; Enter or Space opens the large view).

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);

function typingIn(target) {
  if (!target || !TYPING.has(target.tagName)) return false;
  // A range input moves itself with the arrows (and then updates the step).
  return !(target.tagName === "INPUT" && target.type === "checkbox");
}

/** Installs the panel's keyboard handlers on the iframe's window. */
export function bindKeys(app) {
  window.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Escape" && app.state.selected) {
      event.preventDefault();
      app.update({ selected: null });
      return;
    }
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if (typingIn(event.target)) return;
    event.preventDefault();
    app.stepBy(event.key === "ArrowLeft" ? -1 : 1);
  });
}
