r"""Closures as pytrees, so that a re-created loss or optimiser does not recompile.

`eqx.filter_jit` treats a Python function argument as static and compares it by identity.
`optax.adam(1e-3)` is a NamedTuple of fresh closures each time it is called, and
`lambda m, a: ...` written inside a loop or a function is a fresh object each time it is
evaluated, so every call of a jitted training loop with such arguments traces and compiles
again, although the program is the same.

`hoist(obj)` converts `obj` into an `eqx.Module` pytree that compares by *content*:

- a Python function becomes a `_HoistedFunction` whose static part is its code object (code
  objects compare by value: the same source at the same line gives equal code objects), its
  globals dict (by identity), the globals its code reads (scalars by value, everything else by
  identity: a re-bound global array is a new key, never a stale constant) and its name; its
  closure cells, defaults and `__dict__` are converted recursively;
- `functools.partial` objects are converted the same way (function, args, keywords);
- tuples, NamedTuples and `eqx.Module`s are mapped as pytrees;
- arrays (JAX or NumPy) become dynamic leaves: new data of the same shape reuses the program;
- Python floats / complex numbers become weakly typed 0-d arrays (`scalars=True`) and so
  dynamic leaves too: `optax.adam(1e-2)` after `optax.adam(1e-3)` reuses the program. Weak
  typing keeps the dtype promotion of a Python float, and with `jax_enable_x64` the traced
  arithmetic on them is IEEE double, exactly Python's, so results are bit for bit those of
  static floats (checked for adam, adamw with a schedule and L-BFGS). In float32 mode it
  would be float32 arithmetic (`1 - 0.999` is `0.00099998713`, not `0.001`), so
  `call_hoisted` traces Python floats only under x64; with `scalars=False` they stay static,
  compared by type and bit pattern;
- everything else (ints, bools, strings, dtypes, objects) stays static, compared by `==`
  within the same type.

A function is kept as it is (static, by identity, i.e. the old behaviour) when it cannot be
converted faithfully: its closure holds an unhashable static value or a mutable container
(list, dict, set: the function could mutate it, and a copy would hide that; inside an
`eqx.Module`, immutable by convention, lists and dicts are mapped), it writes one of its free
variables (`nonlocal`), or its closure refers to itself (a recursive inner function).
Builtins, jitted functions and bound methods of non-Module objects are not Python functions
and stay static as well.

Why not an existing tool: `jax.tree_util.Partial` / `eqx.Partial` make the *arguments* of a
function dynamic but keep the function itself static by identity (a re-created `lambda` is a
new key); `eqx.filter_closure_convert` needs example arguments and stores the traced jaxpr,
compared by identity, so a new closure is a new key too; optax transformations are not
hashable by content (optax issue #353).

`unhoist(obj)` rebuilds the original objects (real functions with real cells, original
container types) around the current leaves, tracers inside `jit`. `call_hoisted` calls a
jitted core with hoisted arguments and falls back when a closure needs a concrete value
(`if lr > 0:`, `np.asarray(data)`): first to static scalars, then to the original objects.
"""

import collections
import dis
import functools
import types
from typing import Any

import equinox as eqx
import jax
import jax.tree_util as jtu
import numpy as np

__all__ = ["hoist", "unhoist", "call_hoisted"]

_SCALARS = (bool, int, str, bytes, type(None), type(Ellipsis))
_MUTABLE = (list, dict, set, bytearray, collections.OrderedDict, collections.defaultdict,
            collections.deque)


class _Unhoistable(Exception):
    pass


class _Const:
    """A static value, equal to another only if of the same type and equal (floats: same
    bits, so `-0.0` and `0.0`, or `1` and `1.0` and `True`, never share a program)."""

    __slots__ = ("value", "key")

    def __init__(self, value):
        self.value = value
        t = type(value)
        if t is float:
            self.key = (t, value.hex())
        elif t is complex:
            self.key = (t, value.real.hex(), value.imag.hex())
        else:
            self.key = (t, value)
        hash(self.key)  # raises TypeError if unhashable

    def __eq__(self, other):
        return type(other) is _Const and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"_Const({self.value!r})"


class _ById:
    """Compares by identity (holds a strong reference, so the id is not reused)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return type(other) is _ById and self.value is other.value

    def __hash__(self):
        return id(self.value)


class _Empty:
    def __repr__(self):
        return "<empty cell>"


_EMPTY = _Empty()


@functools.lru_cache(maxsize=4096)
def _code_info(code: types.CodeType) -> tuple[bool, tuple[str, ...]]:
    """(writes one of its free variables, names it may read as globals), nested code
    objects included."""
    freevars = set(code.co_freevars)
    writes = False
    names = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        for ins in dis.get_instructions(c):
            if ins.opname in ("STORE_DEREF", "DELETE_DEREF") and ins.argval in freevars:
                writes = True
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return writes, tuple(sorted(names))


def _global_key(value):
    if type(value) in _SCALARS or type(value) in (float, complex):
        return _Const(value)
    return _ById(value)


class _HoistedFunction(eqx.Module):
    code: types.CodeType = eqx.field(static=True)
    globals: _ById = eqx.field(static=True)
    global_refs: tuple = eqx.field(static=True)
    name: str = eqx.field(static=True)
    qualname: str = eqx.field(static=True)
    cells: tuple
    defaults: tuple | None
    kwdefaults: dict | None
    attrs: dict

    def rebuild(self) -> types.FunctionType:
        cells = tuple(
            types.CellType() if c is _EMPTY else types.CellType(unhoist(c)) for c in self.cells
        )
        f = types.FunctionType(
            self.code,
            self.globals.value,
            self.name,
            None if self.defaults is None else tuple(unhoist(d) for d in self.defaults),
            cells or None,
            None if self.kwdefaults is None else {k: unhoist(v) for k, v in
                                                  self.kwdefaults.items()},
        )
        f.__qualname__ = self.qualname
        if self.attrs:
            f.__dict__.update({k: unhoist(v) for k, v in self.attrs.items()})
        return f

    def __call__(self, *args, **kwargs):
        return self.rebuild()(*args, **kwargs)


class _HoistedPartial(eqx.Module):
    func: Any
    args: tuple
    keywords: dict

    def rebuild(self) -> functools.partial:
        return functools.partial(unhoist(self.func), *(unhoist(a) for a in self.args),
                                 **{k: unhoist(v) for k, v in self.keywords.items()})

    def __call__(self, *args, **kwargs):
        return self.rebuild()(*args, **kwargs)


class _Counts:
    def __init__(self, scalars: bool, arrays: bool):
        self.scalars, self.arrays = scalars, arrays
        self.num_scalars = self.num_arrays = self.num_functions = 0
        self.active: set[int] = set()


def _is_hoisted(x) -> bool:
    return isinstance(x, (_HoistedFunction, _HoistedPartial, _Const))


def _convert(x, ctx: _Counts, in_module: bool = False):
    if isinstance(x, types.FunctionType):
        return _convert_function(x, ctx)
    if type(x) is functools.partial:
        return _HoistedPartial(
            _convert(x.func, ctx),
            tuple(_convert(a, ctx) for a in x.args),
            {k: _convert(v, ctx) for k, v in x.keywords.items()},
        )
    if eqx.is_array(x):
        if not ctx.arrays:
            raise _Unhoistable
        ctx.num_arrays += 1
        return x
    if type(x) in (float, complex):
        if ctx.scalars:
            ctx.num_scalars += 1
            return jax.device_put(x)  # weakly typed like x; jnp.asarray would compile
        return _Const(x)
    if isinstance(x, _MUTABLE) and not in_module:
        raise _Unhoistable
    if type(x) in _SCALARS:
        return _Const(x)
    # one level of pytree structure: tuples, NamedTuples, eqx.Modules, jtu.Partial, ...
    leaves, treedef = jtu.tree_flatten(x, is_leaf=lambda y: y is not x)
    if treedef.num_leaves == 1 and treedef.num_nodes == 1:  # x is a leaf: a static object
        try:
            return _Const(x)
        except TypeError:
            raise _Unhoistable from None
    inner = in_module or isinstance(x, eqx.Module)
    return jtu.tree_unflatten(treedef, [_convert(y, ctx, inner) for y in leaves])


def _convert_function(f: types.FunctionType, ctx: _Counts):
    code = f.__code__
    writes, names = _code_info(code)
    if writes or id(f) in ctx.active:
        raise _Unhoistable
    ctx.active.add(id(f))
    try:
        cells = []
        for c in f.__closure__ or ():
            try:
                v = c.cell_contents
            except ValueError:
                cells.append(_EMPTY)
                continue
            cells.append(_convert(v, ctx))
        defaults = None if f.__defaults__ is None else tuple(
            _convert(d, ctx) for d in f.__defaults__)
        kwdefaults = None if f.__kwdefaults__ is None else {
            k: _convert(v, ctx) for k, v in f.__kwdefaults__.items()}
        attrs = {k: _convert(v, ctx) for k, v in f.__dict__.items()}
        g = f.__globals__
        refs = tuple((n, _global_key(g[n])) for n in names if n in g)
    finally:
        ctx.active.discard(id(f))
    ctx.num_functions += 1
    return _HoistedFunction(code, _ById(g), refs, f.__name__, f.__qualname__, tuple(cells),
                            defaults, kwdefaults, attrs)


def _hoist(obj, *, scalars: bool, arrays: bool = True):
    """`(converted, counts)`; `obj` itself where it cannot be converted."""
    ctx = _Counts(scalars, arrays)
    try:
        out = _convert(obj, ctx)
    except _Unhoistable:
        return obj, _Counts(scalars, arrays)
    except TypeError:  # an unhashable static leaf deep inside
        return obj, _Counts(scalars, arrays)
    if not ctx.num_functions:  # nothing to gain: no function in `obj`
        return obj, _Counts(scalars, arrays)
    return out, ctx


def hoist(obj: Any, *, scalars: bool = True, arrays: bool = True) -> Any:
    r"""`obj` (a function, an optax transformation, any pytree of them) as a pytree whose
    static part compares by value (see the module docstring). `arrays=False` keeps every leaf
    static (for host callbacks): then closures over arrays are not converted. Returns `obj`
    itself where it cannot be converted faithfully."""
    return _hoist(obj, scalars=scalars and arrays, arrays=arrays)[0]


def unhoist(obj: Any) -> Any:
    """Inverse of `hoist`: the original objects around the current leaves."""
    if isinstance(obj, _Const):
        return obj.value
    if isinstance(obj, (_HoistedFunction, _HoistedPartial)):
        return obj.rebuild()
    if isinstance(obj, (types.FunctionType, jax.Array, np.ndarray)) or type(obj) in _SCALARS:
        return obj
    leaves, treedef = jtu.tree_flatten(obj, is_leaf=_is_hoisted)
    if not any(_is_hoisted(x) for x in leaves):
        return obj
    return jtu.tree_unflatten(treedef, [unhoist(x) if _is_hoisted(x) else x for x in leaves])


# Raised at trace time when code needs a concrete value where it now gets a tracer.
_NEEDS_CONCRETE = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
    jax.errors.NonConcreteBooleanIndexError,
)


def call_hoisted(core, objs: tuple, *args, **kwargs):
    r"""`core(*hoist(objs), *args, **kwargs)` for a jitted `core` that `unhoist`s its first
    `len(objs)` arguments.

    Tries, in order: arrays and (under `jax_enable_x64`) Python floats of the closures
    dynamic; floats static; the original objects (the behaviour without hoisting). A tier
    is skipped when it would change nothing, and only errors that mean "this closure needs
    a concrete value" move to the next tier, so any other error surfaces at once, and the
    last tier's error is the one the user would have seen without hoisting. A closure that
    needs a concrete value pays one failed trace per call (the failure is not cached).
    """
    tiers = []
    # traced Python floats reproduce Python's arithmetic exactly only in float64
    dyn = [_hoist(o, scalars=bool(jax.config.jax_enable_x64)) for o in objs]
    tiers.append(tuple(h for h, _ in dyn))
    if any(c.num_scalars for _, c in dyn):
        stat = [_hoist(o, scalars=False) for o in objs]
        tiers.append(tuple(h for h, _ in stat))
    else:
        stat = dyn
    if any(c.num_arrays for _, c in stat):
        tiers.append(tuple(objs))
    for k, tier in enumerate(tiers):
        try:
            return core(*tier, *args, **kwargs)
        except _NEEDS_CONCRETE:
            if k == len(tiers) - 1:
                raise
    raise AssertionError("unreachable")


def bucket(n: int) -> int:
    """The history length compiled for `n` steps: the next power of two, so `steps` is a
    traced loop bound and 257..512 steps share one program."""
    return 1 << max(n - 1, 0).bit_length()


def trim(x: Any, n: int) -> Any:
    """`x[:n]` for every array of `x` (the histories, allocated for `bucket(n)`). For a
    concrete single-device array the slice is taken on the host and put back on the same
    device: `x[:n]` or `jnp.asarray` would compile a tiny program per `n`, `device_put` does
    not. Tracers (inside the user's `jit` / `vmap`) and multi-device arrays are sliced by JAX."""

    def one(a):
        if not eqx.is_array(a):
            return a
        if isinstance(a, jax.core.Tracer) or not isinstance(a, jax.Array):
            return a[:n]
        devices = a.devices()
        if len(devices) != 1:
            return a[:n]
        return jax.device_put(np.asarray(a)[:n], next(iter(devices)))

    return jtu.tree_map(one, x)
