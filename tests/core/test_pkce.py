"""PKCE at the token endpoint (RFC 7636 §4.1, §4.6; RFC 9700 §2.1.1), through the
authorization_code grant with a stored code."""

from __future__ import annotations

import pytest

from provider.context import Services
from provider.crypto.tokens import token_hash
from provider.oauth.authorization_request import AuthorizationRefused, validate_request
from provider.oauth.grants.authorization_code import authorization_code_grant
from provider.storage.models import AuthorizationCode, Client
from tests.contract.conftest import CALLER, make_session
from tests.core.refusals import NOTHING_ISSUED, issued, refusal
from tests.core.rows import REDIRECT_URI, make_client, pkce_pair, s256, store_code

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


async def _redeem(services: Services, client: Client, code: str, **params: str) -> object:
    return await authorization_code_grant(
        services, CALLER, client, {"code": code, "redirect_uri": REDIRECT_URI, **params}
    )


async def _code_with_challenge(services: Services, challenge: str | None) -> tuple[Client, str]:
    client = await make_client()
    session = await make_session()
    return client, await store_code(services, session, client, code_challenge=challenge)


async def test_the_verifier_of_the_s256_challenge_redeems_the_code(services: Services) -> None:
    verifier, challenge = pkce_pair()
    client, code = await _code_with_challenge(services, challenge)

    body = await _redeem(services, client, code, code_verifier=verifier)

    assert isinstance(body, dict)
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    row = await AuthorizationCode.get(code_hash=token_hash(code))
    assert row.used_at is not None
    assert row.issued_access_jti is not None


@pytest.mark.parametrize(
    "verifier",
    [
        UNRESERVED[:43],
        (UNRESERVED * 2)[:128],
        "~" * 43,
    ],
    ids=["43-chars", "128-chars", "tildes"],
)
async def test_every_verifier_of_43_to_128_unreserved_characters_is_accepted(
    services: Services, verifier: str
) -> None:
    client, code = await _code_with_challenge(services, s256(verifier))

    body = await _redeem(services, client, code, code_verifier=verifier)

    assert isinstance(body, dict)
    assert body["access_token"]


async def test_another_verifier_is_refused(services: Services) -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    client, code = await _code_with_challenge(services, challenge)

    assert await refusal(_redeem(services, client, code, code_verifier=other_verifier)) == (
        "invalid_grant"
    )
    assert await issued() == NOTHING_ISSUED


async def test_a_missing_verifier_is_refused(services: Services) -> None:
    _, challenge = pkce_pair()
    client, code = await _code_with_challenge(services, challenge)

    assert await refusal(_redeem(services, client, code)) == "invalid_grant"
    assert await issued() == NOTHING_ISSUED


@pytest.mark.parametrize(
    "verifier",
    [
        "a" * 42,
        "a" * 129,
        "a" * 42 + "+",
        "a" * 42 + "/",
        "a" * 42 + "=",
        "a" * 21 + " " + "a" * 21,
        "a" * 42 + "é",
        "a" * 43 + "\n",
        "a" * 128 + "\n",
        "",
    ],
    ids=[
        "42-chars",
        "129-chars",
        "plus",
        "slash",
        "equals",
        "space",
        "non-ascii",
        "trailing-newline",
        "128-chars-and-newline",
        "empty",
    ],
)
async def test_a_malformed_verifier_is_refused_even_when_its_hash_matches(
    services: Services, verifier: str
) -> None:
    # The challenge is the S256 of this very verifier: only the RFC 7636 §4.1 format refuses it.
    client, code = await _code_with_challenge(services, s256(verifier))

    assert await refusal(_redeem(services, client, code, code_verifier=verifier)) == (
        "invalid_grant"
    )
    assert await issued() == NOTHING_ISSUED


async def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(
    services: Services,
) -> None:
    # RFC 9700 §2.1.1: a verifier the authorization request never committed to is a downgrade.
    verifier, _ = pkce_pair()
    client, code = await _code_with_challenge(services, None)

    assert await refusal(_redeem(services, client, code, code_verifier=verifier)) == (
        "invalid_grant"
    )
    assert await issued() == NOTHING_ISSUED


async def test_a_code_without_a_challenge_needs_no_verifier(services: Services) -> None:
    client, code = await _code_with_challenge(services, None)

    body = await _redeem(services, client, code)

    assert isinstance(body, dict)
    assert body["access_token"]


async def test_a_plain_challenge_stored_with_the_code_never_matches_its_verifier(
    services: Services,
) -> None:
    # What the plain method would store: the verifier itself. Only S256 is ever computed.
    verifier, _ = pkce_pair()
    client, code = await _code_with_challenge(services, verifier)

    assert await refusal(_redeem(services, client, code, code_verifier=verifier)) == (
        "invalid_grant"
    )
    assert await issued() == NOTHING_ISSUED


@pytest.mark.parametrize("method", ["plain", None, "s256"])
async def test_an_authorization_request_without_the_s256_method_is_refused(
    services: Services, method: str | None
) -> None:
    # RFC 7636 §4.3: a missing method means plain; RFC 9700 §2.1.1 allows S256 only.
    client = Client(id="rp", name="rp", redirect_uris=[REDIRECT_URI], scopes=["openid"])
    params = {"response_type": "code", "scope": "openid", "code_challenge": pkce_pair()[1]}
    if method is not None:
        params["code_challenge_method"] = method

    with pytest.raises(AuthorizationRefused) as refused:
        await validate_request(services, client, REDIRECT_URI, params)

    assert refused.value.error == "invalid_request"
    assert refused.value.request.code_challenge is None


@pytest.mark.parametrize(
    "challenge",
    ["a" * 42, "a" * 129, "a" * 42 + "=", "a" * 43 + "\n", "a" * 128 + "\n"],
    ids=["42-chars", "129-chars", "padding", "trailing-newline", "128-chars-and-newline"],
)
async def test_a_malformed_challenge_is_refused(services: Services, challenge: str) -> None:
    # A challenge longer than 128 characters would not even fit the code's column.
    client = Client(id="rp", name="rp", redirect_uris=[REDIRECT_URI], scopes=["openid"])
    params = {
        "response_type": "code",
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }

    with pytest.raises(AuthorizationRefused) as refused:
        await validate_request(services, client, REDIRECT_URI, params)

    assert refused.value.error == "invalid_request"
    assert refused.value.request.code_challenge is None
