"""A notification endpoint for the emulator's subscription tests: real HTTPS on loopback,
served with the emulator's own server certificate (which its deliveries trust)."""

from __future__ import annotations

import ssl
import threading
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import make_server


class Receiver:
    """Answers validation handshakes (or refuses them) and records every notification."""

    def __init__(self, certificates, echo: bool = True) -> None:
        self.echo = echo
        self.received: list[dict[str, Any]] = []
        self.validations = 0
        self.arrived = threading.Event()
        app = Flask("receiver")
        app.add_url_rule("/hook", view_func=self._hook, methods=["POST"])
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(str(certificates.server_cert), str(certificates.server_key))
        self._server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=tls)
        self.url = f"https://localhost:{self._server.server_port}/hook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _hook(self) -> Response:
        token = request.args.get("validationToken")
        if token is not None:
            self.validations += 1
            answer = token if self.echo else "not the token"
            return Response(answer, status=200, content_type="text/plain")
        self.received.extend(request.get_json()["value"])
        self.arrived.set()
        return Response(status=202)

    def wait(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The first `count` notifications, waiting up to `timeout` seconds for them."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while len(self.received) < count and not deadline.is_set():
                self.arrived.wait(0.05)
                self.arrived.clear()
        finally:
            timer.cancel()
        return self.received[:count]

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
