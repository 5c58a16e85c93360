"""Charts that render with no network: every altair chart this project shows goes through here.

altair 6 emits Vega-Lite 6. JupyterLab 4's built-in renderer draws Vega-Lite only up to v5,
so a plain altair chart falls back to altair's HTML output, which loads vega from a CDN: on
a machine without internet (most clusters) the output is "Error loading script". Instead,
:func:`offline_chart` shows the chart's spec as ``application/vnd.vegalite.v5+json``, which
JupyterLab, Notebook 7 and VS Code draw with the Vega-Lite 5 renderer they ship: nothing is
fetched, no JavaScript is sent and the kernel does no work. The charts made here use only
marks and encodings Vega-Lite 5 and 6 share. ``to_svg()`` draws one in the kernel instead
(vl-convert-python, optional) for places with no Vega renderer.

Chart makers return ``offline_chart(chart)``; ``.chart`` is the altair object.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OfflineChart", "offline_chart", "vegalite_spec"]

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
VEGALITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: how the front end's vega-embed draws the chart: SVG (marks are DOM nodes), no action menu
EMBED_OPTIONS = {"renderer": "svg", "actions": False}


def vegalite_spec(chart: Any) -> dict[str, Any]:
    """``chart`` as a Vega-Lite dict with the v5 schema (what the notebook's renderer draws)."""
    if hasattr(chart, "to_dict"):
        # validated when built: a second schema validation here only costs time
        spec: dict[str, Any] = chart.to_dict(validate=False)
    else:
        spec = dict(chart)
    spec["$schema"] = VEGALITE_SCHEMA
    return spec


class OfflineChart:
    """An altair chart shown with no network (see the module docstring).

    Attributes
    ----------
    chart
        The altair chart (compose, restyle or ``save`` it as usual).
    """

    def __init__(self, chart: Any) -> None:
        self.chart = chart

    def spec(self) -> dict[str, Any]:
        """The Vega-Lite spec shown (v5 schema)."""
        return vegalite_spec(self.chart)

    def to_svg(self) -> str:
        """The chart drawn as SVG in the kernel (needs vl-convert-python; a second or more)."""
        try:
            import vl_convert as vlc
        except ImportError:
            raise ImportError(
                "to_svg() draws in the kernel with vl-convert: pip install vl-convert-python"
            ) from None
        svg: str = vlc.vegalite_to_svg(self.chart.to_dict())
        return svg

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        title = _title(self.chart)
        text = f"<chart{': ' + title if title else ''} (needs a Jupyter front end to draw)>"
        return (
            {VEGALITE_MIME: self.spec(), "text/plain": text},
            {VEGALITE_MIME: {"embed_options": EMBED_OPTIONS}},
        )

    def __getattr__(self, name: str) -> Any:
        # everything else (to_dict, save, properties, ...) is the altair chart's
        if name == "chart":
            raise AttributeError(name)
        return getattr(self.chart, name)

    def __repr__(self) -> str:
        return f"OfflineChart({type(self.chart).__name__}, title={_title(self.chart)!r})"


def _title(chart: Any) -> str:
    t = getattr(chart, "title", None)
    if isinstance(t, str):
        return t
    text = getattr(t, "text", None)
    return text if isinstance(text, str) else ""


def offline_chart(chart: Any) -> OfflineChart:
    """Wrap an altair chart so that it renders with no network (the one function to call).

    Parameters
    ----------
    chart
        Any altair chart (``Chart``, ``LayerChart``, ``VConcatChart``, ...).

    Returns
    -------
    OfflineChart
        Displays as a Vega-Lite 5 spec drawn by the notebook's own renderer; ``.chart`` is the
        altair object; other attributes are the chart's.
    """
    if isinstance(chart, OfflineChart):
        return chart
    if not hasattr(chart, "to_dict"):
        raise TypeError(f"offline_chart takes an altair chart; got {type(chart).__name__}")
    return OfflineChart(chart)
