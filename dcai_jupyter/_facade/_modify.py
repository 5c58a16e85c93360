"""Modify data: augmentation (typed one-line methods onto the operations)."""

from __future__ import annotations

from ..ops import Augment
from ._derive import make_method


class ModifyMixin:
    augment = make_method(Augment, "augment", positional=("transform",))

    def remove_augmented(self, *, origin: str = "augmented", reason: str | None = None) -> int:
        """Remove every row whose origin is ``origin`` (or ``origin:...``): one recorded change.

        Parameters
        ----------
        origin
            ``"augmented"`` (all augmented rows) or e.g. ``"augmented:shift+noise"``.
        reason
            Recorded with the change.

        Returns
        -------
        int
            The new version.
        """
        return int(self.remove_origin(origin, reason=reason))  # type: ignore[attr-defined]
