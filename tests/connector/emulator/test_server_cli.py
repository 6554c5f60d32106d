"""`plaza emulator serve` as people run it: a separate process, files for clients, clean errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from connector.emulator import certs
from plaza.cli import main

PLAZA = Path(sys.executable).with_name("plaza")
INFO_KEYS = {
    "authority",
    "tenant_id",
    "graph_url",
    "sharepoint_url",
    "login_url",
    "token_endpoint",
    "client_id",
    "client_secret",
    "cert_client_id",
    "cert_key_path",
    "cert_path",
    "cert_thumbprint",
    "ca_file",
    "api_scope",
    "users",
    "password",
}
ENV_KEYS = {
    "PLAZA_AUTHORITY",
    "PLAZA_TENANT_ID",
    "PLAZA_CLIENT_ID",
    "PLAZA_CLIENT_SECRET",
    "PLAZA_CERT_PATH",
    "PLAZA_CERT_KEY_PATH",
    "PLAZA_CERT_THUMBPRINT",
    "PLAZA_GRAPH_URL",
    "PLAZA_SHAREPOINT_URL",
    "PLAZA_CA_BUNDLE",
    "PLAZA_API_SCOPE",
    "PLAZA_EMULATOR",
}


def _wait_for(path: Path, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} not written within {seconds} s"
        time.sleep(0.02)


def test_serve_writes_its_info_and_answers_discovery(tmp_path, emulator_state):
    info_file, env_file = tmp_path / "emulator.json", tmp_path / "out" / "emulator.env"
    command = [str(PLAZA), "emulator", "serve", "--port", "0", "--seed", "3"]
    command += ["--info-file", str(info_file), "--env-file", str(env_file)]
    command += ["--state-dir", str(emulator_state)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(info_file, process, seconds=10)
        info = json.loads(info_file.read_text())
        with requests.Session() as session:
            session.verify, session.trust_env = info["ca_file"], False
            discovery = session.get(f"{info['authority']}/v2.0/.well-known/openid-configuration")
        assert discovery.status_code == 200
        assert discovery.json()["issuer"] == f"{info['authority']}/v2.0"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert set(info) == INFO_KEYS
    assert info["ca_file"] == str(emulator_state / certs.CA_FILE)
    assert f"Authority      {info['authority']}" in out
    assert out.rstrip().endswith("Emulator stopped.")
    _check_env_file(env_file, info)


def _check_env_file(env_file: Path, info: dict) -> None:
    names = [line.split("=", 1)[0] for line in env_file.read_text().splitlines()]
    assert set(names) == ENV_KEYS and len(names) == len(ENV_KEYS)
    shell = subprocess.run(
        ["bash", "-c", f"set -a; . {env_file}; env"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "")},
    )
    env = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    assert env["PLAZA_CLIENT_SECRET"] == info["client_secret"]
    assert env["PLAZA_AUTHORITY"] == info["authority"]
    assert env["PLAZA_CA_BUNDLE"] == info["ca_file"]
    assert env["PLAZA_API_SCOPE"] == info["api_scope"]
    assert env["PLAZA_EMULATOR"] == "1"


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (["--size", "huge"], 2, "Invalid value for '--size'"),
        (["--port", "70000"], 2, "Invalid value for '--port'"),
        (["--faults", "nope", "--port", "0"], 1, "Error: Unknown fault profile 'nope'"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, arguments, exit_code, message):
    result = CliRunner().invoke(
        main, ["emulator", "serve", "--state-dir", str(tmp_path), *arguments]
    )
    assert result.exit_code == exit_code
    assert message in result.output
    assert "Traceback" not in result.output


def test_busy_port_is_reported(tmp_path, emulator_state):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main, ["emulator", "serve", "--port", str(port), "--state-dir", str(emulator_state)]
        )
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: cannot serve on port {port}: Address already in use"


def test_plaza_does_not_import_the_emulator_until_asked():
    probe = (
        "import sys; from plaza.cli import main; "
        "print(any(m.startswith('connector.emulator') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
