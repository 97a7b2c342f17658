"""The floors of bench_attribution.py: the least work of each attribution method.

What each floor computes is defined in bench_attribution.py's docstring: plain
TF on a clone of the model whose output's softmax is made linear (the class
score is the logit, as in tb_netviz), one `tf.function` per method taking the
inputs and the noise seed as arguments (nothing the method computes from them
can be folded into constants), a `GradientTape` of the score. The maps are
tb_netviz's, bit for bit, but for IG (another quadrature: see there).
"""

from __future__ import annotations


def floors(model, layer, x, targets, samples, steps, rows) -> dict:
    """`{method: tf.function (x, seed) -> maps (N, T, H, W)}`: the floors (see the module)."""
    import keras
    import tensorflow as tf

    from tb_netviz.methods.attributions.batches import per_pass

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.layers[-1].activation = keras.activations.linear  # the logits
    net = keras.Model(clone.inputs, [clone.get_layer(layer).output, clone.outputs[0]])
    (n, t), size = targets.shape, x.shape[1:3]
    lo, hi = float(x.min()), float(x.max())
    ts = tf.constant(targets.reshape(-1), tf.int32)
    rows_of = lambda x1: tf.repeat(x1, t, axis=0)  # noqa: E731  (the N x T rows)

    def grads(r, tr, wrt_layer=False):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(r)
            a, s = net(r, training=False)
            score = tf.gather(s, tr, batch_dims=1)
        return a, tape.gradient(score, a if wrt_layer else r)

    def over(body, count, copy_rows, shape):
        """The sum of `body(start, k)` over copies, as many a pass as `rows` allows."""
        per = max(1, min(count, rows // copy_rows)) if rows else count
        full, rest = divmod(count, per)
        total = body(0, per) if full else tf.zeros(shape)
        if full > 1:
            step = lambda i, acc: (i + 1, acc + body(i * per, per))  # noqa: E731
            init = (tf.constant(1), total)
            _, total = tf.while_loop(
                lambda i, _: i < full, step, init, parallel_iterations=1
            )
        return total + body(full * per, rest) if rest else total

    def up(maps):  # (R, h, w) -> (N, T, H, W), bilinear
        return tf.reshape(tf.image.resize(maps[..., None], size), [n, t, *size])

    def gradcam(x1, seed):
        a, g = grads(rows_of(x1), ts, wrt_layer=True)
        w = tf.reduce_mean(g, axis=[1, 2])
        return up(tf.nn.relu(tf.einsum("rhwk,rk->rhw", a, w)))

    def saliency(x1, seed):
        return up(tf.reduce_max(tf.abs(grads(rows_of(x1), ts)[1]), -1))

    def summed_grads(xs, points, count):  # points(start, k) -> (k, R, H, W, C)
        def body(start, k):
            rows_ = tf.reshape(points(start, k), [-1, *xs.shape[1:]])
            return tf.reduce_sum(
                tf.reshape(grads(rows_, tf.tile(ts, [k]))[1], [k, *xs.shape]), 0
            )

        return over(body, count, xs.shape[0], xs.shape)

    def smoothgrad(x1, seed):  # tb_netviz's noise: pass p of c copies, seed (0, p * c)
        xs = rows_of(x1)
        c = per_pass(32, xs.shape[0], samples)
        seeds = [tf.stack([seed, p * c]) for p in range(-(-samples // c))]
        e = tf.concat([tf.random.stateless_normal([c, *x.shape], s) for s in seeds], 0)
        e = tf.repeat(e[:samples] * 0.15 * (hi - lo), t, axis=1)
        g = summed_grads(xs, lambda s, k: xs[None] + e[s : s + k], samples) / samples
        return up(tf.reduce_max(tf.abs(g), -1))

    def integrated_gradients(
        x1, seed
    ):  # black baseline, alphas k / steps, k = 1..steps
        xs = rows_of(x1)
        base = tf.fill(xs.shape, lo)

        def points(s, k):
            a = tf.cast(tf.range(s, s + k) + 1, tf.float32) / steps
            return base[None] + tf.reshape(a, [-1, 1, 1, 1, 1]) * (xs - base)[None]

        g = summed_grads(xs, points, steps) / steps
        return up(tf.reduce_sum((xs - base) * g, -1))

    def scorecam(x1, seed):
        a, _ = net(x1, training=False)
        k = a.shape[-1]
        m = tf.transpose(tf.image.resize(a, size), [0, 3, 1, 2])  # (N, K, H, W)
        m_lo = tf.reduce_min(m, axis=[2, 3], keepdims=True)
        span = tf.reduce_max(m, axis=[2, 3], keepdims=True) - m_lo
        m = tf.where(span > 0, (m - m_lo) / tf.where(span > 0, span, 1.0), 0.0)

        def body(start, c):
            masked = tf.reshape(
                x1[:, None] * m[:, start : start + c, ..., None], [-1, *x.shape[1:]]
            )
            s = tf.reshape(net(masked, training=False)[1], [n, c, -1])
            s = tf.gather(s, targets, axis=2, batch_dims=1)  # (N, c, T)
            return tf.einsum(
                "nct,ck->ntk", s, tf.one_hot(tf.range(start, start + c), k)
            )

        w = tf.nn.softmax(over(body, k, n, [n, t, k]), axis=-1)
        cams = tf.nn.relu(tf.einsum("nhwk,ntk->nthw", a, w))
        return up(tf.reshape(cams, [-1, *a.shape[1:3]]))

    fns = {
        f.__name__: f
        for f in (gradcam, saliency, smoothgrad, integrated_gradients, scorecam)
    }
    return {name: tf.function(fn, autograph=False) for name, fn in fns.items()}
