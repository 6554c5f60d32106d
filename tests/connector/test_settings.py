"""ConnectorSettings: environment over config file, national clouds, all problems at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import SettingsError
from connector.settings import ConnectorSettings

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"


def base_env(**extra: str) -> dict[str, str]:
    env = {"PLAZA_TENANT_ID": TENANT, "PLAZA_CLIENT_ID": CLIENT, "PLAZA_CLIENT_SECRET": "s3cret"}
    env.update(extra)
    return env


def test_global_cloud_defaults():
    settings = ConnectorSettings.from_env(base_env())
    assert settings.authority == f"https://login.microsoftonline.com/{TENANT}"
    assert settings.graph_url == "https://graph.microsoft.com/v1.0"
    assert settings.graph_scope == "https://graph.microsoft.com/.default"
    assert (settings.credential_kind, settings.authority_is_microsoft) == ("secret", True)
    assert (settings.http_timeout, settings.max_retries, settings.max_requests_per_minute) == (
        30.0,
        6,
        None,
    )


@pytest.mark.parametrize(
    ("cloud", "login", "graph"),
    [
        ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ],
)
def test_national_clouds(cloud: str, login: str, graph: str):
    settings = ConnectorSettings.from_env(base_env(PLAZA_CLOUD=cloud))
    assert settings.authority == f"{login}/{TENANT}"
    assert settings.graph_url == f"{graph}/v1.0"
    assert settings.graph_scope == f"{graph}/.default"
    assert settings.authority_is_microsoft


def test_custom_authority_and_graph_url_like_the_emulator():
    env = {
        "PLAZA_AUTHORITY": f"https://localhost:8443/{TENANT}/",
        "PLAZA_CLIENT_ID": CLIENT,
        "PLAZA_CLIENT_SECRET": "s",
        "PLAZA_GRAPH_URL": "https://localhost:8443",
        "PLAZA_SHAREPOINT_URL": "https://localhost:8443/",
        "PLAZA_MAX_REQUESTS_PER_MINUTE": "600",
        "PLAZA_HTTP_TIMEOUT": "2.5",
    }
    settings = ConnectorSettings.from_env(env)
    assert settings.tenant_id == TENANT  # taken from the authority's path
    assert settings.authority == f"https://localhost:8443/{TENANT}"
    assert settings.graph_url == "https://localhost:8443/v1.0"
    assert settings.sharepoint_url == "https://localhost:8443"
    assert settings.graph_scope == "https://graph.microsoft.com/.default"
    assert not settings.authority_is_microsoft
    assert (settings.max_requests_per_minute, settings.http_timeout) == (600, 2.5)


def test_every_problem_is_reported_at_once(tmp_path: Path):
    env = {
        "PLAZA_CLOUD": "mars",
        "PLAZA_GRAPH_URL": "http://graph.example",
        "PLAZA_CERT_KEY_PATH": str(tmp_path / "missing.pem"),
        "PLAZA_CERT_THUMBPRINT": "not-hex",
        "PLAZA_HTTP_TIMEOUT": "soon",
        "PLAZA_CA_BUNDLE": str(tmp_path / "nope.pem"),
    }
    with pytest.raises(SettingsError) as caught:
        ConnectorSettings.from_env(env)
    assert caught.value.problems == [
        "PLAZA_CLOUD 'mars' is not one of global, usgov, usgov-dod, china",
        "PLAZA_TENANT_ID is required (the directory (tenant) id of your Entra ID)",
        "PLAZA_CLIENT_ID is required (the application (client) id of the app registration)",
        "PLAZA_GRAPH_URL must be an https:// URL with a host, got 'http://graph.example/v1.0'",
        "PLAZA_CERT_THUMBPRINT must be the certificate's SHA-1 thumbprint (40 hex digits)",
        f"PLAZA_CA_BUNDLE names a file that does not exist: {tmp_path / 'nope.pem'}",
        f"PLAZA_CERT_KEY_PATH names a file that does not exist: {tmp_path / 'missing.pem'}",
        "PLAZA_HTTP_TIMEOUT must be a number >= 1, got 'soon'",
    ]


def test_no_credential_and_half_certificate(tmp_path: Path):
    key = tmp_path / "key.pem"
    key.write_text("key")
    with pytest.raises(SettingsError) as none_given:
        ConnectorSettings.from_env({"PLAZA_TENANT_ID": TENANT, "PLAZA_CLIENT_ID": CLIENT})
    with pytest.raises(SettingsError) as half:
        ConnectorSettings.from_env(
            {"PLAZA_TENANT_ID": TENANT, "PLAZA_CLIENT_ID": CLIENT, "PLAZA_CERT_KEY_PATH": str(key)}
        )
    assert none_given.value.problems == [
        "no credential: set PLAZA_CLIENT_SECRET, or PLAZA_CERT_KEY_PATH with "
        "PLAZA_CERT_THUMBPRINT or PLAZA_CERT_PATH, or PLAZA_CERT_PFX_PATH"
    ]
    assert half.value.problems == [
        "PLAZA_CERT_KEY_PATH needs PLAZA_CERT_THUMBPRINT (SHA-1) or PLAZA_CERT_PATH (the public "
        "certificate, PEM)"
    ]


def test_certificate_wins_over_secret_and_thumbprint_is_normalised(tmp_path: Path):
    key = tmp_path / "key.pem"
    key.write_text("key")
    thumbprint = "ab:cd:" + "0" * 36
    settings = ConnectorSettings.from_env(
        base_env(PLAZA_CERT_KEY_PATH=str(key), PLAZA_CERT_THUMBPRINT=thumbprint)
    )
    assert settings.credential_kind == "certificate"
    assert settings.cert_thumbprint == "ABCD" + "0" * 36


def test_config_file_below_environment_and_no_secrets_in_it(tmp_path: Path):
    config = tmp_path / "plaza.toml"
    config.write_text(
        f'[connector]\ntenant_id = "{TENANT}"\nclient_id = "from-file"\ncloud = "usgov"\n'
        "max_retries = 2\n"
    )
    env = {"PLAZA_CONFIG": str(config), "PLAZA_CLIENT_ID": CLIENT, "PLAZA_CLIENT_SECRET": "s"}
    settings = ConnectorSettings.from_env(env)
    assert (settings.client_id, settings.cloud, settings.max_retries) == (CLIENT, "usgov", 2)
    config.write_text('[connector]\nclient_secret = "oops"\ncolour = "blue"\n')
    with pytest.raises(SettingsError) as caught:
        ConnectorSettings.from_env(base_env(), config_file=config)
    assert caught.value.problems == [
        "client_secret must come from the environment (PLAZA_CLIENT_SECRET), not from the "
        "config file",
        f"config file {config}: unknown setting 'colour'",
    ]


def test_secrets_stay_out_of_repr(tmp_path: Path):
    settings = ConnectorSettings.from_env(base_env(PLAZA_CERT_PFX_PASSWORD="pfx-pass"))
    assert "s3cret" not in repr(settings) and "pfx-pass" not in repr(settings)
