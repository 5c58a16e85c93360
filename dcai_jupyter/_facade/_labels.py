"""Fix labels: ``ds.find_label_issues()`` and ``ds.accept_suggestions()`` (derived from
:class:`~dcai_jupyter.ops.LabelIssues`)."""

from __future__ import annotations

from ..ops import LabelIssues
from ._derive import act_method, find_method


class LabelsMixin:
    find_label_issues = find_method(LabelIssues, "find_label_issues")
    accept_suggestions = act_method(LabelIssues, "accept_suggestions")
