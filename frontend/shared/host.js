// The panel's ties to TensorBoard's page around its iframe: the plugin host's
// message port (experimental.* messages), its dark mode and its URL hash.
//
// The iframe (data/plugin_entry.html) is same-origin with TensorBoard's page,
// so the host's <body class="dark-mode"> and location.hash are readable here.
// Every access to window.parent is guarded: opened on its own, the panel
// follows the OS colour scheme and keeps no URL state.

const PREFIX = "p.netviz.";

/** The host window when it is a same-origin TensorBoard page, else null. */
function hostWindow() {
  try {
    if (window.parent === window) return null;
    void window.parent.document.body; // throws when cross-origin
    return window.parent;
  } catch {
    return null;
  }
}

/**
 * The plugin host's message channel (TensorBoard's `experimental.bootstrap`
 * protocol: JSON messages {type, id, payload, error, isReply} on a MessagePort).
 */
export class HostPort {
  constructor() {
    this.id = 0;
    this.waits = new Map();
    this.listeners = new Map();
    this.port = null;
    if (window.parent === window) return;
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.addEventListener("message", (event) => this.onMessage(event));
    this.port.start();
    window.parent.postMessage("experimental.bootstrap", "*", [channel.port2]);
  }

  /** Calls `handler(payload)` on each host message of a type. */
  listen(type, handler) {
    this.listeners.set(type, handler);
  }

  async onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.isReply) {
      const wait = this.waits.get(message.id);
      if (!wait) return;
      this.waits.delete(message.id);
      if (message.error) wait.reject(new Error(message.error));
      else wait.resolve(message.payload);
      return;
    }
    let payload = null;
    let error = null;
    const handler = this.listeners.get(message.type);
    if (handler) {
      try {
        payload = (await handler(message.payload)) ?? null;
      } catch (e) {
        error = String(e);
      }
    }
    this.post({ type: message.type, id: message.id, payload, error, isReply: true });
  }

  post(message) {
    if (this.port) this.port.postMessage(JSON.stringify(message));
  }

  /** Sends a request; resolves to the reply, or rejects after `timeoutMs`. */
  request(type, payload, timeoutMs = 1500) {
    if (!this.port) return Promise.reject(new Error("no plugin host"));
    const id = this.id++;
    return new Promise((resolve, reject) => {
      this.waits.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.waits.delete(id)) reject(new Error(`${type}: no answer`));
      }, timeoutMs);
      this.post({ type, id, payload, error: null, isReply: false });
    });
  }
}

/**
 * Follows TensorBoard's theme: the host body's `dark-mode` class, live (a
 * MutationObserver); the OS preference when there is no host page.
 * @param {function(boolean)} apply called with `dark` now and on each change.
 */
export function followDarkMode(apply) {
  const host = hostWindow();
  const media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const current = () => (host ? host.document.body.classList.contains("dark-mode") : Boolean(media && media.matches));
  let last = null;
  const check = () => {
    const dark = current();
    if (dark !== last) {
      last = dark;
      apply(dark);
    }
  };
  check();
  if (host) {
    new MutationObserver(check).observe(host.document.body, { attributes: true, attributeFilter: ["class"] });
  }
  // TensorBoard follows the browser until the user picks a theme; it applies
  // the OS change itself, the check above then sees the class change.
  if (media && media.addEventListener) media.addEventListener("change", () => setTimeout(check, 50));
}

/** Parses TensorBoard's hash (`#tab&key=value&...`) into [tab, Map]. */
function parseHash(hash) {
  const params = new Map();
  let tab = null;
  for (const part of hash.replace(/^#/, "").split("&")) {
    if (!part) continue;
    const pieces = part.split("=");
    if (pieces.length === 1) tab = decodeURIComponent(pieces[0]);
    else if (pieces.length === 2) params.set(decodeURIComponent(pieces[0]), decodeURIComponent(pieces[1]));
  }
  return [tab, params];
}

/** The `p.netviz.*` parameters of the host's hash, read directly (no prefix). */
export function readHashParams() {
  const host = hostWindow();
  if (!host) return {};
  const [, params] = parseHash(host.location.hash);
  const out = {};
  for (const [key, value] of params) if (key.startsWith(PREFIX)) out[key.slice(PREFIX.length)] = value;
  return out;
}

/**
 * Calls `handler(params)` with the host hash's `p.netviz.*` parameters on each
 * "hashchange" of the host while NetViz is its tab: a link pasted into the
 * address bar (no reload), the back button, and the panel's own writes
 * (`writeHashParams` announces them), which the handler tells apart.
 * @returns {boolean} whether there is a host page to follow.
 */
export function onHashParams(handler) {
  const host = hostWindow();
  if (!host) return false;
  const listener = () => {
    const [tab] = parseHash(host.location.hash);
    if (tab === null || tab === "netviz") handler(readHashParams());
  };
  host.addEventListener("hashchange", listener);
  // The host page outlives this frame: leave no listener into a closed frame.
  window.addEventListener("pagehide", () => host.removeEventListener("hashchange", listener));
  return true;
}

/**
 * The panel's URL parameters: asked of the plugin host
 * (`experimental.GetURLPluginData`), and read from the host's hash, which wins:
 * TensorBoard 2.x answers from a parsed copy of its hash that is only filled
 * on a "hashchange", so on a fresh page load it answers `{}`.
 */
export async function loadUrlParams(port) {
  let fromHost = {};
  try {
    const data = await port.request("experimental.GetURLPluginData", { pluginName: "netviz" }, 1200);
    if (data && typeof data === "object") fromHost = data;
  } catch {
    // an older host, or none
  }
  return { ...fromHost, ...readHashParams() };
}

/**
 * Writes the panel's parameters into the host's hash as `p.netviz.<key>`,
 * keeping TensorBoard's own keys, without adding a history entry. Only while
 * NetViz is the active tab, so another dashboard's URL is never touched.
 * @param {Object<string,string>} params values to keep; others are dropped.
 * @returns {boolean} whether the hash was written.
 */
export function writeHashParams(params) {
  const host = hostWindow();
  if (!host) return false;
  const [tab, current] = parseHash(host.location.hash);
  if (tab !== null && tab !== "netviz") return false;
  const parts = [tab === null ? "netviz" : tab];
  for (const [key, value] of current) {
    if (!key.startsWith(PREFIX)) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  for (const [key, value] of Object.entries(params)) {
    parts.push(`${encodeURIComponent(PREFIX + key)}=${encodeURIComponent(value)}`);
  }
  const hash = `#${parts.join("&")}`;
  if (hash === host.location.hash) return false;
  const oldURL = host.location.href;
  const url = new URL(oldURL);
  url.hash = hash;
  host.history.replaceState(host.history.state, "", url.toString());
  // TensorBoard keeps a parsed copy of its hash, refreshed on "hashchange";
  // replaceState fires none, so announce it (else its next write drops ours).
  host.dispatchEvent(new host.HashChangeEvent("hashchange", { oldURL, newURL: url.toString() }));
  return true;
}
