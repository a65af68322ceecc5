"""What waits in the cache while the browser is away: an upstream sign-in, and a link to confirm.

An upstream sign-in is kept under its `state` with the nonce and the PKCE verifier, the flow or
local path it returns to, and the hash of a random value the browser holds in a cookie: a
callback opened in another browser (login CSRF, a link sent to a victim) does not match. The
callback claims the state once, atomically (a second callback with it is a replay) and fails
closed when the cache misbehaves.

A link to confirm is an upstream identity whose email matches a local account that may not be
taken over silently: it waits, under a random token, for that account's password.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from provider.cache.base import Cache
from provider.crypto.tokens import new_token, token_hash
from provider.federation.errors import InvalidCallback

SIGN_IN_TTL = 600
LINK_TTL = 600


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    provider: str
    nonce: str
    code_verifier: str
    browser_hash: str
    flow_id: str | None
    next_path: str | None
    # Set when a signed-in user links a provider from their account page.
    link_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class PendingLink:
    provider: str
    provider_name: str
    subject: str
    email: str
    user_id: str
    mfa: bool
    # The browser that came back from the upstream: only it may confirm (see the module doc).
    browser_hash: str
    flow_id: str | None
    next_path: str | None


def _sign_in_key(state: str) -> str:
    return f"idp:state:{token_hash(state)}"


async def remember_sign_in(cache: Cache, state: str, pending: PendingSignIn) -> None:
    await cache.set(_sign_in_key(state), json.dumps(asdict(pending)), SIGN_IN_TTL)


async def claim_sign_in(cache: Cache, state: str, browser: str | None) -> PendingSignIn:
    """The sign-in `state` stands for, once; InvalidCallback with the reason otherwise."""
    if not state or len(state) > 128:
        raise InvalidCallback(details={"reason": "missing_state"})
    strict = cache.strict()
    key = _sign_in_key(state)
    if not await strict.set_if_absent(f"{key}:claimed", "1", SIGN_IN_TTL):
        raise InvalidCallback(details={"reason": "replayed_state"})
    raw = await strict.get(key)
    await strict.delete(key)
    if raw is None:
        raise InvalidCallback(details={"reason": "unknown_or_expired_state"})
    data: dict[str, Any] = json.loads(raw)
    pending = PendingSignIn(**data)
    if not browser or token_hash(browser) != pending.browser_hash:
        raise InvalidCallback(details={"reason": "other_browser"})
    return pending


def _link_key(token: str) -> str:
    return f"idp:link:{token_hash(token)}"


async def remember_link(cache: Cache, pending: PendingLink) -> str:
    token = new_token()
    await cache.set(_link_key(token), json.dumps(asdict(pending)), LINK_TTL)
    return token


async def find_link(cache: Cache, token: str | None) -> PendingLink | None:
    if not token or len(token) > 128:
        return None
    raw = await cache.strict().get(_link_key(token))
    return None if raw is None else PendingLink(**json.loads(raw))


async def forget_link(cache: Cache, token: str) -> None:
    await cache.delete(_link_key(token))
