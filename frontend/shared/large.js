// The large view: a dialog over the panel, inside the viewport wherever the
// clicked tile was. Escape, the close button or a click outside closes it.

import { el } from "./dom.js";

/**
 * Wraps the large view's content in an overlay dialog.
 * @param {string} title e.g. "Channel 3".
 * @param {Array<Node>} children the dialog's content.
 * @param {function()} close called to close it.
 * @param {Array<Node>} [actions] buttons for the dialog's header.
 */
export function largeView(title, children, close, actions = []) {
  const closeButton = el("button", {
    type: "button", class: "nv-icon-button nv-close nv-link", text: "✕", title: "close (Escape)", "aria-label": "close",
    on: { click: close },
  });
  const dialog = el("section", { class: "nv-detail", role: "dialog", "aria-modal": "true", "aria-label": title }, [
    el("div", { class: "nv-detail-head" }, [el("h3", { text: title }), el("div", { class: "nv-spacer" }), ...actions, closeButton]),
    el("div", { class: "nv-detail-body" }, children),
  ]);
  const overlay = el("div", { class: "nv-overlay" }, [dialog]);
  overlay.addEventListener("mousedown", (event) => {
    if (event.target === overlay) close();
  });
  // Keep Tab inside the dialog while it is open.
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = [...dialog.querySelectorAll("button, input, select, [tabindex='0']")].filter((n) => !n.disabled);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  return overlay;
}

/** A tile's name: "unit" for dense layers, "channel" otherwise. */
export function unitWord(dense, capital = false) {
  const word = dense ? "unit" : "channel";
  return capital ? word[0].toUpperCase() + word.slice(1) : word;
}
