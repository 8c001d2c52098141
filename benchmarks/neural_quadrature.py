"""Benchmark: building the Oishi & Yagawa reference-labelled data set (review section 2.3.1).

For `--elements` distorted hexahedra: the q = 30 Gauss-Legendre stiffness (27,000 points per
element, the eq. 401 reference) and the Method 2 random search over correction factors of
the 2x2x2 weights (`--rounds` x `--sets`), with jaxsci (jitted, vmapped, chunked) and with a
vectorised NumPy implementation of the same computation (einsum / matmul over a chunk of
elements, closed-form 3x3 inverse, the same isotropic B^T D B identity, the same search).
Checks both give the same stiffness matrices. Prints the run-time ratio (after compile) and
the end-to-end ratio (first call, compile included, in this process); last line `ratio: X`
(NumPy time / jaxsci run time). Simplified timing: no cold/warm persistent-cache children.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import jaxsci.mechanics as mech


def numpy_stiffness(x, lam, mu, q, chunk):
    """(n, 24, 24) stiffnesses of elements x (n, 8, 3) with the q^3 rule, chunked."""
    g, w = np.polynomial.legendre.leggauss(q)
    pts = np.stack(np.meshgrid(g, g, g, indexing="ij")[::-1], -1).reshape(-1, 3)
    wts = np.einsum("i,j,k->ijk", w, w, w).reshape(-1)
    c = np.array([[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1],
                  [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], float)
    f = 1 + c[None] * pts[:, None, :]
    dn = np.stack([c[None, :, 0] * f[..., 1] * f[..., 2], c[None, :, 1] * f[..., 0] * f[..., 2],
                   c[None, :, 2] * f[..., 0] * f[..., 1]], -1) / 8  # (p, 8, 3)
    out = np.empty((len(x), 24, 24))
    eye = np.eye(3)
    for s in range(0, len(x), chunk):
        xe = x[s:s + chunk]
        jac = np.einsum("pak,eal->epkl", dn, xe, optimize=True)
        r0, r1, r2 = jac[..., 0, :], jac[..., 1, :], jac[..., 2, :]
        cof = np.stack([np.cross(r1, r2), np.cross(r2, r0), np.cross(r0, r1)], -2)
        det = np.sum(r0 * cof[..., 0, :], -1)
        grads = np.einsum("pak,epkl->epal", dn, cof, optimize=True) / det[..., None, None]
        G = grads.reshape(len(xe), -1, 24)
        a = np.matmul(np.swapaxes(G, 1, 2) * (wts[None] * det)[:, None, :], G).reshape(-1, 8, 3, 8, 3)
        dots = np.einsum("eakbk->eab", a)
        k = lam * a + mu * np.swapaxes(a, 2, 4) + mu * dots[:, :, None, :, None] * eye[None, None, :, None, :]
        out[s:s + chunk] = k.reshape(-1, 24, 24)
    return out


def numpy_search(parts, ref, rounds, sets, spread, shrink, rng):
    """Shrinking random search (as `search_correction_factors`), vectorised over elements."""
    n = len(ref)
    ref = ref.reshape(n, -1)
    err = lambda r: np.abs(np.einsum("esg,egm->esm", r, parts, optimize=True) - ref[:, None]).sum(-1)  # noqa: E731
    centre = np.ones((n, 8))
    best = err(centre[:, None])[:, 0]
    plain, s = best.copy(), spread
    for _ in range(rounds):
        r = centre[:, None] + s * rng.uniform(-1, 1, (n, sets, 8))
        e = err(r)
        i = np.argmin(e, 1)
        eb = e[np.arange(n), i]
        better = eb < best
        centre = np.where(better[:, None], r[np.arange(n), i], centre)
        best = np.where(better, eb, best)
        s *= shrink
    return centre, best / plain


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--elements", type=int, default=10_000)
    p.add_argument("--sets", type=int, default=2048)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--chunk", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    jax.config.update("jax_enable_x64", True)
    n = args.elements
    mat = mech.IsotropicElasticity(1.0, 0.3)
    lam, mu = (float(v) for v in mat.lame())
    x = jax.jit(lambda k: mech.distorted_hexahedra(k, n))(jr.key(0))
    xn = np.asarray(x)
    print(f"{n} elements, reference q = 30, search {args.rounds} x {args.sets} sets", flush=True)

    @jax.jit
    def build(x, key):
        K_ref = mech.element_stiffnesses(x, mat, 30, chunk_size=args.chunk)
        one = lambda x, K, k: mech.search_correction_factors(  # noqa: E731
            x, mat, key=k, num_sets=args.sets, rounds=args.rounds, K_ref=K)
        r, R = jax.lax.map(lambda a: one(*a), (x, K_ref, jr.split(key, n)), batch_size=args.chunk)
        return K_ref, r, R

    t0 = time.perf_counter()
    jax.block_until_ready(build(x, jr.key(1)))
    t_first = time.perf_counter() - t0
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        K_j, r_j, R_j = jax.block_until_ready(build(x, jr.key(1)))
        times.append(time.perf_counter() - t0)
    t_jax = float(np.median(times))
    print(f"jaxsci: first call {t_first:.2f} s, run {t_jax:.2f} s", flush=True)

    t0 = time.perf_counter()
    K_n = numpy_stiffness(xn, lam, mu, 30, args.chunk)
    t_k = time.perf_counter() - t0
    parts = np.asarray(jax.jit(jax.vmap(lambda e: mech.point_stiffnesses(e, mat, 2)))(x)).reshape(n, 8, -1)
    t0 = time.perf_counter()
    _, R_n = numpy_search(parts, K_n, args.rounds, args.sets, 0.01, 0.5, np.random.default_rng(1))
    t_np = t_k + time.perf_counter() - t0
    print(f"numpy: stiffness {t_k:.2f} s, total {t_np:.2f} s", flush=True)

    diff = float(np.max(np.abs(np.asarray(K_j) - K_n)) / np.max(np.abs(K_n)))
    print(f"max relative stiffness difference {diff:.1e}; median R_error jaxsci "
          f"{np.median(np.asarray(R_j)):.4f}, numpy {np.median(R_n):.4f}; share R < 1: "
          f"{100 * np.mean(np.asarray(R_j) < 1):.1f} %")
    if diff > 1e-10:
        raise SystemExit("jaxsci and numpy stiffness matrices disagree")
    print(f"| run-time ratio (numpy / jaxsci run) | {t_np / t_jax:.2f} |")
    print(f"| end-to-end ratio (numpy / jaxsci first call incl. compile) | {t_np / t_first:.2f} |")
    print(f"ratio: {t_np / t_jax:.2f}")


if __name__ == "__main__":
    main()
