"""Rows the core's use cases start from: clients, codes as the authorize flow saves them, refresh
tokens as a redemption issues them, and PKCE pairs."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from provider.context import Services
from provider.crypto.tokens import new_token, token_hash
from provider.sessions.service import IssuedRefresh, issue_refresh_token
from provider.storage.codes import CodeStore, NewCode
from provider.storage.models import Client, Session
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER

REDIRECT_URI = "https://rp.example.com/callback"
CLIENT_SCOPES = ["openid", "profile", "email", "offline_access", "api.read", "api.write"]
OFFLINE = "openid profile offline_access"


def s256(verifier: str) -> str:
    """The RFC 7636 §4.2 S256 challenge of a verifier (UTF-8, so a malformed one has one too)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    """A fresh verifier (43 characters of the unreserved set) and its S256 challenge."""
    verifier = secrets.token_urlsafe(32)
    return verifier, s256(verifier)


async def make_client(client_id: str = "rp", **fields: Any) -> Client:
    """A confidential client allowed every grant and the usual scopes, unless `fields` say not."""
    values: dict[str, Any] = {
        "name": client_id,
        "secret_hash": token_hash("secret-of-" + client_id),
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "scopes": CLIENT_SCOPES,
        **fields,
    }
    return await Client.create(id=client_id, **values)


async def store_code(
    services: Services,
    session: Session,
    client: Client,
    *,
    code_challenge: str | None,
    scope: str = OFFLINE,
    resources: tuple[str, ...] = (),
) -> str:
    """Save a code for `scope` (`OFFLINE`) and `resources` at `REDIRECT_URI`, valid 60 s, the
    way the end of an authorization request does; returns its value."""
    code = new_token()
    async with unit_of_work(CALLER, services.events) as work:
        await CodeStore(work.conn).save(
            token_hash(code),
            NewCode(
                client_id=client.id,
                user_id=session.user_id,
                session_id=session.id,
                redirect_uri=REDIRECT_URI,
                scope=scope,
                nonce=None,
                code_challenge=code_challenge,
                auth_time=session.auth_time,
                amr=list(session.amr),
                acr=session.acr,
                resources=resources,
            ),
            now=utcnow(),
            ttl=60,
        )
    return code


async def issue_refresh(services: Services, session: Session, client: Client) -> IssuedRefresh:
    """The head of a new refresh family for `OFFLINE`, as a code redemption issues it."""
    async with unit_of_work(CALLER, services.events) as work:
        return await issue_refresh_token(
            work, services.settings, session, client_id=client.id, scope=OFFLINE
        )
