// Client of the plugin's HTTP API (data/plugin/netviz/...). URLs are relative:
// the plugin iframe's <base href="plugin/netviz/"> points them at the plugin.

const stepsCache = new Map(); // "run\0tag" -> Promise<steps response>
const imageCache = new Map(); // url -> Promise<HTMLImageElement>

/** Error carrying the HTTP status and the server's plain-text message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function getJson(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  const response = await fetch(`${path}${query}`, { credentials: "same-origin" });
  if (!response.ok) {
    const text = (await response.text()).trim().slice(0, 300);
    throw new ApiError(response.status, `${path}: HTTP ${response.status} ${text}`);
  }
  return response.json();
}

/**
 * Lists runs -> kind -> layer -> {tag, max_step, max_wall_time, samples}.
 * @returns {Promise<{runs:Object, logdirName:string}>} the `runs` object (empty
 *     when there is no data) and the name of the run that is the logdir
 *     itself (`logdir_name`; "" when there is none).
 */
export async function fetchRuns() {
  const body = await getJson("runs");
  const runs = body && typeof body.runs === "object" && body.runs ? body.runs : {};
  const logdirName = body && typeof body.logdir_name === "string" ? body.logdir_name : "";
  return { runs, logdirName };
}

/**
 * The steps of one run/tag, sorted by step; cached until `forgetCaches()`.
 * @returns {Promise<Array<{step:number, wall_time:number, samples:number,
 *     info:Object|null, error?:string}>>}
 */
export function fetchSteps(run, tag) {
  const key = `${run}\u0000${tag}`;
  if (!stepsCache.has(key)) {
    const promise = getJson("steps", { run, tag }).then((body) => body.steps || []);
    promise.catch(() => stepsCache.delete(key)); // let a later render retry
    stepsCache.set(key, promise);
  }
  return stepsCache.get(key);
}

/** The URL of one PNG: sample is the 0-based probe input (or image) index. */
export function imageUrl(run, tag, step, sample) {
  return `image?${new URLSearchParams({ run, tag, step: String(step), sample: String(sample) })}`;
}

/**
 * Loads a PNG into an <img> element (same origin, so canvases stay readable).
 * @returns {Promise<HTMLImageElement>} resolves once decoded.
 */
export function loadImage(url) {
  if (!imageCache.has(url)) {
    const promise = new Promise((resolve, reject) => {
      const img = new Image();
      img.decoding = "async";
      img.onload = () => resolve(img);
      img.onerror = () => reject(new ApiError(0, "image failed to load"));
      img.src = url;
    });
    promise.catch(() => imageCache.delete(url));
    imageCache.set(url, promise);
  }
  return imageCache.get(url);
}

/** Drops cached step lists (and images) so the next render sees new data. */
export function forgetCaches() {
  stepsCache.clear();
  if (imageCache.size > 500) imageCache.clear();
}
