"""The benchmark's peer (node-oidc-provider): its configuration, the side-by-side table and the
ratio, the --peer switch; and server.mjs is valid JavaScript where node is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from provider.config import Settings
from provider.crypto.keys import write_key
from scripts.bench_run import peer, report, run
from scripts.bench_run.report import Row
from scripts.bench_run.seed import REDIRECT_URI, ClientCredentials

CLIENTS = peer.PeerClients(
    code=ClientCredentials("bench-peer-code", "code-secret"),
    opaque=ClientCredentials("bench-peer-opaque", "opaque-secret"),
    jwt=ClientCredentials("bench-peer-jwt", "jwt-secret"),
    refresh=ClientCredentials("bench-peer-refresh", "refresh-secret"),
)
KEYS = [{"kty": "RSA", "alg": "RS256", "kid": "r"}, {"kty": "EC", "alg": "ES256", "kid": "e"}]
EMAILS = ["bench@example.com", "bench-login-00000@example.com", "bench-login-00001@example.com"]


def _config() -> dict[str, Any]:
    return peer.config(
        port=40123,
        keys=KEYS,
        clients=CLIENTS,
        emails=EMAILS,
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        cookie_key="cookie-key",
    )


def test_the_peer_is_configured_like_the_seeded_provider() -> None:
    settings = json.loads(json.dumps(_config()))  # what server.mjs reads
    assert settings["issuer"] == "http://127.0.0.1:40123"
    assert settings["port"] == 40123
    assert settings["routes"]["token"] == "/token"
    assert settings["routes"]["introspection"] == "/introspect"
    assert settings["routes"]["jwks"] == "/jwks"
    assert settings["jwks"] == {"keys": KEYS}
    fields = Settings.model_fields
    access_ttl = fields["access_token_ttl"].default
    assert settings["ttl"]["AccessToken"] == access_ttl
    assert settings["ttl"]["ClientCredentials"] == access_ttl
    assert settings["ttl"]["RefreshToken"] == fields["refresh_token_ttl"].default
    assert settings["ttl"]["Session"] == fields["session_absolute_ttl"].default
    clients = {client["client_id"]: client for client in settings["clients"]}
    assert set(clients) == {
        "bench-peer-code",
        "bench-peer-opaque",
        "bench-peer-jwt",
        "bench-peer-refresh",
    }
    assert {c["token_endpoint_auth_method"] for c in clients.values()} == {"client_secret_basic"}
    assert clients["bench-peer-opaque"]["client_secret"] == "opaque-secret"
    assert clients["bench-peer-opaque"]["grant_types"] == ["client_credentials"]
    assert clients["bench-peer-code"]["redirect_uris"] == [REDIRECT_URI]
    assert clients["bench-peer-refresh"]["grant_types"] == ["authorization_code", "refresh_token"]


def test_only_the_jwt_client_gets_the_rs256_resource_server() -> None:
    settings = _config()
    resource = settings["resource"]
    assert resource == {
        "indicator": peer.RESOURCE,
        "scope": peer.RESOURCE_SCOPE,
        "alg": "RS256",
        "clients": {"bench-peer-jwt": peer.RESOURCE},
    }


def test_the_accounts_share_the_hash_and_the_first_owns_the_refresh_tokens() -> None:
    settings = _config()
    accounts = settings["accounts"]
    assert isinstance(accounts, list)
    assert [account["email"] for account in accounts] == EMAILS
    assert len({account["id"] for account in accounts}) == len(EMAILS)
    assert {account["password_hash"] for account in accounts} == {
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
    }
    assert settings["refresh"] == {
        "client_id": "bench-peer-refresh",
        "scope": "offline_access",
        "account_id": accounts[0]["id"],
    }


def test_the_peer_publishes_the_providers_keys_rs256_first(tmp_path: Path) -> None:
    write_key(tmp_path, "ES256", active_from=time.time())
    write_key(tmp_path, "RS256", active_from=time.time())
    keys = peer.signing_keys(tmp_path)
    assert [key["alg"] for key in keys] == ["RS256", "ES256"]
    assert all("d" in key and key["kid"] for key in keys)


def test_new_clients_have_fresh_secrets() -> None:
    first, second = peer.new_clients(), peer.new_clients()
    assert first.jwt.client_id == second.jwt.client_id == "bench-peer-jwt"
    assert first.jwt.secret != second.jwt.secret
    assert (
        len({first.code.secret, first.opaque.secret, first.jwt.secret, first.refresh.secret}) == 4
    )


def test_install_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda _tool: None)
    with pytest.raises(peer.PeerUnavailable, match="node and npm not installed"):
        peer.install(tmp_path)
    assert not (tmp_path / "package.json").exists()


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [(3000.0, 2000.0, 1.5), (333.0, 2423.0, 0.14), (None, 2000.0, None), (3000.0, 0.0, None)],
)
def test_the_ratio_is_ours_over_the_peers(
    ours: float | None, theirs: float | None, expected: float | None
) -> None:
    assert report.ratio(ours, theirs) == expected


def _rows() -> list[Row]:
    return [
        Row("bare", 1, rps=4432.0, p50_ms=6.4, p99_ms=32.3, errors=0, rss_mb=49.0),
        Row("discovery", 1, rps=3025.0, p50_ms=9.8, p99_ms=39.8, errors=0, rss_mb=88.6),
        Row("discovery", 1, "peer", rps=2724.0, p50_ms=10.5, p99_ms=253.1, errors=0, rss_mb=114.8),
        Row("cc_rs256", 1, rps=333.0, p50_ms=69.2, p99_ms=448.0, errors=0, rss_mb=90.1),
        Row("cc_opaque", 1, "peer", rps=2423.0, p50_ms=12.1, p99_ms=144.6, errors=0, rss_mb=120.2),
        Row("cc_jwt", 1, "peer", notes=["failed: boom"]),
        Row("login", 1, rps=4.0, p50_ms=422.1, p99_ms=594.4, errors=0, rss_mb=93.6),
        Row("login", 1, "peer", rps=3.0, p50_ms=546.2, p99_ms=608.6, errors=2, rss_mb=153.5),
        # The 2-worker phase never enters the side-by-side table.
        Row("discovery", 2, rps=9999.0, errors=0),
    ]


def test_the_side_by_side_table_pairs_each_scenario_with_its_ratio() -> None:
    lines = report.comparison_table(_rows(), 3679.0).splitlines()
    assert lines[0].startswith("| scenario | ours req/s | peer req/s | ours / peer |")
    assert (
        "| discovery | 3,025 | 2,724 | 1.11x | 9.8 / 39.8 | 10.5 / 253.1 | 88.6 | 114.8 | 0 / 0 |"
        in lines
    )
    assert (
        "| client_credentials, each side's default (ours RS256 JWT, peer opaque) | 333 | 2,423 "
        "| 0.14x | 69.2 / 448.0 | 12.1 / 144.6 | 90.1 | 120.2 | 0 / 0 |" in lines
    )
    # A peer scenario that failed has no rate, hence no ratio.
    assert (
        "| client_credentials, RS256 JWT on both | 333 | — | — | 69.2 / 448.0 | — | 90.1 | — "
        "| 0 / — |" in lines
    )
    assert (
        "| code flow, flows/s (authorize → login → consent → token) | 4.0 | 3.0 | 1.33x "
        "| 422.1 / 594.4 | 546.2 / 608.6 | 93.6 | 153.5 | 0 / 2 |" in lines
    )
    # Scenarios neither side ran are left out; the ceilings close the table.
    assert not any(line.startswith("| JWKS |") for line in lines)
    assert lines[-2] == (
        "| ceiling: bare Sanic JSON | 4,432 | — | — | 6.4 / 32.3 | — | 49.0 | — | 0 / — |"
    )
    assert lines[-1].startswith("| ceiling: RS256 signatures on one core | 3,679 | — |")


def test_a_skipped_peer_is_said_and_peer_rows_are_labelled() -> None:
    section = report.peer_section({"skipped": "node and npm not installed"}, _rows(), 3679.0)
    assert section[-1] == "Not measured: node and npm not installed."
    measured = report.peer_section(
        {"versions": {"oidc_provider": "9.13.3", "node": "20.20.2"}}, _rows(), None
    )
    assert "node-oidc-provider 9.13.3 on Node.js 20.20.2" in measured[2]
    assert measured[-1] == report.comparison_table(_rows(), None)
    assert Row("cc_opaque", 1, "peer").label == "peer: client_credentials opaque"
    assert Row("discovery", 1, "peer").label == "peer: discovery"
    assert Row("discovery", 1).label == "discovery"


def test_the_peer_switch(tmp_path: Path) -> None:
    assert run.parse_args([]).peer is None
    assert run.parse_args(["--peer"]).peer is True
    options = run.parse_args(["--no-peer", "--output", str(tmp_path)])
    assert options.peer is False
    assert run.prepare_peer(options) == {"skipped": "--no-peer"}
    two_workers = run.parse_args(["--peer", "--workers", "2", "--output", str(tmp_path)])
    assert "has no 1" in run.prepare_peer(two_workers)["skipped"]


def test_the_peer_server_script_is_valid_javascript() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    checked = subprocess.run(
        [node, "--check", str(peer.SOURCE / "server.mjs")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    manifest = json.loads((peer.SOURCE / "package.json").read_text())
    assert manifest["dependencies"]["oidc-provider"].startswith("^9.")
