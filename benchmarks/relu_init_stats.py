"""Benchmark: 10^6 random initialisations of the (1, 6, 4, 2) ReLU network with exact
active / tentatively dead / permanently dead classification on B_1 = [-1, 1].

jaxsci: `jaxsci.diagnostics.init_statistics` (batch-last sampling + exact kink-based
classification; for this small network the classification is the packed kernel of
`jaxsci/diagnostics/_counts1d.py`: one fused elementwise loop per chunk, one int32 of packed
counts per network back to the host). Reference: the same computation written as vectorised
NumPy (batch-last arrays, `np.argsort` for the knots, the same knot / interpolation
algorithm), same process, same chunk size. For d_in = 1 the network is piecewise linear, so
each neuron is classified from its values at the interval ends and the kinks of earlier
layers: no dense sampling.

Both sample the unit-hypersphere-with-bias scheme (eq. 3) in float32, in chunks of 2^15
networks: cache-sized chunks are fastest for both (JAX's threefry runs as a rolled loop over
whole arrays on CPU; NumPy's temporaries stay in cache); NumPy was timed at 2^12 ... 2^18
and 2^14-2^15 are at its best too. Agreement checks: on 2^17 networks drawn by JAX, the NumPy
classifier, jaxsci's packed kernel and `state_counts(neuron_states_1d(...))` give identical
counts, and the NumPy classifier reproduces `init_statistics`' first chunk exactly.
Then the end-to-end ratios: the NumPy time (measured in this process) / jaxsci's first
`init_statistics` call on all `--num` networks in a fresh process, trace + compile + run,
with a cold and with a warm persistent compilation cache (see `benchmarks/_timing.py`).
Last line: `ratio: <NumPy time / jaxsci time>`.

    python benchmarks/relu_init_stats.py [--num 1000000] [--chunk 32768] [--no-shard]
"""

import argparse
import os
import time

# Two CPU "devices" so that jaxsci's sharded sweep uses both cores (NumPy is single-threaded
# by nature). Set before JAX initialises; override with XLA_FLAGS.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from jaxsci.diagnostics import init_statistics, neuron_states_1d, state_counts  # noqa: E402
from jaxsci.diagnostics._counts1d import packed_counts_1d, unpack_counts  # noqa: E402
from jaxsci.init import UnitHypersphereInit, sample_relu_params  # noqa: E402

import _timing  # noqa: E402  (benchmarks/, next to this script)

WIDTHS = (1, 6, 4, 2)
SCHEME = UnitHypersphereInit(with_bias=True)
CHUNK = 2**15  # networks per chunk, both tools
CLS_N = 2**17  # networks for the classification-only comparison and agreement check


def np_sample(rng, n):
    """Unit-hypersphere-with-bias rows, batch-last: W (n_out, n_in, N), b (n_out, N)."""
    params = []
    for n_in, n_out in zip(WIDTHS[:-1], WIDTHS[1:]):
        v = rng.standard_normal((n_out, n_in + 1, n), dtype=np.float32)
        v /= np.sqrt(np.sum(v * v, axis=1, keepdims=True))
        params.append((v[:, :n_in], v[:, n_in]))
    return params


def np_counts(params, r=1.0):
    """NumPy twin of jaxsci.diagnostics.neuron_states_1d + state_counts (batch-last,
    same algorithm: values at the knots, sort, crossings, interpolation)."""
    n = params[0][0].shape[-1]
    knots = np.empty((2, n), np.float32)
    knots[0], knots[1] = -r, r
    h = knots[:, None]
    out = []
    for t, (w, b) in enumerate(params):
        z = np.broadcast_to(b[None], (h.shape[0],) + b.shape).copy()
        for i in range(w.shape[1]):
            z += h[:, i][:, None] * w[:, i][None]
        a = np.maximum(z, 0)
        dead = a.max(axis=0) == a.min(axis=0)
        if t > 0:  # fed only by dead neurons: constant (jaxsci's `_inputs_constant`)
            dead |= np.all(prev_dead[None] | (w == 0), axis=1)
        prev_dead = dead
        if t == 0:
            perm, tent = dead, np.zeros_like(dead)
        else:
            perm = dead & np.all(w <= 0, axis=1) & (b <= 0)
            tent = dead & ~perm
        out.append(np.stack([(~dead).sum(0), tent.sum(0), perm.sum(0)]))
        if t == len(params) - 1:
            break
        order = np.argsort(knots, axis=0)
        xs = np.take_along_axis(knots, order, axis=0)
        zs = np.take_along_axis(z, order[:, None], axis=0)
        za, zb = zs[:-1], zs[1:]
        cross = (za > 0) != (zb > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(cross, za / np.where(cross, za - zb, 1.0), 0.0).astype(np.float32)
        new_x = xs[:-1, None] + lam * (xs[1:, None] - xs[:-1, None])
        new_z = za[:, None] + lam[:, :, None] * (zb - za)[:, None]
        k = z.shape[1]
        eye = np.eye(k, dtype=bool).reshape(1, k, k, 1)
        new_z = np.where(eye & cross[:, :, None], np.float32(0), new_z)
        knots = np.concatenate([xs, new_x.reshape(-1, n)])
        h = np.maximum(np.concatenate([zs, new_z.reshape((-1,) + zs.shape[1:])]), 0)
    return np.moveaxis(np.stack(out), -1, 0)  # (N, L, 3)


def sweep_setup(args):
    """PRNG key and `init_statistics` keywords (the same in the benchmark and its children)."""
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    key = jax.random.key(0, impl=args.prng)
    sharding = None
    if not args.no_shard:
        mesh = Mesh(np.array(jax.devices()), ("d",))
        sharding = NamedSharding(mesh, PartitionSpec("d"))
    return key, dict(num=args.num, chunk_size=args.chunk, dtype=jnp.float32, sharding=sharding)


def sweep_e2e(args):
    """End-to-end child: the first `init_statistics` call on all `--num` networks in a
    fresh process (key and sharding built first, not timed)."""
    key, kw = sweep_setup(args)
    jax.block_until_ready(key)
    counts, t = _timing.timed(init_statistics, key, WIDTHS, SCHEME, **kw)
    return {"jaxsci": t, "mean_active": np.asarray(counts)[:, :, 0].mean(0).tolist()}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--num", type=int, default=10**6)
    ap.add_argument("--chunk", type=int, default=CHUNK, help="networks per chunk (both tools)")
    ap.add_argument(
        "--no-shard", action="store_true", help="run jaxsci on one device (no sharding)"
    )
    ap.add_argument(
        "--prng",
        default="threefry2x32",
        choices=["rbg", "threefry2x32"],
        help="JAX PRNG implementation for the keys (jax.random.key(0, impl=...)); threefry2x32 "
        "is JAX's default.",
    )
    _timing.add_arguments(ap)
    args = ap.parse_args(argv)
    if args.e2e_child:
        _timing.run_child(args, lambda: sweep_e2e(args))
        return
    num, chunk = args.num, args.chunk
    key, kw = sweep_setup(args)
    sharding = kw["sharding"]

    t0 = time.perf_counter()
    first = init_statistics(key, WIDTHS, SCHEME, **dict(kw, num=min(num, chunk)))
    t_compile = time.perf_counter() - t0  # compile + one chunk
    t0, c0 = time.perf_counter(), time.process_time()
    counts = init_statistics(key, WIDTHS, SCHEME, **kw)
    t_jax, c_jax = time.perf_counter() - t0, time.process_time() - c0

    # agreement 1: init_statistics' first chunk against NumPy on the same parameters
    p0 = sample_relu_params(jax.random.fold_in(key, 0), WIDTHS, SCHEME, jnp.float32, (chunk,))
    np_first = np_counts([(np.asarray(w), np.asarray(b)) for w, b in p0])[: min(num, chunk)]
    agree_sweep = np.array_equal(np_first, first) and np.array_equal(counts[: len(first)], first)
    # agreement 2 + classification-only timing on CLS_N networks drawn by JAX (one device)
    p = sample_relu_params(jax.random.fold_in(key, 1), WIDTHS, SCHEME, jnp.float32, (CLS_N,))
    pn = [(np.asarray(w), np.asarray(b)) for w, b in p]
    np_counts(pn)  # warm-up (page faults of the first large temporaries)
    t0 = time.perf_counter()
    np_cls = np_counts(pn)
    t_np_cls = time.perf_counter() - t0
    packed = jax.jit(lambda q: packed_counts_1d(q, 1.0))
    arrays = jax.jit(lambda q: state_counts(neuron_states_1d(q, 1.0)))
    pj = [(jnp.asarray(w), jnp.asarray(b)) for w, b in pn]
    jax.block_until_ready((packed(pj), arrays(pj)))
    t0 = time.perf_counter()
    code = jax.block_until_ready(packed(pj))
    t_jax_cls = time.perf_counter() - t0
    t0 = time.perf_counter()
    arr = jax.block_until_ready(arrays(pj))
    t_arr_cls = time.perf_counter() - t0
    agree_cls = np.array_equal(np_cls, unpack_counts(code, WIDTHS)) and np.array_equal(
        np_cls, np.moveaxis(np.asarray(arr), -1, 0)
    )

    rng = np.random.default_rng(0)
    t0, c0 = time.perf_counter(), time.process_time()
    ref = [np_counts(np_sample(rng, min(chunk, num - i))) for i in range(0, num, chunk)]
    ref = np.concatenate(ref)
    t_np, c_np = time.perf_counter() - t0, time.process_time() - c0

    act = counts[:, :, 0]
    act_np = ref[:, :, 0]
    print(f"networks: {num}, widths {WIDTHS}, unit hypersphere with bias, r = 1, float32, "
          f"JAX PRNG {args.prng}, chunks of {chunk}")
    print(f"devices: {jax.devices()}, sharded: {sharding is not None}")
    print(f"jaxsci compile + first chunk: {t_compile:.2f} s")
    print(f"jaxsci run (sample + classify): {t_jax:.3f} s")
    print(f"numpy  run (sample + classify): {t_np:.3f} s")
    print(f"cpu time of these runs (all threads): jaxsci {c_jax:.3f} s, numpy {c_np:.3f} s")
    print(f"identical counts on identical parameters: sweep chunk 0 {agree_sweep}, "
          f"{CLS_N} networks (numpy / packed kernel / array form) {agree_cls}")
    print(
        f"classification only, {CLS_N} networks (single device): jaxsci packed {t_jax_cls:.4f} s, "
        f"jaxsci array form {t_arr_cls:.4f} s, numpy {t_np_cls:.3f} s, "
        f"ratio {t_np_cls / t_jax_cls:.1f}"
    )
    print(f"mean active per layer  jaxsci {act.mean(0).round(4)}  numpy {act_np.mean(0).round(4)}")
    print()
    e2e = _timing.cold_warm(__file__, argv, args.keep_e2e_cache)
    _timing.print_ratios(e2e, "jaxsci", t_np, "NumPy (sample + classify)",
                         "jaxsci init_statistics")
    print(f"ratio: {t_np / t_jax:.2f}")


if __name__ == "__main__":
    main()
