// Tiny DOM helpers. Every string from the data (run, tag, layer names, error
// texts) reaches the page through textContent or an attribute value, never as
// markup, so a run named "<img src=x onerror=...>" is just text.

/**
 * Creates an element.
 * @param {string} tag element name.
 * @param {Object} [props] `class`, `text`, `title`, `style` (object), `on`
 *     (event name -> handler), `dataset` (object), other keys set as attributes
 *     (booleans toggle the attribute).
 * @param {Array<Node|string|null>} [children] nodes, or strings made into text nodes.
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "style") Object.assign(node.style, value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") {
      for (const [type, handler] of Object.entries(value)) node.addEventListener(type, handler);
    } else if (typeof value === "boolean") node.toggleAttribute(key, value);
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/** Appends nodes or strings (as text) to a parent; skips null/undefined/false. */
export function append(parent, children) {
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return parent;
}

/** Removes every child of a node. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** Replaces the children of a node. */
export function replaceChildren(node, children) {
  clear(node);
  return append(node, children);
}

/** Formats a number for display: 4 significant digits, "n/a" for null/NaN. */
export function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "n/a";
  if (!Number.isFinite(x)) return x > 0 ? "+inf" : "-inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/** A small warning badge, e.g. for non-finite values. */
export function flag(text, title) {
  return el("span", { class: "nv-flag", text: `⚠ ${text}`, title });
}

/** Event handlers for an element that acts like a button: click, Enter or Space. */
export function activate(handler) {
  return {
    click: handler,
    keydown: (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        handler();
      }
    },
  };
}
