"""`summary`: a readable report of a multistart `fit` / `fit_batched` result."""

import numpy as np

from .._solution import RESULTS, Solution


def _result_name(code) -> str:
    for name in ("successful", "optimum_on_bound", "max_steps_reached", "singular", "nonfinite"):
        if int(code) == int(np.asarray(getattr(RESULTS, name)._value)):
            return name
    return "failed"


def summary(solution: Solution, *, max_starts: int = 20, max_datasets: int = 10) -> str:
    r"""A text report of a `gp.fit` (or `gp.fit_batched`) `Solution`, for `print`.

    One fit: the result code, the best log marginal likelihood and its start, then one row
    per start (final LML, accepted steps, evaluations, converged / stalled / held on the
    prior box), the best marked `*`; a **WARNING** line when the best start's optimum is
    held on the prior box (`RESULTS.optimum_on_bound`: the likelihood still rises beyond
    the box, e.g. unnormalised targets of size 1e6; fix: `normalize_y=True`, rescale, or a
    wider `prior_box`), and a note when other starts ended on the box. A batched solution
    (leading dataset axis): one row per dataset (up to `max_datasets`) and the number of
    datasets whose optimum is on the box. Host-side (call it outside `jit`).

    **Raises:** `TypeError` if `solution` is not a `Solution` of `fit` / `fit_batched`
    (its `stats` lack `per_start`, e.g. a condition-only fit: nothing to report).
    """
    if not isinstance(solution, Solution) or "per_start" not in getattr(solution, "stats", {}):
        raise TypeError(
            "`summary` reports a multistart fit: pass the Solution returned by `gp.fit(..., "
            "key=...)` or `gp.fit_batched` (a condition-only fit has no starts to report)."
        )
    st = solution.stats
    ps = st["per_start"]
    lml = np.asarray(ps["log_marginal_likelihoods"])
    codes = np.asarray(solution.result._value)
    if lml.ndim == 2:  # fit_batched / vmap(fit): one row per dataset
        best = np.asarray(st["log_marginal_likelihood"])
        on = np.asarray(st["on_bound"])
        lines = [f"{lml.shape[0]} GP fits, {lml.shape[1]} starts each"]
        lines.append(f"{'dataset':>8} {'result':>18} {'best LML':>14} {'best start':>11} {'starts on box':>14}")
        for i in range(min(lml.shape[0], max_datasets)):
            lines.append(
                f"{i:>8} {_result_name(codes[i]):>18} {best[i]:>14.6g} {int(np.asarray(st['best_start'])[i]):>11} "
                f"{int(np.sum(np.asarray(ps['on_bound'])[i])):>14}"
            )
        if lml.shape[0] > max_datasets:
            lines.append(f"   ... {lml.shape[0] - max_datasets} more datasets")
        if on.any():
            lines.append(
                f"WARNING: {int(on.sum())} of {lml.shape[0]} datasets have their optimum held on the "
                "prior box (result optimum_on_bound): normalise the targets (normalize_y=True), "
                "rescale the data or widen `prior_box`."
            )
        return "\n".join(lines)
    b = int(np.asarray(st["best_start"]))
    lines = [
        f"GP fit: result {_result_name(codes)}, best log marginal likelihood "
        f"{float(np.asarray(st['log_marginal_likelihood'])):.8g} (start {b} of {lml.shape[0]})",
        f"{'':2}{'start':>5} {'LML':>14} {'steps':>6} {'evals':>6} {'converged':>10} {'stalled':>8} {'on box':>7}",
    ]
    cols = [np.asarray(ps[k]) for k in ("num_steps", "num_evaluations", "converged", "line_search_stalled", "on_bound")]
    for i in np.argsort(-np.where(np.isfinite(lml), lml, -np.inf))[:max_starts]:
        steps, evals, conv, stall, onb = (c[i] for c in cols)
        lines.append(
            f"{'*' if i == b else '':2}{i:>5} {lml[i]:>14.8g} {int(steps):>6} {int(evals):>6} "
            f"{'yes' if conv else 'no':>10} {'yes' if stall else '':>8} {'yes' if onb else '':>7}"
        )
    if lml.shape[0] > max_starts:
        lines.append(f"   ... {lml.shape[0] - max_starts} more starts")
    if bool(np.asarray(st["on_bound"])):
        lines.append(
            "WARNING: the best optimum is held on the prior box (result optimum_on_bound): the "
            "likelihood still rises beyond it. Normalise the targets (normalize_y=True), rescale "
            "the data or widen `prior_box`."
        )
    elif cols[4].any():
        lines.append(f"note: {int(cols[4].sum())} other start(s) ended held on the prior box (not the best).")
    return "\n".join(lines)
