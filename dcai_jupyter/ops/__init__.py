"""Data operations: pure computations on arrays and frames, plus thin recorded wrappers.

Fix labels: :func:`find_label_issues` (bring your own ``pred_probs``),
:func:`out_of_sample_pred_probs`, :func:`default_label_issues` (the default pipeline),
:func:`feature_matrix`, :func:`label_issue_chart`; ``Dataset.find_label_issues`` /
``Dataset.accept_suggestions`` call :func:`find_dataset_label_issues` /
:func:`accept_suggestions`.
"""

from ._augment import Augment
from ._features import feature_matrix
from ._label_issues import (
    accept_suggestions,
    confident_joint,
    default_label_issues,
    find_dataset_label_issues,
    find_label_issues,
    label_issue_chart,
    label_quality_scores,
    out_of_sample_pred_probs,
    scores_digest,
)
from ._synthesize import Synthesize, synthesis_counts

__all__ = [
    "Augment",
    "Synthesize",
    "accept_suggestions",
    "confident_joint",
    "default_label_issues",
    "feature_matrix",
    "find_dataset_label_issues",
    "find_label_issues",
    "label_issue_chart",
    "label_quality_scores",
    "out_of_sample_pred_probs",
    "scores_digest",
    "synthesis_counts",
]
