"""PLAZA_* connector settings for an emulator, as `plaza emulator serve --env-file` writes
them. Connector tests build settings and sources from them; sync tests build their Connector
from them too, so both configure the emulator the same way."""

from __future__ import annotations


def emulator_env(handle, credential: str = "secret", **extra: str) -> dict[str, str]:
    """PLAZA_* variables for the emulator `handle`. `credential`: "secret", "thumbprint" (key
    and thumbprint) or "certificate" (key and certificate file); `extra` overrides any."""
    info = handle.info
    env = {
        "PLAZA_AUTHORITY": info["authority"],
        "PLAZA_CLIENT_ID": info["client_id"],
        "PLAZA_GRAPH_URL": info["graph_url"],
        "PLAZA_SHAREPOINT_URL": info["sharepoint_url"],
        "PLAZA_CA_BUNDLE": info["ca_file"],
        "PLAZA_HTTP_TIMEOUT": "10",
    }
    if credential == "secret":
        env["PLAZA_CLIENT_SECRET"] = info["client_secret"]
    else:
        env["PLAZA_CERT_KEY_PATH"] = info["cert_key_path"]
        if credential == "thumbprint":
            env["PLAZA_CERT_THUMBPRINT"] = info["cert_thumbprint"]
        else:
            env["PLAZA_CERT_PATH"] = info["cert_path"]
    env.update(extra)
    return env
