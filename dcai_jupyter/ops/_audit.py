"""``ds.audit()``: every issue type in one call, from one set of probabilities and one
neighbour graph, recorded as one event.

The audit is the composition of the issue-type operations (each one registered, each
one usable on its own): :class:`~dcai_jupyter.ops.LabelIssues` (``label``),
:class:`~dcai_jupyter.ops.Duplicates` (``near_duplicate``),
:class:`~dcai_jupyter.ops.Outliers` (``outlier``), :class:`NullRows` (``null``),
:class:`ClassImbalance`, :class:`NonIID`, :class:`UnderperformingGroup`,
:class:`DataValuation`, :class:`Leakage` (with ``test=``), :class:`Identifiers`
(``identifier``), :class:`TargetLeak` and :class:`ImageIssues` (``image``, with an image
column). It builds one :class:`~._audit_context.AuditContext` (the out-of-sample
probabilities and the neighbour graph, each computed once) and runs each type's find
step with it active; the result is an :class:`Audit`: one ``Findings`` per type and a
summary frame.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._audit_context import AuditContext, activate

if TYPE_CHECKING:  # pragma: no cover
    from ..core import Dataset, Findings

__all__ = ["ISSUE_TYPES", "Audit", "run_audit"]

#: every issue type, in report order, with why it matters and what to do
ISSUE_TYPES: dict[str, str] = {
    "label": "Wrong labels teach the model the wrong answer: review the suggestions and "
    "accept the right ones.",
    "near_duplicate": "Copies weigh some samples twice and leak between folds: keep one per group.",
    "outlier": "Samples unlike any other may be errors or a population the model never "
    "learns: check them, remove the broken ones.",
    "null": "Rows that are mostly missing carry little signal and hide broken records: fix "
    "or remove them (and drop columns that are mostly missing).",
    "class_imbalance": "A class far rarer than the rest is learned poorly: collect or label "
    "more of it, or weigh it.",
    "non_iid": "The rows' order carries information (sorted, drifting): shuffle before "
    "splitting, and check for drift before trusting a random split.",
    "underperforming_group": "The model is much worse in part of the data: look at that "
    "group, label more of it or check its labels.",
    "data_valuation": "Samples of negative value make the model worse around them: review "
    "them first, remove those that are wrong.",
    "leakage": "Test rows copied from the training set inflate test scores: drop the copies "
    "from one side.",
    "identifier": "A column unique per row is an id, not a feature: leave it out of the model.",
    "target_leak": "A column that alone predicts the label almost perfectly is likely the "
    "answer leaked into the features: check how it was made before training on it.",
    "image": "Dark, overexposed, blurry or odd-sized images are often broken captures: look "
    "at them, remove the unusable ones.",
}
#: types that need labels, probabilities, the neighbour graph
_NEEDS_LABELS = {
    "label",
    "class_imbalance",
    "underperforming_group",
    "data_valuation",
    "target_leak",
}
_NEEDS_PROBS = {"label", "underperforming_group"}
_NEEDS_GRAPH = {
    "near_duplicate",
    "outlier",
    "non_iid",
    "underperforming_group",
    "data_valuation",
}
#: types whose findings flag columns, not rows
_COLUMN_TYPES = {"identifier", "target_leak"}


def _operation(
    kind: str,
    *,
    test: Any,
    features: Sequence[str] | None,
    model: Any,
    cv: int,
    n_jobs: int | None,
    random_state: int | None,
) -> Any:
    from . import _audit_columns as columns_
    from . import _audit_image as image_
    from . import _audit_model as model_
    from . import _audit_order as order_
    from . import _audit_rows as rows_
    from ._duplicates import Duplicates
    from ._label_issues import LabelIssues
    from ._outliers import Outliers

    f = None if features is None else list(features)
    if kind == "label":
        return LabelIssues(model=model, cv=cv, n_jobs=n_jobs, random_state=random_state, features=f)
    if kind == "near_duplicate":
        return Duplicates(features=f, random_state=random_state)
    if kind == "outlier":
        return Outliers(features=f, random_state=random_state, progress=False)
    if kind == "null":
        return rows_.NullRows()
    if kind == "class_imbalance":
        return rows_.ClassImbalance()
    if kind == "non_iid":
        return order_.NonIID(features=f, random_state=random_state)
    if kind == "underperforming_group":
        return model_.UnderperformingGroup(
            model=model, cv=cv, n_jobs=n_jobs, features=f, random_state=random_state
        )
    if kind == "data_valuation":
        return model_.DataValuation(features=f, random_state=random_state)
    if kind == "leakage":
        return columns_.Leakage(test=test, features=f, random_state=random_state)
    if kind == "identifier":
        return columns_.Identifiers()
    if kind == "target_leak":
        return columns_.TargetLeak(random_state=random_state)
    if kind == "image":
        return image_.ImageIssues()
    raise ValueError(f"unknown issue type {kind!r}; the types are {list(ISSUE_TYPES)}")


def _severity(kind: str, share: float, findings: Findings) -> str:
    a = findings.frame.attrs
    if kind in _COLUMN_TYPES:
        cols = a.get("columns", {})
        return ("high" if kind == "target_leak" else "medium") if cols else "none"
    if kind == "non_iid":
        p = a.get("p_value", 1.0)
        return "high" if p < 1e-6 else "medium" if a.get("significant") else "none"
    n = int(findings.flags.sum())
    if kind == "null" and a.get("columns"):
        return "medium" if share < 0.05 else "high"
    if n == 0:
        return "none"
    if kind in ("leakage", "label") and share >= 0.01:
        return "high"
    return "high" if share >= 0.05 else "medium" if share >= 0.01 else "low"


def _detail(kind: str, findings: Findings) -> str:
    a = findings.frame.attrs
    if kind in _COLUMN_TYPES or (kind == "null" and a.get("columns")):
        cols = a.get("columns", {})
        if not cols:
            return ""
        shown = ", ".join(
            f"{c} ({v:.0%})" if kind != "identifier" else str(c) for c, v in list(cols.items())[:5]
        )
        what = {"identifier": "unique per row", "target_leak": "accuracy alone", "null": "missing"}[
            kind
        ]
        return f"columns ({what}): {shown}"
    if kind == "non_iid":
        return f"p = {a.get('p_value', 1.0):.2g}, KS distance {a.get('statistic', 0.0):.3f}"
    if kind == "class_imbalance" and a.get("classes"):
        return "rare: " + ", ".join(f"{c} ({k})" for c, k in a["classes"].items())
    if kind == "underperforming_group" and a.get("groups"):
        return (
            "; ".join(
                f"group {g}: {v['rows']} rows at accuracy {v['accuracy']:.2f}"
                for g, v in list(a["groups"].items())[:3]
            )
            + f" (overall {a.get('accuracy', 0):.2f})"
        )
    if kind == "leakage":
        return f"{len(a.get('test_rows', {}))} of {a.get('n_test', 0)} test rows copy training rows"
    if kind == "image" and a.get("counts"):
        return ", ".join(f"{k} {v}" for k, v in a["counts"].items() if v)
    if kind == "near_duplicate":
        g = findings.column("group")
        return "" if g is None else f"{int(g.dropna().nunique())} groups"
    return ""


class Audit:
    """What ``ds.audit()`` found: one ``Findings`` per issue type and a summary.

    ``audit["label"]`` is the label type's findings (the same ``Findings`` the grid, the
    editor and the history take); ``audit.summary`` has one row per type: ``rows`` (flagged),
    ``share``, ``severity`` (``high``/``medium``/``low``/``none``), ``detail`` (columns,
    p-value, groups), ``action`` (what accepting a finding does), ``why`` (why it matters and
    what to do), ``seconds``, ``error`` (when a type could not run).
    """

    def __init__(
        self,
        ds: Dataset,
        findings: dict[str, Findings],
        summary: pd.DataFrame,
        params: dict[str, Any],
        version: int,
    ) -> None:
        self.ds = ds
        self.findings = findings
        self.summary = summary
        self.params = params
        self.version = version

    @property
    def types(self) -> list[str]:
        """The issue types that ran, in report order."""
        return list(self.findings)

    def __getitem__(self, kind: str) -> Findings:
        try:
            return self.findings[kind]
        except KeyError:
            why = ""
            if kind in self.summary.index and self.summary.loc[kind, "error"]:
                why = f" ({kind}: {self.summary.loc[kind, 'error']!s})"
            raise KeyError(
                f"no {kind!r} findings in this audit; it has {self.types}{why}"
            ) from None

    def __contains__(self, kind: object) -> bool:
        return kind in self.findings

    def __iter__(self) -> Iterator[str]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def report(self) -> str:
        """The summary as text: one line per type, most severe first."""
        order = {"high": 0, "medium": 1, "low": 2, "none": 3, "skipped": 4, "error": 5}
        s = self.summary.sort_values("severity", key=lambda c: c.map(order), kind="stable")
        lines = [f"Audit of {len(self.ds)} rows at version {self.version}:"]
        for kind, row in s.iterrows():
            detail = f"; {row['detail']}" if row["detail"] else ""
            if row["severity"] in ("skipped", "error"):
                lines.append(f"  {kind:<22} {row['severity']}: {row['error']}")
                continue
            lines.append(
                f"  {kind:<22} {row['severity']:<7} {row['rows']:>6} rows ({row['share']:.1%}){detail}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        cols = ["rows", "share", "severity", "detail", "why"]
        table = self.summary[cols].copy()
        table["share"] = [f"{v:.1%}" for v in table["share"]]
        return (
            f"<p><b>Audit</b>: {len(self.ds)} rows at version {int(self.version)}; "
            "open a type with <code>dj.AuditReport(audit)</code> or "
            "<code>audit['label']</code></p>" + table.to_html(escape=True)
        )


def _applicable(
    ds: Dataset, test: Any, types: Sequence[str] | None
) -> tuple[list[str], dict[str, str]]:
    has_labels = bool(len(ds)) and bool(
        (~pd.isna(pd.Series(np.asarray(ds.column(ds.label), dtype=object), dtype=object))).any()
    )
    image = getattr(ds, "image_column", None)
    skipped: dict[str, str] = {}
    if types is None:
        chosen = []
        for kind in ISSUE_TYPES:
            if kind == "leakage" and test is None:
                skipped[kind] = "no test set (pass test=)"
            elif kind == "image" and not image:
                skipped[kind] = "no image column"
            elif kind in _NEEDS_LABELS and not has_labels:
                skipped[kind] = "no labels"
            else:
                chosen.append(kind)
        return chosen, skipped
    if isinstance(types, str):
        types = [types]
    unknown = [t for t in types if t not in ISSUE_TYPES]
    if unknown:
        raise ValueError(f"unknown issue types {unknown}; the types are {list(ISSUE_TYPES)}")
    if "leakage" in types and test is None:
        raise ValueError("the leakage type compares with a test set: pass test=")
    return [t for t in ISSUE_TYPES if t in types], skipped


def run_audit(
    ds: Dataset,
    *,
    types: Sequence[str] | None = None,
    test: Any = None,
    features: Sequence[str] | None = None,
    model: Any = None,
    cv: int = 5,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    pred_probs: Any = None,
    progress: bool = True,
) -> Audit:
    """Run every issue type on ``ds`` from one context; record one ``audit`` event.

    See :meth:`dcai_jupyter.Dataset.audit` for the parameters.
    """
    from ._params import to_json
    from ._progress import progress_bar

    if len(ds) == 0:
        raise ValueError("the dataset is empty: there is nothing to audit")
    chosen, skipped = _applicable(ds, test, types)
    opts = {
        "test": test,
        "features": features,
        "model": model,
        "cv": cv,
        "n_jobs": n_jobs,
        "random_state": random_state,
    }
    ops = {k: _operation(k, **opts) for k in chosen}
    ctx = AuditContext(
        ds,
        features=features,
        model=model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        pred_probs=pred_probs,
        progress=False,
    )
    stages = (["probabilities"] if _NEEDS_PROBS & set(chosen) else []) + (
        ["neighbours"] if _NEEDS_GRAPH & set(chosen) else []
    )
    findings: dict[str, Findings] = {}
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    with (
        activate(ctx),
        progress_bar(total=len(stages) + len(chosen), desc="audit", disable=not progress) as bar,
    ):
        for stage in stages:
            bar.set_postfix_str(stage)
            t0 = time.perf_counter()
            try:
                ctx.probs if stage == "probabilities" else ctx.graph  # noqa: B018
            except Exception as e:  # the types that need it report the error
                errors[stage] = f"{type(e).__name__}: {e}"
            seconds[stage] = time.perf_counter() - t0
            bar.update(1)
        for kind in chosen:
            bar.set_postfix_str(kind)
            t0 = time.perf_counter()
            op = ops[kind]
            try:
                if kind == "label":
                    from ._audit_model import label_findings

                    found = label_findings(op, ds, ctx).as_found()
                else:
                    found = op._find(ds).as_found()
                op.findings_ = found
                findings[kind] = found
            except Exception as e:
                errors[kind] = f"{type(e).__name__}: {e}"
            seconds[kind] = time.perf_counter() - t0
            bar.update(1)
    n = len(ds)
    for kind in ISSUE_TYPES:
        if kind in findings:
            f = findings[kind]
            k = int(f.flags.sum())
            share = k / n if n else 0.0
            rows.append(
                {
                    "type": kind,
                    "rows": k,
                    "share": share,
                    "severity": _severity(kind, share, f),
                    "detail": _detail(kind, f),
                    "action": f.action,
                    "why": ISSUE_TYPES[kind],
                    "seconds": round(seconds.get(kind, 0.0), 3),
                    "error": "",
                }
            )
        elif kind in errors or kind in skipped:
            rows.append(
                {
                    "type": kind,
                    "rows": 0,
                    "share": 0.0,
                    "severity": "error" if kind in errors else "skipped",
                    "detail": "",
                    "action": "",
                    "why": ISSUE_TYPES[kind],
                    "seconds": round(seconds.get(kind, 0.0), 3),
                    "error": errors.get(kind) or skipped.get(kind, ""),
                }
            )
    summary = pd.DataFrame(rows).set_index("type")
    params = {
        "types": None
        if types is None
        else [str(t) for t in ([types] if isinstance(types, str) else types)],
        "features": None if features is None else [str(c) for c in features],
        "model": to_json(model),
        "cv": cv,
        "n_jobs": n_jobs,
        "random_state": random_state,
    }
    if test is not None:
        params["test"] = (
            ops["leakage"].json_params()["test"] if "leakage" in ops else {"rows": len(test)}
        )
    if pred_probs is not None:
        import hashlib

        P = np.ascontiguousarray(np.asarray(pred_probs, dtype=np.float64))
        params["pred_probs"] = {
            "shape": list(P.shape),
            "digest": hashlib.sha256(P.tobytes()).hexdigest()[:16],
        }
    record: dict[str, dict[str, Any]] = {
        kind: {
            **f.summary(),
            "op": f.op,
            "params": f.params,
            "severity": summary.loc[kind, "severity"],
            "detail": summary.loc[kind, "detail"],
        }
        for kind, f in findings.items()
    }
    for kind, why in {**errors, **skipped}.items():
        record.setdefault(kind, {"error": why})
    for entry in record.values():
        entry.pop("top_ids", None)
    record["_stages"] = {
        k: round(v, 3) for k, v in seconds.items() if k in ("probabilities", "neighbours")
    }
    ds.history.record_event("audit", params, record)
    return Audit(ds, findings, summary, params, int(ds.version))
