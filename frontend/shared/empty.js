// Empty states and error boxes: say what is missing and how to add it.

import { el } from "./dom.js";

const CALLBACK_CODE = [
  "from tb_netviz import NetVizCallback",
  "",
  "log_dir = \"logs/run1\"",
  "model.fit(x, y, epochs=10, callbacks=[",
  "    keras.callbacks.TensorBoard(log_dir),  # optional, same log_dir is fine",
  "    NetVizCallback(log_dir, probe=x[:8]),",
  "])",
].join("\n");

const KIND_HINTS = {
  activations: "NetVizCallback(log_dir, probe=x[:8]) logs activations every epoch (activations_freq=1).",
  ascent: "Add ascent_freq=5 to NetVizCallback (feature visualization every 5 epochs).",
  deconvnet: "Add deconv_freq=5 to NetVizCallback (deconv_method chooses deconvnet and/or guided_backprop).",
  guided_backprop: "Add deconv_freq=5 to NetVizCallback (deconv_method chooses deconvnet and/or guided_backprop).",
  accentuation: "Add deconv_freq=5 and accentuate=True to NetVizCallback (feature accentuation of the probe inputs).",
};

/** The panel when the logdir holds no NetViz data at all. */
export function emptyState() {
  return el("div", { class: "nv-empty-state" }, [
    el("h2", { text: "No NetViz data yet" }),
    el("p", {
      text: "This panel shows a Keras model's activations, feature visualizations and deconvnet / " +
        "guided-backprop reconstructions, logged while it trains. None were found in this logdir.",
    }),
    el("p", { text: "Add the callback to model.fit, with a few fixed inputs as the probe:" }),
    el("pre", { class: "nv-code", text: CALLBACK_CODE }),
    el("p", {}, [
      "Then start TensorBoard on the parent directory, ",
      el("code", { text: "tensorboard --logdir logs" }),
      "; this panel checks for new data every 10 seconds (and on TensorBoard's reload button). To try it first: ",
      el("code", { text: "python -m tb_netviz.demo --logdir demo_logs" }),
      ".",
    ]),
    el("p", { class: "nv-note" }, [
      "Custom training loops: build ",
      el("code", { text: "tb_netviz.loggers.ActivationsLogger(model, probe, layers)" }),
      " once and call its ",
      el("code", { text: "log(step)" }),
      " inside a tf.summary writer's as_default() block. A saved model without training: ",
      el("code", { text: "tb-netviz log model.keras --probe images/ --logdir logs/model" }),
      ".",
    ]),
  ]);
}

/** A note for a view whose kind the chosen runs did not log. */
export function kindEmpty(kind, layer, runs) {
  const what = layer ? `layer ${layer}` : "any layer";
  return el("div", { class: "nv-empty-state nv-small-empty" }, [
    el("h3", { text: `No ${kind} data for ${what} in the chosen runs` }),
    el("p", { text: runs.length ? "Choose another run or layer in the sidebar." : "Choose a run in the sidebar." }),
    el("p", { class: "nv-note", text: KIND_HINTS[kind] || "" }),
  ]);
}

/** An error message with the error's text (as text). */
export function errorBox(message, error) {
  return el("div", { class: "nv-error", role: "alert" }, [
    el("strong", { text: message }),
    el("div", { class: "nv-note", text: error ? String(error.message || error) : "" }),
  ]);
}
