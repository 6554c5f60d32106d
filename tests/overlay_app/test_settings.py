"""Settings from PLAZA_* and the config file, every problem at once, and `plaza serve`."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from overlay_app.settings import OverlaySettings, SettingsError

PLAZA = str(Path(sys.executable).with_name("plaza"))
KEY = "k" * 40


def tenant_env(data_dir: Path, ca_file: str) -> dict[str, str]:
    return {
        "PLAZA_DATA_DIR": str(data_dir),
        "PLAZA_SECRET_KEY": KEY,
        "PLAZA_PUBLIC_URL": "https://plaza.example.com/",
        "PLAZA_AUTHORITY": "https://login.example.com/11111111-2222-3333-4444-555555555555",
        "PLAZA_CLIENT_ID": "cid",
        "PLAZA_CLIENT_SECRET": "s3cret",
        "PLAZA_CA_BUNDLE": ca_file,
        "PLAZA_GRAPH_URL": "https://graph.example.com",
        "PLAZA_API_AUDIENCE": "api://plaza",
        "PLAZA_ADMIN_GROUP_ID": "g1",
        "PLAZA_ADMIN_ROLE": "Plaza.Owner",
        "PLAZA_SESSION_IDLE_MINUTES": "15",
        "PLAZA_SESSION_MAX_HOURS": "8",
        "PLAZA_WRITES_PER_MINUTE": "12",
        "PLAZA_LIVE_CHECK_SECONDS": "30",
    }


@pytest.fixture
def ca_file(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return str(path)


def test_every_setting_from_the_environment(tmp_path, ca_file):
    settings = OverlaySettings.from_env(tenant_env(tmp_path, ca_file))
    assert settings == OverlaySettings(
        data_dir=tmp_path,
        secret_key=KEY,
        public_url="https://plaza.example.com",
        authority="https://login.example.com/11111111-2222-3333-4444-555555555555",
        tenant_id="11111111-2222-3333-4444-555555555555",
        client_id="cid",
        client_secret="s3cret",
        ca_bundle=ca_file,
        graph_url="https://graph.example.com/v1.0",
        api_audience="api://plaza",
        admin_group_id="g1",
        admin_role="Plaza.Owner",
        session_idle_minutes=15,
        session_max_hours=8,
        writes_per_minute=12,
        live_check_seconds=30,
    )
    assert settings.secure_cookies
    assert settings.redirect_uri == "https://plaza.example.com/auth/callback"
    assert settings.api_audiences == frozenset(
        {"api://plaza", "api://cid", "cid", "api://plaza.example.com/cid"}  # + Teams SSO's
    )
    assert "s3cret" not in repr(settings) and KEY not in repr(settings)


def test_defaults_come_from_the_cloud(tmp_path):
    env = {
        "PLAZA_DATA_DIR": str(tmp_path),
        "PLAZA_SECRET_KEY": KEY,
        "PLAZA_TENANT_ID": "t1",
        "PLAZA_CLIENT_ID": "cid",
        "PLAZA_CLIENT_SECRET": "s",
    }
    settings = OverlaySettings.from_env(env)
    assert settings.authority == "https://login.microsoftonline.com/t1"
    assert settings.graph_url == "https://graph.microsoft.com/v1.0"
    assert settings.public_url == "http://localhost:5000"
    assert (settings.session_idle_minutes, settings.session_max_hours) == (60, 12)
    assert not settings.secure_cookies
    usgov = OverlaySettings.from_env({**env, "PLAZA_CLOUD": "usgov"})
    assert usgov.authority == "https://login.microsoftonline.us/t1"
    assert usgov.graph_url == "https://graph.microsoft.us/v1.0"


def test_every_problem_is_reported_at_once(tmp_path):
    env = {
        "PLAZA_DATA_DIR": str(tmp_path),
        "PLAZA_SECRET_KEY": "short",
        "PLAZA_PUBLIC_URL": "https://plaza.example.com/app",
        "PLAZA_AUTHORITY": "http://login.example.com/t1",
        "PLAZA_GRAPH_URL": "ftp://graph.example.com",
        "PLAZA_CA_BUNDLE": str(tmp_path / "missing.pem"),
        "PLAZA_SESSION_IDLE_MINUTES": "soon",
        "PLAZA_LIVE_CHECK_SECONDS": "600",
        "PLAZA_CLOUD": "mars",
    }
    with pytest.raises(SettingsError) as caught:
        OverlaySettings.from_env(env)
    assert caught.value.problems == [
        "PLAZA_CLOUD 'mars' is not one of global, usgov, usgov-dod, china",
        "PLAZA_SESSION_IDLE_MINUTES must be a whole number from 1 to 10080, got 'soon'",
        "PLAZA_SECRET_KEY must be at least 32 characters (make one with `python -c 'import"
        " secrets; print(secrets.token_urlsafe(48))'`)",
        "PLAZA_PUBLIC_URL must be the site's root URL (no path, query or fragment), got"
        " 'https://plaza.example.com/app'",
        "PLAZA_AUTHORITY must be an https:// URL with a host, got 'http://login.example.com/t1'",
        "PLAZA_GRAPH_URL must be an https:// URL with a host, got 'ftp://graph.example.com/v1.0'",
        "PLAZA_CLIENT_ID is required (the application (client) id of Plaza's app registration)",
        "PLAZA_CLIENT_SECRET is required (a client secret of Plaza's app registration; sign-in"
        " uses the authorization-code flow of a confidential client)",
        f"PLAZA_CA_BUNDLE names a file that does not exist: {tmp_path / 'missing.pem'}",
        "PLAZA_LIVE_CHECK_SECONDS must be a whole number from 0 to 60",
    ]
    assert str(caught.value).startswith("Plaza cannot start:\n- PLAZA_CLOUD 'mars'")


def test_config_file_with_the_environment_winning(tmp_path):
    config = tmp_path / "plaza.toml"
    config.write_text(
        "[connector]\n"
        'tenant_id = "t-from-connector"\nclient_id = "cid-from-connector"\n'
        "[web]\n"
        'public_url = "https://plaza.example.com"\nsession_idle_minutes = 20\n'
        'admin_group_id = "g-file"\n'
    )
    env = {
        "PLAZA_CONFIG": str(config),
        "PLAZA_DATA_DIR": str(tmp_path),
        "PLAZA_SECRET_KEY": KEY,
        "PLAZA_CLIENT_SECRET": "s",
        "PLAZA_ADMIN_GROUP_ID": "g-env",
    }
    settings = OverlaySettings.from_env(env)
    assert settings.tenant_id == "t-from-connector"
    assert settings.client_id == "cid-from-connector"
    assert settings.public_url == "https://plaza.example.com"
    assert settings.session_idle_minutes == 20
    assert settings.admin_group_id == "g-env"


def test_config_file_problems(tmp_path):
    config = tmp_path / "plaza.toml"
    config.write_text('[web]\nclient_secret = "no"\ncolour = "blue"\n')
    env = {"PLAZA_DATA_DIR": str(tmp_path), "PLAZA_SECRET_KEY": KEY, "PLAZA_TENANT_ID": "t",
           "PLAZA_CLIENT_ID": "c", "PLAZA_CLIENT_SECRET": "s"}  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        OverlaySettings.from_env(env, config_file=config)
    assert caught.value.problems == [
        "client_secret must come from the environment (PLAZA_CLIENT_SECRET), not from the"
        " config file",
        f"config file {config}: unknown setting 'colour' in [web]",
    ]
    config.write_text("[web\n")
    with pytest.raises(SettingsError) as caught:
        OverlaySettings.from_env({**env, "PLAZA_CONFIG": str(config)})
    assert caught.value.problems[0].startswith(f"config file {config} is not valid TOML:")


TEAMS = ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346")


def test_allowed_clients_are_plazas_own_and_those_named(tmp_path, ca_file):
    settings = OverlaySettings.from_env(tenant_env(tmp_path, ca_file))
    assert settings.allowed_clients == frozenset({"cid"})
    env = {**tenant_env(tmp_path, ca_file), "PLAZA_API_CLIENTS": f" {TEAMS[0]},{TEAMS[1]} "}
    assert OverlaySettings.from_env(env).allowed_clients == frozenset({"cid", *TEAMS})
    config = tmp_path / "plaza.toml"
    config.write_text(f"[web]\napi_clients = {list(TEAMS)!r}\n".replace("'", '"'))
    settings = OverlaySettings.from_env(tenant_env(tmp_path, ca_file), config_file=config)
    assert settings.allowed_clients == frozenset({"cid", *TEAMS})
    bad = {**tenant_env(tmp_path, ca_file), "PLAZA_API_CLIENTS": f"{TEAMS[0]}, teams"}
    with pytest.raises(SettingsError) as caught:
        OverlaySettings.from_env(bad)
    assert caught.value.problems == [
        "PLAZA_API_CLIENTS must list client ids (GUIDs), separated by commas; got 'teams'"
    ]


def test_secret_key_is_made_once_in_the_data_dir(tmp_path):
    env = {"PLAZA_DATA_DIR": str(tmp_path / "data"), "PLAZA_TENANT_ID": "t",
           "PLAZA_CLIENT_ID": "c", "PLAZA_CLIENT_SECRET": "s"}  # fmt: skip
    first = OverlaySettings.from_env(env)
    second = OverlaySettings.from_env(env)
    stored = tmp_path / "data" / "secret_key"
    assert first.secret_key == second.secret_key == stored.read_text()
    assert len(first.secret_key) == 64
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


# -- plaza serve ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}


def test_plaza_serve_runs_gunicorn(plaza_env, tmp_path):
    port = free_port()
    env = {
        **clean_environ(),
        **plaza_env.connector_env,
        "PLAZA_DATA_DIR": str(tmp_path),
        "PLAZA_PUBLIC_URL": f"http://localhost:{port}",
    }
    command = [PLAZA, "serve", "--port", str(port), "--workers", "2"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:  # fmt: skip
        try:
            answer = wait_for(f"http://127.0.0.1:{port}/signin", process)
            assert answer.status_code == 302
            assert answer.headers["Location"].startswith(
                f"{plaza_env.info['authority']}/oauth2/v2.0/authorize?client_id="
            )
            assert answer.headers["Set-Cookie"].startswith("plaza=")
        finally:
            process.send_signal(signal.SIGTERM)
            _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert "Booting worker" in errors


def wait_for(url: str, process: subprocess.Popen) -> requests.Response:
    with requests.Session() as browser:
        browser.trust_env = False
        deadline = time.monotonic() + 30
        while True:
            try:
                return browser.get(url, allow_redirects=False, timeout=10)
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def test_plaza_serve_refuses_bad_settings(tmp_path):
    env = {**clean_environ(), "PLAZA_DATA_DIR": str(tmp_path), "PLAZA_SECRET_KEY": KEY}
    done = subprocess.run([PLAZA, "serve"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert done.stderr == (
        "Error: Plaza cannot start:\n"
        "- PLAZA_TENANT_ID is required (the directory (tenant) id of your Entra ID), or"
        " PLAZA_AUTHORITY naming it\n"
        "- PLAZA_CLIENT_ID is required (the application (client) id of Plaza's app"
        " registration)\n"
        "- PLAZA_CLIENT_SECRET is required (a client secret of Plaza's app registration;"
        " sign-in uses the authorization-code flow of a confidential client)\n"
    )


def test_env_sample_lists_every_setting():
    from dataclasses import fields

    from connector.settings import PLAIN_KEYS, SECRET_KEYS
    from overlay_app.writeback.runner import WriteBackSettings

    sample = (Path(__file__).parents[2] / ".env.sample").read_text()
    listed = set(re.findall(r"^#?(PLAZA_[A-Z_]+)=", sample, flags=re.MULTILINE))
    web = {f.name for f in fields(OverlaySettings)} - {"extra"}
    wanted = {f"PLAZA_{name.upper()}" for name in (*web, *PLAIN_KEYS, *SECRET_KEYS)}
    wanted |= {"PLAZA_CONFIG", "PLAZA_EMULATOR", "PLAZA_API_SCOPE", *WriteBackSettings.OWN}
    assert listed == wanted
