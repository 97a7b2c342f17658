"""NumPy reference for deconvnet / guided backprop, written from the definition.

It runs the forward pass in float64, keeps the max-pool switches (the first
maximum of each 2x2 window, row-major, as `np.argmax`) and every ReLU's input, and
sends the seed back: convs and dense by the transposed weights, pools to the
switch, ReLUs by the method's rule. Also the helpers the deconv tests share.
"""

import numpy as np


def conv_fwd(x, w, b, pad):
    kh, kw = w.shape[:2]
    if pad == "same":
        x = np.pad(
            x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0))
        )
    h, wd = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    y = np.zeros((x.shape[0], h, wd, w.shape[3])) + b
    for a in range(kh):
        for c in range(kw):
            y += x[:, a : a + h, c : c + wd, :] @ w[a, c]
    return y


def conv_bwd(r, w, in_shape, pad):
    kh, kw = w.shape[:2]
    top, left = ((kh - 1) // 2, (kw - 1) // 2) if pad == "same" else (0, 0)
    h, wd = r.shape[1:3]
    full = np.zeros((r.shape[0], h + kh - 1, wd + kw - 1, w.shape[2]))
    for a in range(kh):
        for c in range(kw):  # the transposed weights, shifted back
            full[:, a : a + h, c : c + wd, :] += r @ w[a, c].T
    return full[:, top : top + in_shape[1], left : left + in_shape[2], :]


def pool_fwd(x):
    n, h, w, c = x.shape
    win = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c)
    win = win.transpose(0, 1, 3, 5, 2, 4).reshape(n, h // 2, w // 2, c, 4)
    return win.max(-1), win.argmax(-1)  # switches: first maximum, row-major


def pool_bwd(r, switch, in_shape):
    out = np.zeros(in_shape)
    for k in range(4):
        out[:, k // 2 :: 2, k % 2 :: 2][:, : r.shape[1], : r.shape[2]] += r * (
            switch == k
        )
    return out


def relu_fwd(x, max_value=None, threshold=0.0):
    y = np.where(x > threshold, x, 0.0)
    return y if max_value is None else np.minimum(y, max_value)


def relu_bwd(r, x, method, max_value=None, threshold=0.0):
    gate = (x > threshold) & ((x < max_value) if max_value is not None else True)
    if method == "deconvnet":
        return np.maximum(r, 0)
    if method == "guided_backprop":
        return r * gate * (r > 0)
    return r * gate  # "gradient": the plain derivative


def reference(spec, x, channels, method, strongest_only=False):
    """spec: list of ("conv", w, b, pad) | ("pool",) | ("relu", max, thr); -> (N, K, ...)."""
    h, tape = x.astype(np.float64), []
    for op in spec:
        tape.append(h)
        if op[0] == "conv":
            h = conv_fwd(h, *op[1:])
        elif op[0] == "pool":
            h, switch = pool_fwd(h)
            tape[-1] = (tape[-1], switch)
        else:
            h = relu_fwd(h, *op[1:])
    out = np.zeros((len(x), len(channels[0])) + x.shape[1:])
    for n in range(len(x)):
        for k, ch in enumerate(channels[n]):
            seed = np.zeros_like(h[n : n + 1])
            seed[..., ch] = h[n : n + 1, ..., ch]
            if strongest_only:
                seed[..., ch] *= seed[..., ch] == seed[..., ch].max()
            r = seed
            for op, saved in reversed(list(zip(spec, tape))):
                if op[0] == "conv":
                    r = conv_bwd(r, op[1], saved.shape, op[3])
                elif op[0] == "pool":
                    r = pool_bwd(r, saved[1][n : n + 1], saved[0][n : n + 1].shape)
                else:
                    r = relu_bwd(r, saved[n : n + 1], method, *op[1:])
            out[n, k] = r[0]
    return out, h


def conv_op(rng, cin, cout, size, pad="same"):
    w = rng.normal(0, 0.6, (size, size, cin, cout))
    return ("conv", w, rng.normal(0, 0.1, cout), pad)


def set_conv(layer, op):
    layer.set_weights([op[1].reshape(layer.kernel.shape), op[2]])


def assert_close(got, want):
    """Equal to float32 precision, relative to the largest value."""
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * np.abs(want).max())


def assert_differ(a, b):
    assert np.abs(a - b).max() > 0.05 * max(np.abs(a).max(), np.abs(b).max())


def inputs(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)
