"""``dj.Dataset``'s operation methods are derived from the operation classes (one source).

The review found the facade copied by hand: ``find_duplicates`` had no ``n_jobs`` though
``Duplicates`` takes it. Each derived method's signature is its operation's constructor
parameters (plus the apply step's selection options and ``reason``), its docstring
holds the class's Parameters text, and every registered operation is on the facade.
"""

from __future__ import annotations

import inspect

import pytest

import dcai_jupyter as dj
from dcai_jupyter._facade._derive import _param_doc
from dcai_jupyter.ops import Duplicates, Unlabel, registry

#: registered operations a person reaches through hand-written methods, and why
BY_HAND = {
    # ds.unlabel(ids) takes back anyone's labels; ds.remove_pseudo_labels() only pseudo-labels
    Unlabel: ("unlabel", "remove_pseudo_labels"),
}


def _derived() -> dict[str, tuple[type, str]]:
    out = {}
    for name in dir(dj.Dataset):
        fn = getattr(dj.Dataset, name, None)
        wrapped = getattr(fn, "__wrapped_operation__", None)
        if wrapped:
            out[name] = wrapped
    return out


def test_every_registered_operation_is_on_the_facade():
    derived = {cls for cls, _ in _derived().values()}
    for op, cls in registry().items():
        if cls in BY_HAND:
            assert all(hasattr(dj.Dataset, m) for m in BY_HAND[cls])
            continue
        assert cls in derived, f"{op} ({cls.__name__}) has no dj.Dataset method derived from it"


@pytest.mark.parametrize("name", sorted(_derived()))
def test_a_derived_method_has_its_operations_parameters_and_docs(name):
    cls, kind = _derived()[name]
    method = getattr(dj.Dataset, name)
    sig = inspect.signature(method)
    init = {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}
    if kind in ("find", "make"):
        for n, p in init.items():
            assert n in sig.parameters, f"ds.{name} lacks {cls.__name__}'s {n!r}"
            assert sig.parameters[n].default == p.default, (name, n)
    if kind in ("act", "make"):
        for s in cls.selectors:
            assert s in sig.parameters, (name, s)
        assert "reason" in sig.parameters
    if kind == "find":
        assert _param_doc(cls) in method.__doc__
    if kind == "make":
        assert _param_doc(cls) in method.__doc__
    assert method.__doc__.splitlines()[0].strip(), f"ds.{name} has no summary line"
    assert "Returns\n-------" in method.__doc__, f"ds.{name} documents no return value"


def test_find_duplicates_takes_n_jobs_now():
    assert "n_jobs" in inspect.signature(dj.Dataset.find_duplicates).parameters


def test_remove_duplicates_by_hand_agrees_with_the_operation():
    sig = inspect.signature(dj.Dataset.remove_duplicates).parameters
    init = inspect.signature(Duplicates.__init__).parameters
    for n in ("keep", "near", "threshold", "features", "random_state"):
        assert sig[n].default == init[n].default, n


def test_a_wrong_keyword_is_a_clear_error_that_records_nothing():
    import pandas as pd

    ds = dj.Dataset(pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "label": list("abab")}), label="label")
    with pytest.raises(TypeError, match="treshold"):
        ds.find_outliers(treshold=3)
    with pytest.raises(TypeError, match="top"):
        ds.augment("jitter", top=3)
    assert ds.version == 0 and len(ds.history.events) == 0
