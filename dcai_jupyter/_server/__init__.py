"""Jupyter server extension: the read-only history API behind the Data history panel.

Enabled by ``etc/jupyter/jupyter_server_config.d/dcai_jupyter.json``, which the wheel
installs; it imports ``dcai_jupyter.core`` only (lazily, on the first request).
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "dcai_jupyter._server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from ._handlers import setup_handlers

    setup_handlers(serverapp.web_app)
    serverapp.log.info("dcai_jupyter: Data history API at %sdcai/api/", serverapp.base_url)


# the name jupyter_server looked for before 2.0
load_jupyter_server_extension = _load_jupyter_server_extension
