"""node-oidc-provider 9, the peer: installed with npm into a cache folder under var/, configured
like the seeded provider (same issuer shape and routes, same signing keys, same lifetimes, the same
accounts with the same Argon2id hash), started pinned like the one-worker provider.

The configuration is written as JSON for scripts/bench_peer/server.mjs; `config` builds it without
node, so that it can be checked on its own.
"""

from __future__ import annotations

import filecmp
import json
import secrets
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from provider.config import Settings
from scripts.bench_run import servers
from scripts.bench_run.seed import REDIRECT_URI, USER_SCOPES, ClientCredentials
from scripts.bench_run.servers import ROOT, Server

SOURCE = ROOT / "scripts" / "bench_peer"
CACHE = ROOT / "var" / "bench-peer"
PACKAGE = "oidc-provider"
# The resource server whose access tokens are RS256 JWTs (the peer's opaque tokens have none).
RESOURCE = "https://api.bench.example"
RESOURCE_SCOPE = "api:read"
# The provider's authorization codes live this long (provider/protocol/authorize_flow.py).
AUTHORIZATION_CODE_TTL = 60
INTERACTION_TTL = 900
# Same routes as the provider's, so that every scenario asks both sides for the same paths.
ROUTES = {
    "authorization": "/authorize",
    "token": "/token",
    "userinfo": "/userinfo",
    "jwks": "/jwks",
    "introspection": "/introspect",
    "revocation": "/revoke",
    "end_session": "/logout",
}
NPM_TIMEOUT_S = 300


class PeerUnavailable(RuntimeError):
    """node or npm is missing, or the peer's packages did not install."""


@dataclass(frozen=True)
class PeerClients:
    """The peer's clients, all authenticating with client_secret_basic."""

    code: ClientCredentials
    opaque: ClientCredentials
    jwt: ClientCredentials
    refresh: ClientCredentials


def new_clients() -> PeerClients:
    def client(name: str) -> ClientCredentials:
        return ClientCredentials(f"bench-peer-{name}", secrets.token_urlsafe(32))

    return PeerClients(client("code"), client("opaque"), client("jwt"), client("refresh"))


def lifetimes() -> dict[str, int]:
    """The provider's default lifetimes, in the peer's terms (seconds)."""
    fields = Settings.model_fields
    access = int(fields["access_token_ttl"].default)
    refresh = int(fields["refresh_token_ttl"].default)
    return {
        "AccessToken": access,
        "ClientCredentials": access,
        "IdToken": access,
        "AuthorizationCode": AUTHORIZATION_CODE_TTL,
        "RefreshToken": refresh,
        "Grant": refresh,
        "Session": int(fields["session_absolute_ttl"].default),
        "Interaction": INTERACTION_TTL,
    }


def signing_keys(keys_dir: Path) -> list[dict[str, Any]]:
    """The provider's private JWKs (RS256 and ES256), RS256 first: the peer signs with the
    first key of an algorithm it finds, and both sides publish the same JWKS."""
    keys = [json.loads(path.read_text())["jwk"] for path in sorted(keys_dir.glob("*.json"))]
    return sorted(keys, key=lambda jwk: jwk["alg"] != "RS256")


def config(
    *,
    port: int,
    keys: list[dict[str, Any]],
    clients: PeerClients,
    emails: list[str],
    password_hash: str,
    cookie_key: str,
) -> dict[str, Any]:
    """What server.mjs reads: the first of `emails` is the account the refresh tokens and the
    set-up sign-ins belong to."""
    issuer = f"http://127.0.0.1:{port}"
    accounts = [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}/{email}")),
            "email": email,
            "name": f"Bench user {n}",
            "password_hash": password_hash,
        }
        for n, email in enumerate(emails)
    ]
    user_client = {
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    service_client = {
        "redirect_uris": [],
        "grant_types": ["client_credentials"],
        "response_types": [],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    return {
        "port": port,
        "issuer": issuer,
        "routes": ROUTES,
        "jwks": {"keys": keys},
        "cookie_keys": [cookie_key],
        "ttl": lifetimes(),
        "clients": [
            {"client_id": clients.code.client_id, "client_secret": clients.code.secret}
            | user_client
            | {"scope": " ".join(USER_SCOPES)},
            {"client_id": clients.refresh.client_id, "client_secret": clients.refresh.secret}
            | user_client
            | {"scope": "offline_access"},
            {"client_id": clients.opaque.client_id, "client_secret": clients.opaque.secret}
            | service_client,
            {"client_id": clients.jwt.client_id, "client_secret": clients.jwt.secret}
            | service_client,
        ],
        "resource": {
            "indicator": RESOURCE,
            "scope": RESOURCE_SCOPE,
            "alg": "RS256",
            "clients": {clients.jwt.client_id: RESOURCE},
        },
        "refresh": {
            "client_id": clients.refresh.client_id,
            "scope": "offline_access",
            "account_id": accounts[0]["id"],
        },
        "accounts": accounts,
    }


def tools_missing() -> str | None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed" if missing else None


def install(cache: Path = CACHE) -> dict[str, str]:
    """`npm install` of scripts/bench_peer/package.json into `cache` (skipped when that exact
    package.json is already installed there), server.mjs copied beside it; returns the node and
    oidc-provider versions."""
    problem = tools_missing()
    if problem:
        raise PeerUnavailable(problem)
    cache.mkdir(parents=True, exist_ok=True)
    manifest = cache / "package.json"
    installed = cache / "node_modules" / PACKAGE / "package.json"
    if not (
        manifest.exists() and installed.exists() and filecmp.cmp(manifest, SOURCE / manifest.name)
    ):
        shutil.copyfile(SOURCE / "package.json", manifest)
        try:
            completed = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--omit=dev"],
                cwd=cache,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PeerUnavailable(f"npm install did not finish in {NPM_TIMEOUT_S} s") from exc
        if completed.returncode != 0 or not installed.exists():
            manifest.unlink(missing_ok=True)
            output = (completed.stdout + completed.stderr).strip()[-800:]
            raise PeerUnavailable(f"npm install failed ({completed.returncode}): {output}")
    shutil.copyfile(SOURCE / "server.mjs", cache / "server.mjs")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    return {
        "node": node.stdout.strip().lstrip("v"),
        "oidc_provider": str(json.loads(installed.read_text())["version"]),
    }


def start(settings: dict[str, Any], *, cpus: str, folder: Path, cache: Path = CACHE) -> Server:
    """node server.mjs pinned to `cpus`, in production mode, once it answers /health."""
    config_path = folder / "peer-config.json"
    folder.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps(settings))
    node = shutil.which("node")
    if node is None:
        raise PeerUnavailable("node is not installed")
    return servers.start(
        "node-oidc-provider",
        [str(cache / "server.mjs"), str(config_path)],
        cpus=cpus,
        port=int(settings["port"]),
        workers=1,
        env={"NODE_ENV": "production"},
        cwd=folder / "peer",
        log_path=folder / "peer.log",
        ready_path="/health",
        program=node,
    )


def mint_refresh_tokens(url: str, count: int) -> list[str]:
    """`count` live refresh tokens of the peer's refresh client, each with its own grant."""
    response = httpx.post(url + "/bench/refresh-tokens", data={"count": str(count)}, timeout=600)
    response.raise_for_status()
    return [line for line in response.text.splitlines() if line]
