// Keyboard: ←/→ move the step, Escape closes the large view (then a
// concept's page, back to the layer's concepts). Tiles are
// focusable elements (Tab reaches them; Enter or Space opens the large view),
// and focus stays where a keyboard user expects it across re-renders.

import { replaceChildren } from "./dom.js";

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
    if (event.key === "Escape" && Number.isInteger(app.state.conceptId)) {
      event.preventDefault();
      app.update({ conceptId: null });
      return;
    }
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if (typingIn(event.target)) return;
    event.preventDefault();
    app.stepBy(event.key === "ArrowLeft" ? -1 : 1);
  });
}

/**
 * Replaces the main area's content, keeping keyboard focus: into a newly
 * opened large view (its close button), back to the tile of the channel whose
 * large view closed, else on the tile (channel) that had it.
 * @param {HTMLElement} main the panel's main area.
 * @param {Node} content its new content.
 * @param {?string} wasOpen the channel whose large view was open, or null.
 * @param {?Object} selected the state's `selected` ({channel}) or null.
 * @returns {?string} the channel whose large view is open now, or null.
 */
export function replaceKeepingFocus(main, content, wasOpen, selected) {
  const hadOverlay = Boolean(main.querySelector(".nv-overlay"));
  const active = document.activeElement;
  const focusedChannel = active && active.dataset ? active.dataset.channel : undefined;
  replaceChildren(main, [content]);
  const overlay = main.querySelector(".nv-overlay");
  if (overlay) {
    if (!hadOverlay) {
      const close = overlay.querySelector(".nv-close");
      if (close) close.focus({ preventScroll: true });
    }
    return selected ? String(selected.channel) : null;
  }
  const channel = hadOverlay ? wasOpen : focusedChannel;
  if (channel === undefined || channel === null) return null;
  const tile = main.querySelector(`.nv-columns [data-channel="${CSS.escape(String(channel))}"]`);
  if (tile) tile.focus({ preventScroll: !hadOverlay });
  return null;
}
