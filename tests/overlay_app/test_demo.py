"""`plaza demo` starts the emulator, writes the settings and says where to go."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

PLAZA = str(Path(sys.executable).with_name("plaza"))


def test_demo_serves_the_tenant_and_writes_settings(tmp_path):
    env = {**os.environ, "PLAZA_DATA_DIR": str(tmp_path)}
    with subprocess.Popen([PLAZA, "demo", "--port", "0"], env=env, stdout=subprocess.PIPE,
                          text=True) as process:
        check_demo(process, tmp_path)


def check_demo(process: subprocess.Popen, tmp_path: Path) -> None:
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Tenant emulator running at https://localhost:")
        base_url = first_line.split(" at ")[1].strip()
        info = json.loads((tmp_path / "emulator.json").read_text())
        assert info["graph_url"] == f"{base_url}/v1.0"
        settings = (tmp_path / "emulator.env").read_text()
        assert f"PLAZA_GRAPH_URL={base_url}/v1.0" in settings.splitlines()
        discovery = f"{info['authority']}/v2.0/.well-known/openid-configuration"
        with requests.Session() as session:
            session.trust_env = False
            answer = session.get(discovery, verify=info["ca_file"], timeout=10)
        assert answer.json()["issuer"] == f"{info['authority']}/v2.0"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
