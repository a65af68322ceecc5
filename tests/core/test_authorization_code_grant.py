"""grant_type=authorization_code without HTTP: the code's bindings, its expiry, its single use
and what a replay revokes (RFC 6749 §4.1.2, §4.1.3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from provider.context import Services
from provider.crypto.tokens import token_hash
from provider.oauth.grants.authorization_code import authorization_code_grant
from provider.oauth.grants.refresh_token import refresh_token_grant
from provider.oauth.issuance import DENYLIST_PREFIX
from provider.sessions.service import revoke_session
from provider.storage.models import (
    AuditEvent,
    AuthorizationCode,
    Client,
    RefreshToken,
    Session,
    User,
)
from provider.storage.unit_of_work import unit_of_work, utcnow
from tests.contract.conftest import CALLER, RecordingPublisher, make_session
from tests.core.refusals import NOTHING_ISSUED, issued, refusal
from tests.core.rows import OFFLINE, REDIRECT_URI, make_client, pkce_pair, store_code

OTHER_URI = "https://rp.example.com/other-callback"


async def _redeem(
    services: Services, client: Client, code: str, verifier: str, **params: str
) -> dict[str, Any]:
    values = {"code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier, **params}
    return await authorization_code_grant(services, CALLER, client, values)


async def _code(
    services: Services, client: Client, session: Session | None = None
) -> tuple[str, str]:
    """A stored code with PKCE and its verifier."""
    verifier, challenge = pkce_pair()
    session = session or await make_session()
    return await store_code(services, session, client, code_challenge=challenge), verifier


async def test_a_redemption_issues_the_tokens_and_records_them_with_the_code(
    services: Services, publisher: RecordingPublisher
) -> None:
    client = await make_client()
    session = await make_session()
    code, verifier = await _code(services, client, session)

    body = await _redeem(services, client, code, verifier)

    assert body["scope"] == OFFLINE
    assert {"access_token", "refresh_token", "id_token"} <= set(body)
    family = await RefreshToken.get(token_hash=token_hash(body["refresh_token"]))
    assert (family.client_id, family.scope) == (client.id, OFFLINE)
    assert str(family.session_id) == str(session.id)
    row = await AuthorizationCode.get(code_hash=token_hash(code))
    assert row.used_at is not None
    assert row.issued_family_id == family.family_id
    assert row.issued_access_jti
    audit = await AuditEvent.get(event="token.issued")
    assert (audit.client_id, str(audit.session_id)) == (client.id, str(session.id))
    assert audit.details == {"grant_type": "authorization_code", "scope": OFFLINE}
    assert "token.issued" in publisher.names()


async def test_a_missing_code_is_an_invalid_request(services: Services) -> None:
    client = await make_client()

    refused = authorization_code_grant(services, CALLER, client, {"redirect_uri": REDIRECT_URI})

    assert await refusal(refused) == "invalid_request"


async def test_an_unknown_code_is_refused_without_a_replay_alarm(services: Services) -> None:
    client = await make_client()
    verifier, _ = pkce_pair()

    assert await refusal(_redeem(services, client, "never-issued", verifier)) == "invalid_grant"
    assert await AuditEvent.filter(event="authorization_code.reuse_detected").count() == 0


async def test_a_code_of_another_client_is_refused(services: Services) -> None:
    rightful = await make_client()
    other = await make_client("other")
    code, verifier = await _code(services, rightful)

    assert await refusal(_redeem(services, other, code, verifier)) == "invalid_grant"
    assert await issued() == NOTHING_ISSUED
    # The refusal is not a redemption: the rightful client still gets its tokens.
    assert (await _redeem(services, rightful, code, verifier))["access_token"]


@pytest.mark.parametrize(
    "redirect_uri",
    [OTHER_URI, REDIRECT_URI + "/", REDIRECT_URI.upper(), "https://evil.example/callback"],
    ids=["other-registered", "trailing-slash", "case", "foreign"],
)
async def test_a_redirect_uri_other_than_the_codes_is_refused(
    services: Services, redirect_uri: str
) -> None:
    client = await make_client(redirect_uris=[REDIRECT_URI, OTHER_URI])
    code, verifier = await _code(services, client)

    refused = _redeem(services, client, code, verifier, redirect_uri=redirect_uri)

    assert await refusal(refused) == "invalid_grant"
    assert await issued() == NOTHING_ISSUED


async def test_redirect_uri_may_be_left_out_only_when_the_client_has_one(
    services: Services,
) -> None:
    single = await make_client()
    several = await make_client("several", redirect_uris=[REDIRECT_URI, OTHER_URI])
    code_of_single, verifier_of_single = await _code(services, single)
    code_of_several, verifier_of_several = await _code(services, several)

    body = await authorization_code_grant(
        services, CALLER, single, {"code": code_of_single, "code_verifier": verifier_of_single}
    )
    refused = authorization_code_grant(
        services, CALLER, several, {"code": code_of_several, "code_verifier": verifier_of_several}
    )

    assert body["access_token"]
    assert await refusal(refused) == "invalid_grant"


async def test_an_empty_redirect_uri_is_not_a_missing_one(services: Services) -> None:
    client = await make_client()
    code, verifier = await _code(services, client)

    refused = _redeem(services, client, code, verifier, redirect_uri="")

    assert await refusal(refused) == "invalid_grant"
    assert await issued() == NOTHING_ISSUED


async def test_an_expired_code_is_refused_and_left_unused(services: Services) -> None:
    client = await make_client()
    code, verifier = await _code(services, client)
    await AuthorizationCode.filter(code_hash=token_hash(code)).update(
        expires_at=utcnow() - timedelta(seconds=1)
    )

    assert await refusal(_redeem(services, client, code, verifier)) == "invalid_grant"
    assert await issued() == NOTHING_ISSUED
    assert (await AuthorizationCode.get(code_hash=token_hash(code))).used_at is None
    # An expired code is not a replayed one.
    assert await AuditEvent.filter(event="authorization_code.reuse_detected").count() == 0


async def test_a_replayed_code_revokes_what_its_first_redemption_issued(
    services: Services, publisher: RecordingPublisher
) -> None:
    client = await make_client()
    code, verifier = await _code(services, client)
    first = await _redeem(services, client, code, verifier)
    row = await AuthorizationCode.get(code_hash=token_hash(code))

    assert await refusal(_redeem(services, client, code, verifier)) == "invalid_grant"

    family = await RefreshToken.filter(family_id=row.issued_family_id)
    assert len(family) == 1
    assert family[0].revoked_at is not None
    assert family[0].revoked_reason == "code_reuse"
    assert await services.cache.get(DENYLIST_PREFIX + str(row.issued_access_jti)) == "code_reuse"
    alarm = await AuditEvent.get(event="authorization_code.reuse_detected")
    assert alarm.outcome == "failure"
    assert (alarm.client_id, str(alarm.user_id)) == (client.id, str(row.user_id))
    assert "authorization_code.reuse_detected" in publisher.names()
    # The refresh token of the first redemption no longer refreshes.
    refreshed = refresh_token_grant(
        services, CALLER, client, {"refresh_token": first["refresh_token"]}
    )
    assert await refusal(refreshed) == "invalid_grant"
    assert await AuditEvent.filter(event="token.issued").count() == 1


@pytest.mark.parametrize("how", ["logged_out", "idle", "expired", "user_deleted"])
async def test_a_code_whose_session_has_ended_is_refused(services: Services, how: str) -> None:
    client = await make_client()
    session = await make_session()
    code, verifier = await _code(services, client, session)
    now = utcnow()
    if how == "logged_out":
        async with unit_of_work(CALLER, services.events) as work:
            assert await revoke_session(work, session.id, session.user_id, reason="logout")
    elif how == "idle":
        idle = timedelta(seconds=services.settings.session_idle_ttl + 1)
        await Session.filter(id=session.id).update(last_active_at=now - idle)
    elif how == "expired":
        await Session.filter(id=session.id).update(expires_at=now - timedelta(seconds=1))
    else:
        await User.filter(id=session.user_id).update(deleted_at=now)

    assert await refusal(_redeem(services, client, code, verifier)) == "invalid_grant"
    assert await issued() == NOTHING_ISSUED
