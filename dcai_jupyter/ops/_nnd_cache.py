"""pynndescent's compiled kernels kept in numba's disk cache, so a new process loads them.

pynndescent compiles its NN-descent kernels with numba in every new process (~14 s before
the first approximate graph on this machine) and asks numba to keep few of them on disk.
Two kinds of kernel:

- **Array-only kernels** (heaps, candidate lists, the random-projection trees): numba's
  on-disk cache (``cache=True``) can keep them as they are (:func:`cache_kernels`).
- **Kernels that take the distance function** as an argument: numba specialises each on
  that function object and keys its cache entry on the object's identity, a uuid drawn
  anew in every process, so a cached entry never matched again and a new one was written
  each time. :func:`kernels_on_disk` first gives pynndescent's own distance
  functions a fixed identity (derived from pynndescent's version and the function's
  code), then lets numba keep these kernels too, for the duration of the service's own
  graph only: a user's own metric passed to pynndescent elsewhere in the process still
  compiles in memory, as pynndescent made it, and writes nothing.

Nothing changes in what is computed: the same functions, the same graph bit for bit
(``tests/test_neighbours.py``). Two kernels still compile in every process (``nn_descent``
and ``nn_descent_internal`` ask numba for its thread count, a pointer numba will not
store). Best effort throughout: a numba or pynndescent without these hooks, a distance
whose identity was already drawn (it was pickled), or no writable cache directory leave
the kernels compiling in memory as before.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["cache_kernels", "kernels_on_disk"]

#: parameters through which pynndescent passes a distance function to a kernel
_FUNCTION_PARAMS = frozenset({"dist", "dist_func", "distance_func", "distance"})
#: numba's private name of a dispatcher's identity (``_MemoMixin.__uuid``)
_UUID_ATTR = "_MemoMixin__uuid"


@functools.lru_cache(maxsize=1)
def _kernels() -> tuple[tuple[Any, bool], ...]:
    """Every numba kernel defined in pynndescent, with whether it takes a distance."""
    import importlib
    import inspect
    import pkgutil

    try:
        import pynndescent
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - main dependencies
        return ()
    found = []
    for info in pkgutil.iter_modules(pynndescent.__path__):
        try:
            module = importlib.import_module(f"pynndescent.{info.name}")
        except Exception:  # an optional part of pynndescent (e.g. sparse)
            continue
        for obj in list(vars(module).values()):
            if not isinstance(obj, CPUDispatcher) or obj.py_func.__module__ != module.__name__:
                continue
            params = inspect.signature(obj.py_func).parameters.values()
            takes = any(
                p.name in _FUNCTION_PARAMS or isinstance(p.default, CPUDispatcher) for p in params
            )
            found.append((obj, takes))
    return tuple(found)


def _uncached(obj: Any) -> bool:
    return type(getattr(obj, "_cache", None)).__name__ == "NullCache"


def _enable(obj: Any) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj.enable_caching()
    except Exception:  # no cache locator for this file: compile in memory
        return False
    return True


@functools.lru_cache(maxsize=1)
def cache_kernels() -> int:
    """Let numba keep pynndescent's array-only kernels on disk; how many were enabled."""
    return sum(_enable(obj) for obj, takes in _kernels() if not takes and _uncached(obj))


@functools.lru_cache(maxsize=1)
def _stable_distances() -> bool:
    """Give each of pynndescent's distance functions a fixed identity; False if any could
    not get one (its identity was drawn already: then none of the kernels is cached)."""
    try:
        import numba
        import pynndescent
        from numba.core.registry import CPUDispatcher
        from pynndescent import distances
    except ImportError:  # pragma: no cover - main dependencies
        return False
    version = f"{getattr(pynndescent, '__version__', '?')}/numba {numba.__version__}"
    for name, obj in list(vars(distances).items()):
        if not isinstance(obj, CPUDispatcher) or not hasattr(obj, "_set_uuid"):
            continue
        code = obj.py_func.__code__
        digest = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16]
        stable = f"dcai_jupyter:pynndescent.distances.{name}:{version}:{digest}"
        current = vars(obj).get(_UUID_ATTR)
        if current == stable:
            continue
        if current is not None:
            return False
        try:
            obj._set_uuid(stable)
        except Exception:  # pragma: no cover - a numba without this hook
            return False
    return True


@functools.lru_cache(maxsize=1)
def _distance_kernels() -> tuple[Any, ...]:
    """The kernels taking a distance that numba can keep on disk (none without stable
    identities; not those reading numba's thread count, a pointer numba will not store)."""
    if not _stable_distances():
        return ()
    return tuple(
        obj
        for obj, takes in _kernels()
        if takes and "get_num_threads" not in obj.py_func.__code__.co_names
    )


@contextlib.contextmanager
def kernels_on_disk() -> Iterator[None]:
    """While inside: pynndescent's kernels load from and save to numba's disk cache, the
    array-only ones from the first call on (:func:`cache_kernels`), those taking a
    distance only while inside (with pynndescent's own distances, whose identities are
    fixed here)."""
    cache_kernels()
    turned = [obj for obj in _distance_kernels() if _uncached(obj) and _enable(obj)]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Cannot cache compiled function")
            yield
    finally:
        from numba.core.caching import NullCache

        for obj in turned:
            obj._cache = NullCache()
