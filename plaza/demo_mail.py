"""The demo's SMTP server (aiosmtpd on localhost): every mail Plaza sends is kept as an .eml
file in {data_dir}/mail, which the web app shows at /_demo/mail (PLAZA_DEMO_MAIL_DIR)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class FileMailbox:
    """An aiosmtpd handler that writes each message it accepts to its own file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}.eml"
        (self.folder / name).write_bytes(envelope.content)
        return "250 OK: kept in the demo mailbox"


def start(folder: Path) -> tuple[Controller, int]:
    """A running server writing to `folder`, and its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(FileMailbox(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port
