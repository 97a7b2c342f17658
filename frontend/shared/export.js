// Export: a card as one PNG (what it shows: its pictures at their on-screen
// size, crisp, with its labels), and a filmstrip as one PNG strip.

/** Offers a canvas as a PNG download named `filename`. */
export function downloadCanvas(canvas, filename) {
  const name = filename.replace(/[^\w.\-]+/g, "_");
  return new Promise((resolve) => {
    canvas.toBlob((blob) => {
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      document.documentElement.dataset.lastExport = `${name} ${canvas.width}x${canvas.height}`;
      resolve(name);
    }, "image/png");
  });
}

function visible(node) {
  const style = getComputedStyle(node);
  return style.display !== "none" && style.visibility !== "hidden" && node.getClientRects().length > 0;
}

/**
 * Draws an element's pictures (canvas, img) and text at their on-screen
 * places into one canvas, on its background colour.
 */
export function elementToCanvas(node, scale = 2) {
  const box = node.getBoundingClientRect();
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(box.width * scale));
  canvas.height = Math.max(1, Math.round(box.height * scale));
  const g = canvas.getContext("2d");
  g.scale(scale, scale);
  g.fillStyle = getComputedStyle(node).backgroundColor || "#fff";
  if (g.fillStyle === "rgba(0, 0, 0, 0)") g.fillStyle = getComputedStyle(document.body).backgroundColor;
  g.fillRect(0, 0, box.width, box.height);
  g.imageSmoothingEnabled = false;
  for (const pic of node.querySelectorAll("canvas, img")) {
    if (!visible(pic) || pic.classList.contains("nv-src")) continue;
    const r = pic.getBoundingClientRect();
    try {
      g.drawImage(pic, r.left - box.left, r.top - box.top, r.width, r.height);
    } catch {
      // an image that failed to load: leave its place empty
    }
  }
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const parent = text.parentElement;
    if (!text.textContent.trim() || !parent || !visible(parent) || parent.closest("button, select, .nv-no-export")) continue;
    const style = getComputedStyle(parent);
    const range = document.createRange();
    range.selectNodeContents(text);
    const r = range.getBoundingClientRect();
    g.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    g.fillStyle = style.color;
    g.textBaseline = "middle";
    g.fillText(text.textContent.trim(), r.left - box.left, r.top - box.top + r.height / 2, Math.max(1, box.right - r.left));
  }
  return canvas;
}

/** Downloads a card as a PNG. */
export function exportCard(card, filename) {
  return downloadCanvas(elementToCanvas(card), filename);
}

/**
 * One PNG strip: for each row (a run), its frames side by side at native
 * resolution × `zoom`, the step under each frame, the run name on the left.
 * @param {Array<{label:string, color:string, frames:Array<{canvas:?HTMLCanvasElement, step:number}>}>} rows
 */
export function filmstripCanvas(rows, zoom, colors = { bg: "#ffffff", fg: "#212121" }) {
  const frameW = Math.max(1, ...rows.flatMap((r) => r.frames.map((f) => (f.canvas ? f.canvas.width : 0)))) * zoom;
  const frameH = Math.max(1, ...rows.flatMap((r) => r.frames.map((f) => (f.canvas ? f.canvas.height : 0)))) * zoom;
  const labelW = 140;
  const gap = 4;
  const rowH = frameH + 18;
  const n = Math.max(1, ...rows.map((r) => r.frames.length));
  const canvas = document.createElement("canvas");
  canvas.width = labelW + n * (frameW + gap);
  canvas.height = rows.length * (rowH + gap) + gap;
  const g = canvas.getContext("2d");
  g.fillStyle = colors.bg;
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.imageSmoothingEnabled = false;
  g.font = "12px Roboto, Arial, sans-serif";
  g.textBaseline = "middle";
  rows.forEach((row, i) => {
    const y = gap + i * (rowH + gap);
    g.fillStyle = row.color || colors.fg;
    g.fillRect(0, y, 4, frameH);
    g.fillStyle = colors.fg;
    g.fillText(row.label, 8, y + frameH / 2, labelW - 12);
    row.frames.forEach((frame, j) => {
      const x = labelW + j * (frameW + gap);
      if (frame.canvas) g.drawImage(frame.canvas, x, y, frame.canvas.width * zoom, frame.canvas.height * zoom);
      g.fillStyle = colors.fg;
      g.textAlign = "center";
      g.fillText(String(frame.step), x + frameW / 2, y + frameH + 9);
      g.textAlign = "left";
    });
  });
  return canvas;
}
