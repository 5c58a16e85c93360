"""Kernel websockets send each message at once: the socket jupyter_server's handler opens gets
TCP_NODELAY from the connection class the extension configures (real tornado server, real
client, the option read back from the server's socket)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import tornado.httpserver
import tornado.web
import tornado.websocket
from jupyter_server.services.kernels.connection.base import BaseKernelWebsocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.testing import bind_unused_port

from dcai_jupyter._server import _nodelay


class Quiet(BaseKernelWebsocketConnection):
    """A connection with no kernel behind it: connect() is where the socket is set up."""

    def connect(self) -> None:
        self.connected = True

    def disconnect(self) -> None:
        pass

    def handle_incoming_message(self, incoming_msg: str) -> None:
        pass

    def handle_outgoing_message(self, stream: str, outgoing_msg: list[Any]) -> None:
        pass


class Handler(tornado.websocket.WebSocketHandler):
    """What jupyter_server's KernelWebsocketHandler does with the configured class on open."""

    def open(self, *args: Any) -> None:
        conn = self.settings["kernel_websocket_connection_class"](websocket_handler=self)
        conn.connect()
        assert conn.connected
        assert self.ws_connection is not None
        sock = self.ws_connection.stream.socket  # type: ignore[attr-defined]
        self.write_message(str(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))


def _nodelay_on_server_socket(settings: dict[str, Any]) -> int:
    async def run() -> int:
        sock, port = bind_unused_port()
        server = tornado.httpserver.HTTPServer(
            tornado.web.Application([("/ws", Handler)], **settings)
        )
        server.add_sockets([sock])
        try:
            ws = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{port}/ws")
            answer = await ws.read_message()
            ws.close()
            return int(str(answer))
        finally:
            server.stop()

    return asyncio.run(run())


def test_the_configured_class_gets_nodelay_and_keeps_its_name():
    settings: dict[str, Any] = {"kernel_websocket_connection_class": Quiet}
    assert _nodelay_on_server_socket(dict(settings)) == 0  # tornado's default: Nagle on
    assert _nodelay.enable(settings)
    cls = settings["kernel_websocket_connection_class"]
    assert issubclass(cls, Quiet) and cls is not Quiet and cls.__name__ == "Quiet"
    assert _nodelay_on_server_socket(settings) != 0
    assert _nodelay.with_nodelay(cls) is cls  # enabling twice wraps once


def test_jupyter_servers_default_class_is_wrapped_not_replaced():
    settings: dict[str, Any] = {"kernel_websocket_connection_class": ZMQChannelsWebsocketConnection}
    assert _nodelay.enable(settings)
    cls = settings["kernel_websocket_connection_class"]
    assert issubclass(cls, ZMQChannelsWebsocketConnection)
    assert cls.connect is not ZMQChannelsWebsocketConnection.connect
    # configuration written for jupyter_server's class still applies to the subclass
    assert "ZMQChannelsWebsocketConnection" in [c.__name__ for c in cls.mro()]


def test_nothing_configured_is_left_alone():
    settings: dict[str, Any] = {}
    assert not _nodelay.enable(settings)
    assert settings == {}
