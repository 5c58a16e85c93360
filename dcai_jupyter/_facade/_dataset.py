"""``Dataset`` = ``core.Dataset`` + the operation mixins + notebook display."""

from __future__ import annotations

from typing import Any

from ..core import Dataset as _CoreDataset
from ..core._provenance import overridden_source
from ._add import AddMixin
from ._audit import AuditMixin
from ._display import DisplayMixin
from ._evaluate import EvaluateMixin
from ._labels import LabelsMixin
from ._modify import ModifyMixin
from ._recipe_history import RecipeHistoryMixin
from ._remove import RemoveMixin
from ._synthesize import SynthesizeMixin

_EMBED_DOC = """
    Text meaning (``dj.Dataset`` only): ``embed=None`` embeds text columns with WordLlama
    besides TF-IDF when the ``text`` extra is installed (else TF-IDF alone, said once);
    ``embed=fn`` takes a registered function ``texts -> 2-D array`` (``dj.register_transform``;
    the history records its name and a recipe replay uses it again); ``embed=False`` turns
    embeddings off. The vectors are computed once per text column and version, and never
    stored in the history. Label issues, near copies and active learning read them.
"""


#: the notices this process has printed: each is said once
_said: set[str] = set()


def _say_once(line: str) -> None:
    """Print ``line`` unless this process printed it already. stdout: an expected situation
    said in plain text, not a warning (stderr shows as a pink box in Jupyter)."""
    if line not in _said:
        _said.add(line)
        print(line)


class Dataset(
    LabelsMixin,
    RemoveMixin,
    SynthesizeMixin,
    ModifyMixin,
    AddMixin,
    EvaluateMixin,
    RecipeHistoryMixin,
    AuditMixin,
    DisplayMixin,
    _CoreDataset,
):
    __doc__ = (_CoreDataset.__doc__ or "") + _EMBED_DOC

    def __init__(self, df: Any, /, *, embed: Any = None, **kwargs: Any) -> None:
        from ..ops._roles_setting import record_roles
        from ..ops._text_vectors import resolve_embed, set_embed

        setting = resolve_embed(embed)  # a bad embed= fails before anything is created
        super().__init__(df, **kwargs)
        # a recipe replay sets the recorded embedder itself, after making its dataset
        if setting[0] is None and self.text_columns and overridden_source() != "recipe":
            _say_once(
                "dcai_jupyter: text columns are read as TF-IDF words only; for their meaning "
                "too (paraphrases), pip install 'dcai-jupyter[text]', or pass embed=<function>"
            )
        set_embed(self, setting)
        # the decided column roles, for a recipe replay from the history file alone
        record_roles(self)


__all__ = ["Dataset"]
