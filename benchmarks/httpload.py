"""HTTP clients for `bench_load.py`: keep-alive threads, request mix, checks."""

from __future__ import annotations

import http.client
import random
import threading
import time
import urllib.parse

import common

PROBES = 2
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONTENT_TYPES = {"runs": "application/json", "steps": "application/json"}
CONTENT_TYPES["image"] = "image/png"
ROUTES = ("runs", "steps", "image")


def path_for(route: str, run: int, layer: int, step: int = 0, sample: int = 0) -> str:
    if route == "runs":
        return "/data/plugin/netviz/runs"
    query = {"run": f"run_{run:03d}/netviz", "tag": f"activations/layer{layer}"}
    if route == "image":
        query.update(step=step, sample=sample)
    return f"/data/plugin/netviz/{route}?{urllib.parse.urlencode(query)}"


def check(route: str, status: int, content_type: str | None, body: bytes) -> str | None:
    """Why a response is wrong, or None."""
    if status != 200:
        return f"status {status}: {body[:120]!r}"
    if content_type != CONTENT_TYPES[route]:
        return f"content type {content_type!r}"
    good = body.startswith(PNG_SIGNATURE if route == "image" else b'{"run')
    return None if good else f"body {body[:60]!r}"


def clients(tb, threads: int, next_request, deadline: float | None = None) -> dict:
    """`threads` keep-alive clients sending `next_request(rng)` -> (route, path)
    (None: stop) until it stops or `deadline`; returns latencies and errors."""
    latencies = {r: [] for r in ROUTES}
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", tb.port, timeout=60)
        while deadline is None or time.monotonic() < deadline:
            with lock:
                request = next_request(rng)
            if request is None:
                break
            route, path = request
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                ctype = response.getheader("Content-Type")
                why = check(route, response.status, ctype, body)
            except (OSError, http.client.HTTPException) as e:
                why = f"{type(e).__name__}: {e}"
                conn.close()  # reconnects on the next request
            with lock:
                latencies[route].append(time.perf_counter() - start)
                if why:
                    errors.append(f"{path}: {why}")
        conn.close()

    start = time.perf_counter()
    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    routes = {}
    for r, seconds in latencies.items():
        ms = [1000 * s for s in seconds]
        routes[r] = {
            "requests": len(ms),
            "per_s": len(ms) / wall,
            "p50_ms": common.percentile(ms, 50),
            "p99_ms": common.percentile(ms, 99),
            "max_ms": max(ms, default=float("nan")),
        }
    total = sum(len(v) for v in latencies.values())
    return {
        "wall_s": wall,
        "requests": total,
        "per_s": total / wall,
        "errors": len(errors),
        "error_examples": errors[:10],
        "routes": routes,
    }


def random_requests(args, weights: dict, seed: int):
    rng0 = random.Random(seed)

    def next_request(_rng):
        route = rng0.choices(ROUTES, [weights[r] for r in ROUTES])[0]
        run, layer = rng0.randrange(args.runs), rng0.randrange(args.layers)
        step, sample = rng0.randrange(args.steps), rng0.randrange(PROBES)
        return route, path_for(route, run, layer, step, sample)

    return next_request


def parse_mix(text: str) -> dict:
    weights = dict.fromkeys(ROUTES, 0.0)
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in weights:
            raise SystemExit(f"--mix: unknown route {name!r}; use {', '.join(ROUTES)}")
        weights[name] = float(value)
    return weights
