"""Jupyter server extension: the read-only history API behind the Data history panel.

Enabled by ``etc/jupyter/jupyter_server_config.d/dcai_jupyter.json``, which the wheel
installs; it imports ``dcai_jupyter.core`` only (lazily, on the first request).
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "dcai_jupyter._server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    import threading

    from . import _nodelay
    from ._handlers import setup_handlers

    setup_handlers(serverapp.web_app)
    if _nodelay.enable(serverapp.web_app.settings):
        serverapp.log.info(
            "dcai_jupyter: kernel websockets send each message at once (TCP_NODELAY)"
        )
    # Import the reader's dependencies (pandas, core) off the start-up path, in the
    # background: the server starts as fast as without the extension, and the panel's
    # first request does not pay for the imports either.
    threading.Thread(target=_warm_imports, name="dcai-warm-imports", daemon=True).start()
    serverapp.log.info("dcai_jupyter: Data history API at %sdcai/api/", serverapp.base_url)


def _warm_imports() -> None:
    try:
        import dcai_jupyter.core  # noqa: F401
    except Exception:  # pragma: no cover - the first request reports any real failure
        pass


# the name jupyter_server looked for before 2.0
load_jupyter_server_extension = _load_jupyter_server_extension
