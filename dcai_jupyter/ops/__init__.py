"""Data operations: pure computations on arrays and frames, and one ``Operation`` per family.

Operations (recorded, replayable; see :class:`Operation` and :func:`registry`):

- :class:`LabelIssues`: fix labels (``ds.find_label_issues()`` /
  ``ds.accept_suggestions()``).

Computations (array in, array or frame out; they change nothing):

- confident learning: :func:`find_label_issues` (bring your own ``pred_probs``),
  :func:`confident_joint`, :func:`label_quality_scores`;
- out-of-sample probabilities: :func:`out_of_sample_pred_probs` (stratified K-fold, any
  classifier or the default ensemble) over :func:`run_tasks`, the joblib runner every
  model-based operation shares; :func:`default_label_issues` (both together);
- features: :func:`feature_matrix`, :func:`dataset_feature_matrix`;
- charts: :func:`label_issue_chart`.

Recorded parameters are data: recipe replay rebuilds only scikit-learn estimator classes
from trusted packages (add yours with :func:`trust_module`) and functions registered with
:func:`register_transform`; it never imports or calls anything else.
"""

from ._active import STRATEGIES, SuggestSamples, entropy, least_confidence, margin, select_samples
from ._audit import ISSUE_TYPES, Audit, run_audit
from ._audit_columns import Identifiers, Leakage, TargetLeak
from ._audit_image import ImageIssues
from ._audit_model import DataValuation, UnderperformingGroup, knn_shapley
from ._audit_order import NonIID
from ._audit_rows import ClassImbalance, NullRows
from ._augment import Augment
from ._base import Operation, get_operation, rebuild, register, registry
from ._charts import label_issue_chart
from ._confident_learning import confident_joint, find_label_issues, label_quality_scores
from ._crossval import out_of_sample_pred_probs, run_tasks
from ._duplicates import Duplicates, content_keys, find_duplicates, normalize_text
from ._features import dataset_feature_matrix, feature_matrix
from ._label_issues import (
    LabelIssues,
    accept_suggestions,
    default_label_issues,
    find_dataset_label_issues,
    scores_digest,
)
from ._outliers import Outliers, find_outliers, outlier_scores
from ._params import ParamError, register_transform, trust_module
from ._prune import Prune, prune_mask, select_prune_rule
from ._pseudo import PseudoLabel, Unlabel
from ._synthesize import Synthesize, synthesis_counts
from ._text_embed import embed_text

__all__ = [
    "ISSUE_TYPES",
    "STRATEGIES",
    "Audit",
    "Augment",
    "ClassImbalance",
    "DataValuation",
    "Duplicates",
    "Identifiers",
    "ImageIssues",
    "LabelIssues",
    "Leakage",
    "NonIID",
    "NullRows",
    "Operation",
    "Outliers",
    "ParamError",
    "Prune",
    "PseudoLabel",
    "SuggestSamples",
    "Synthesize",
    "TargetLeak",
    "UnderperformingGroup",
    "Unlabel",
    "accept_suggestions",
    "confident_joint",
    "content_keys",
    "dataset_feature_matrix",
    "default_label_issues",
    "embed_text",
    "entropy",
    "feature_matrix",
    "find_dataset_label_issues",
    "find_duplicates",
    "find_label_issues",
    "find_outliers",
    "get_operation",
    "knn_shapley",
    "label_issue_chart",
    "label_quality_scores",
    "least_confidence",
    "margin",
    "normalize_text",
    "out_of_sample_pred_probs",
    "outlier_scores",
    "prune_mask",
    "rebuild",
    "register",
    "register_transform",
    "registry",
    "run_audit",
    "run_tasks",
    "scores_digest",
    "select_prune_rule",
    "select_samples",
    "synthesis_counts",
    "trust_module",
]
