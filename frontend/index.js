// Entry point. TensorBoard loads this module in the plugin iframe
// (data/plugin_entry.html?name=netviz, <base href="plugin/netviz/">) and calls
// render(). The other modules are served by the plugin under static/.

import { App } from "./static/app.js";

/** Builds the NetViz panel into the iframe's document. */
export function render() {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "static/style.css";
  document.head.appendChild(link);
  document.title = "NetViz";
  const root = document.createElement("div");
  root.className = "nv-root";
  root.dataset.state = "loading";
  document.body.appendChild(root);
  const app = new App(root);
  window.netviz = app; // handy from the console and for tests
  app.start();
}
