"""Synthesize data: SMOTE and targeted synthesis (typed one-line methods onto the operations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


from ..ops import Synthesize
from ._derive import make_method


class SynthesizeMixin:
    synthesize = make_method(Synthesize, "synthesize")

    def remove_synthetic(self, *, origin: str = "synthetic", reason: str | None = None) -> int:
        """Remove every row whose origin is ``origin`` (or ``origin:...``): one recorded change.

        Parameters
        ----------
        origin
            ``"synthetic"`` (all synthetic rows), ``"synthetic:smote"``, ... (see
            ``ds.origins``).
        reason
            Recorded with the change.

        Returns
        -------
        int
            The new version.
        """
        return int(self.remove_origin(origin, reason=reason))  # type: ignore[attr-defined]
