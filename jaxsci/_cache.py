r"""Opt-in persistent compilation cache (DESIGN rule 14: time to first result).

XLA compilation dominates the first call of most jaxsci entry points (figures in
docs/benchmarks.md, "Time to first result"). JAX can keep
compiled programs on disk and reuse them in later processes; jaxsci never switches this on
by being imported (it changes global JAX configuration and writes files), so users call
`enable_compilation_cache` once, before their first jitted call.
"""

import os
import pathlib

import jax

_ENV = "JAXSCI_CACHE_DIR"


def default_cache_dir() -> pathlib.Path:
    r"""The directory `enable_compilation_cache()` uses when given no `path`.

    `$JAXSCI_CACHE_DIR` if set, else `$XDG_CACHE_HOME/jaxsci/xla` (usually
    `~/.cache/jaxsci/xla`). It is namespaced by JAX itself: entries are keyed by the
    program, the jax/jaxlib version, the backend and the compile options, so one directory
    can serve several environments.
    """
    env = os.environ.get(_ENV)
    if env:
        return pathlib.Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "jaxsci" / "xla"


def enable_compilation_cache(
    path: str | os.PathLike | None = None, *, min_compile_time_secs: float = 0.0
) -> pathlib.Path:
    r"""Switch on JAX's persistent compilation cache at `path` and return the directory.

    After this call every compiled XLA program that took at least `min_compile_time_secs`
    to compile is stored in `path`, and a later process (same jax/jaxlib, same backend)
    loads it instead of compiling again. Tracing and lowering (typically 10-30 % of a first
    call) are not cached.

    **Arguments:**

    - `path`: cache directory, created if missing. Default: `default_cache_dir()`
      (`$JAXSCI_CACHE_DIR`, else `~/.cache/jaxsci/xla`).
    - `min_compile_time_secs`: only cache programs that took at least this long to compile
      (JAX's own default is 1 s; jaxsci's default 0 also caches the many small programs
      whose compiles add up on a first run).

    **Returns:** the cache directory as a `pathlib.Path`.

    Call it before the first jitted call whose compilation should be cached. It sets the
    global JAX options `jax_compilation_cache_dir`,
    `jax_persistent_cache_min_compile_time_secs` and
    `jax_persistent_cache_min_entry_size_bytes`; nothing in jaxsci calls it implicitly
    (the examples, `make demo` and the benchmarks call it explicitly).
    """
    if not isinstance(min_compile_time_secs, (int, float)) or not min_compile_time_secs >= 0:
        raise ValueError(
            f"`min_compile_time_secs` must be a non-negative number, got {min_compile_time_secs!r}."
        )
    directory = default_cache_dir() if path is None else pathlib.Path(path).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(
            f"cannot create the compilation cache directory {str(directory)!r} ({e}); pass a "
            f"writable `path` or set ${_ENV}."
        ) from e
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_secs))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    # JAX initialises its cache once, at the first compilation; if that has already
    # happened (a jitted call before this one), make it pick up the new directory.
    from jax.experimental.compilation_cache import compilation_cache as _cc

    _cc.reset_cache()
    return directory
