"""LSGD vs Adam on sin(2 pi x) (Gulian et al., experiment (i)): time to reach L*.

L* is the training loss Adam alone reaches after `--adam-steps` (default 10,000) steps on a
Box-initialised ReLU ResNet (width 32) fitting sin(2 pi x) at 256 evenly spaced points.
Both methods use the same optimiser (Adam, same learning rate) on the same data in the same
process; LSGD additionally solves the head by least squares (lineax SVD) every step.

    ratio = (Adam wall time to reach L*) / (LSGD wall time to reach L*)

Compile times are measured separately (first call minus a repeated call). Before the last
line, the end-to-end ratios: Adam's first call to L* / LSGD's first call to L*, each trace +
compile + run, both in the same fresh process (L* passed from this one), with a cold and
with a warm persistent compilation cache (Adam is JAX too; see `benchmarks/_timing.py`).
The last printed line is `ratio: <x>`.

    python benchmarks/lsgd.py [--adam-steps 10000] [--depth 4] [--lr 1e-3] [--seed 0]
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import optax  # noqa: E402

import jaxsci  # noqa: E402
from jaxsci.train import LSTerm, joint_gd, lsgd  # noqa: E402

import _timing  # noqa: E402  (benchmarks/, next to this script)


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    jax.block_until_ready(out.stats["loss"])
    return out, time.perf_counter() - t0


def setup(args):
    """Data, Box-initialised ResNet and optimiser (the same in the benchmark and its children)."""
    x = jnp.linspace(0.0, 1.0, 256)[:, None]
    terms = {"data": LSTerm(x, jnp.sin(2 * jnp.pi * x[:, 0]))}
    key = jr.key(args.seed)
    model = jaxsci.nn.ResNet(1, args.width, args.depth, key=key)
    model = jaxsci.init.box(model, key=jr.fold_in(key, 1))
    return model, terms, optax.adam(args.lr)


def lsgd_e2e(args):
    """End-to-end child: the first call of LSGD and of Adam (both JAX) to L* (from the
    parent, `--e2e-target-loss`), in one fresh process. LSGD runs first, so one-off costs of
    the first compilation in a process fall on jaxsci, not on the reference. As in the
    run-time ratio, an LSGD run that does not reach L* counts as infinitely slow."""
    model, terms, opt = setup(args)
    jax.block_until_ready((model, terms))
    n, target = args.adam_steps, jnp.asarray(args.e2e_target_loss)
    sol_l, t_l = _timing.timed(lsgd, model, terms, opt, num_steps=n, target_loss=target,
                               throw=False)
    sol_a, t_a = _timing.timed(joint_gd, model, terms, opt, num_steps=n, target_loss=target,
                               throw=False)
    reached = float(sol_l.stats["loss"]) <= args.e2e_target_loss
    return {"jaxsci": t_l if reached else float("inf"), "adam": t_a, "lsgd_reached": reached,
            "lsgd_steps": int(sol_l.stats["num_steps"]), "adam_steps": int(sol_a.stats["num_steps"])}


def main(argv=None) -> float | None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--adam-steps", type=int, default=10_000)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--e2e-target-loss", type=float, default=None, help=argparse.SUPPRESS)
    _timing.add_arguments(p)
    args = p.parse_args(argv)
    if args.e2e_child:
        _timing.run_child(args, lambda: lsgd_e2e(args))
        return None

    model, terms, opt = setup(args)
    n = args.adam_steps
    no_target = jnp.asarray(-jnp.inf)

    # 1. Adam alone for n steps defines L*; first call includes compilation.
    sol, t_first = _timed(joint_gd, model, terms, opt, num_steps=n, target_loss=no_target,
                           throw=False)
    sol, t_adam_full = _timed(joint_gd, model, terms, opt, num_steps=n, target_loss=no_target,
                           throw=False)
    l_star = float(sol.stats["loss"])
    target = jnp.asarray(l_star)
    print(f"Adam: {n} steps, L* = {l_star:.3e}; compile {t_first - t_adam_full:.2f} s, "
          f"run {t_adam_full:.3f} s ({1e6 * t_adam_full / n:.1f} us/step)")

    # 2. Adam to reach L* (stops at the first step with loss <= L*).
    sol_a, t_adam = _timed(joint_gd, model, terms, opt, num_steps=n, target_loss=target,
                           throw=False)
    steps_a = int(sol_a.stats["num_steps"])

    # 3. LSGD to reach L* (same optimiser, at most n steps).
    _, t_first_l = _timed(lsgd, model, terms, opt, num_steps=n, target_loss=target,
                          throw=False)
    sol_l, t_lsgd = _timed(lsgd, model, terms, opt, num_steps=n, target_loss=target,
                           throw=False)
    steps_l = int(sol_l.stats["num_steps"])
    reached = float(sol_l.stats["loss"]) <= l_star
    print(f"LSGD compile {t_first_l - t_lsgd:.2f} s")
    print(f"{'method':<6} {'steps to L*':>12} {'wall s':>9} {'final loss':>11}")
    print(f"{'Adam':<6} {steps_a:>12d} {t_adam:>9.3f} {float(sol_a.stats['loss']):>11.3e}")
    print(f"{'LSGD':<6} {steps_l:>12d} {t_lsgd:>9.3f} {float(sol_l.stats['loss']):>11.3e}"
          + ("" if reached else "  (did NOT reach L*)"))
    # the LSGD loss after the same number of steps, for reference
    sol_same, _ = _timed(lsgd, model, terms, opt, num_steps=n, target_loss=no_target,
                           throw=False)
    print(f"LSGD loss after {n} steps: {float(sol_same.stats['loss']):.3e} "
          f"(Adam: {l_star:.3e}, {l_star / float(sol_same.stats['loss']):.1f}x lower)")
    ratio = t_adam / t_lsgd if reached else 0.0
    print()
    e2e = _timing.cold_warm(__file__, argv, args.keep_e2e_cache,
                            extra=("--e2e-target-loss", repr(l_star)))
    _timing.print_ratios(e2e, "jaxsci", "adam", "Adam (joint_gd) to L*", "LSGD to L*")
    print(f"ratio: {ratio:.2f}")
    return ratio


if __name__ == "__main__":
    main()
