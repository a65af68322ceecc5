"""Consents contract: a consent is found for its user and client only, grows with each grant,
and is forgotten with its client."""

from __future__ import annotations

from provider.storage.consents import Consents
from provider.storage.db import default_connection
from provider.storage.models import Consent
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session


async def test_no_consent_until_one_is_remembered(backend: str) -> None:
    session = await make_session()
    store = Consents(default_connection())
    assert await store.scopes_for(session.user_id, "app") is None
    assert await store.remember(session.user_id, "app", ["openid", "profile"], utcnow()) == [
        "openid",
        "profile",
    ]
    assert await store.scopes_for(session.user_id, "app") == ["openid", "profile"]
    assert await store.scopes_for(session.user_id, "other-app") is None
    other = await make_session()
    assert await store.scopes_for(other.user_id, "app") is None


async def test_a_new_grant_adds_to_what_was_allowed(backend: str) -> None:
    session = await make_session()
    store = Consents(default_connection())
    await store.remember(session.user_id, "app", ["openid", "profile"], utcnow())
    merged = await store.remember(session.user_id, "app", ["openid", "email"], utcnow())
    assert merged == ["email", "openid", "profile"]
    assert await store.scopes_for(session.user_id, "app") == ["email", "openid", "profile"]
    assert await Consent.filter(user_id=session.user_id, client_id="app").count() == 1
    # A narrower grant never takes away what was allowed before.
    assert await store.remember(session.user_id, "app", ["openid"], utcnow()) == merged


async def test_forgetting_a_client_removes_only_its_consents(backend: str) -> None:
    ada, grace = await make_session(), await make_session()
    store = Consents(default_connection())
    for user_id in (ada.user_id, grace.user_id):
        await store.remember(user_id, "doomed", ["openid"], utcnow())
    await store.remember(ada.user_id, "kept", ["openid"], utcnow())
    assert await store.forget_client("doomed") == 2
    assert await store.scopes_for(ada.user_id, "doomed") is None
    assert await store.scopes_for(grace.user_id, "doomed") is None
    assert await store.scopes_for(ada.user_id, "kept") == ["openid"]
    assert await store.forget_client("doomed") == 0


async def test_forgetting_one_users_consent_keeps_the_others(backend: str) -> None:
    ada, grace = await make_session(), await make_session()
    store = Consents(default_connection())
    for user_id in (ada.user_id, grace.user_id):
        await store.remember(user_id, "app", ["openid"], utcnow())
    await store.remember(ada.user_id, "other-app", ["openid"], utcnow())
    assert await store.forget(ada.user_id, "app") is True
    assert await store.scopes_for(ada.user_id, "app") is None
    assert await store.scopes_for(ada.user_id, "other-app") == ["openid"]
    assert await store.scopes_for(grace.user_id, "app") == ["openid"]
    assert await store.forget(ada.user_id, "app") is False
