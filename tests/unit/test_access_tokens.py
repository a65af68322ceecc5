"""RFC 9068 access tokens: minted by the active key, verified offline, every check enforced."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from provider.crypto.keys import Keystore, write_key
from provider.sessions import access_tokens
from provider.sessions.access_tokens import AccessGrant, InvalidAccessToken, verify_access_token

ISSUER = "https://id.example.com"
GRANT = AccessGrant(
    subject="user-1",
    client_id="first-party",
    scope="openid profile",
    session_id="session-1",
    auth_time=1_700_000_000,
    audience=ISSUER,
)


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Keystore:
    keys_dir = tmp_path_factory.mktemp("keys")
    write_key(keys_dir, "RS256", active_from=time.time() - 10)
    return Keystore(keys_dir, 600)


def mint_access_token(keystore: Keystore, issuer: str, ttl: int, grant: AccessGrant) -> str:
    """The compact JWT, whether the minting function returns it bare or with its metadata."""
    minted = access_tokens.mint_access_token(keystore, issuer, ttl, grant)
    return minted if isinstance(minted, str) else minted.value


def _sign(keystore: Keystore, claims: dict[str, object], **header: object) -> str:
    record = keystore.signing_key()
    return jwt.encode(
        {"alg": "RS256", "kid": record.kid, "typ": "at+jwt", **header}, claims, record.key
    )


def _claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": ISSUER,
        "client_id": "first-party",
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _segments(token: str) -> list[str]:
    return token.split(".")


def _decode_segment(segment: str) -> dict[str, object]:
    padded = segment + "=" * (-len(segment) % 4)
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(padded))
    return decoded


def test_minted_tokens_carry_the_rfc9068_header_and_claims(keystore: Keystore) -> None:
    before = int(time.time())
    token = mint_access_token(keystore, ISSUER, 600, GRANT)
    header = _decode_segment(_segments(token)[0])
    assert header == {"alg": "RS256", "kid": keystore.signing_key().kid, "typ": "at+jwt"}
    claims = verify_access_token(keystore, token, ISSUER, ISSUER)
    assert claims["iss"] == ISSUER
    assert claims["sub"] == "user-1"
    assert claims["aud"] == ISSUER
    assert claims["client_id"] == "first-party"
    assert claims["scope"] == "openid profile"
    assert claims["sid"] == "session-1"
    assert claims["auth_time"] == 1_700_000_000
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 600
    assert len(claims["jti"]) >= 32


def test_every_token_has_its_own_jti(keystore: Keystore) -> None:
    first = verify_access_token(
        keystore, mint_access_token(keystore, ISSUER, 600, GRANT), ISSUER, ISSUER
    )
    second = verify_access_token(
        keystore, mint_access_token(keystore, ISSUER, 600, GRANT), ISSUER, ISSUER
    )
    assert first["jti"] != second["jti"]


def test_optional_claims_are_left_out_when_empty(keystore: Keystore) -> None:
    grant = AccessGrant("user-1", "svc", "", None, None, ISSUER)
    claims = verify_access_token(
        keystore, mint_access_token(keystore, ISSUER, 600, grant), ISSUER, ISSUER
    )
    assert not {"scope", "sid", "auth_time"} & set(claims)


def test_the_media_type_form_of_typ_is_accepted(keystore: Keystore) -> None:
    token = _sign(keystore, _claims(), typ="application/at+jwt")
    assert verify_access_token(keystore, token, ISSUER, ISSUER)["sub"] == "user-1"


@pytest.mark.parametrize("typ", ["JWT", "id_token+jwt", "at+JWT+x", None])
def test_a_token_of_another_type_is_refused(keystore: Keystore, typ: str | None) -> None:
    if typ is None:
        record = keystore.signing_key()
        token = jwt.encode({"alg": "RS256", "kid": record.kid}, _claims(), record.key)
    else:
        token = _sign(keystore, _claims(), typ=typ)
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, token, ISSUER, ISSUER)


def test_the_wrong_audience_is_refused(keystore: Keystore) -> None:
    token = mint_access_token(
        keystore,
        ISSUER,
        600,
        AccessGrant("user-1", "svc", "", None, None, "https://api.other.example"),
    )
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, token, ISSUER, ISSUER)
    assert verify_access_token(keystore, token, ISSUER, "https://api.other.example")


def test_the_wrong_issuer_is_refused(keystore: Keystore) -> None:
    token = mint_access_token(keystore, "https://evil.example", 600, GRANT)
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, token, ISSUER, ISSUER)


def test_an_expired_token_is_refused(keystore: Keystore) -> None:
    token = mint_access_token(keystore, ISSUER, -30, GRANT)
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, token, ISSUER, ISSUER)


@pytest.mark.parametrize("missing", ["exp", "sub", "iss", "aud"])
def test_essential_claims_are_required(keystore: Keystore, missing: str) -> None:
    token = _sign(keystore, _claims(**{missing: None}))
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, token, ISSUER, ISSUER)


def test_a_tampered_payload_is_refused(keystore: Keystore) -> None:
    header, payload, signature = _segments(mint_access_token(keystore, ISSUER, 600, GRANT))
    claims = _decode_segment(payload)
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, f"{header}.{forged}.{signature}", ISSUER, ISSUER)


def test_a_tampered_signature_is_refused(keystore: Keystore) -> None:
    header, payload, signature = _segments(mint_access_token(keystore, ISSUER, 600, GRANT))
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, f"{header}.{payload}.{flipped}", ISSUER, ISSUER)


def test_a_token_signed_by_an_unknown_key_is_refused(keystore: Keystore, tmp_path: Path) -> None:
    write_key(tmp_path, "RS256", active_from=time.time() - 10)
    stranger = Keystore(tmp_path, 600)
    token = mint_access_token(stranger, ISSUER, 600, GRANT)
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, token, ISSUER, ISSUER)


def test_unsigned_and_symmetric_tokens_are_refused(keystore: Keystore) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, f"{header}.{payload}.", ISSUER, ISSUER)
    secret = OctKey.import_key("a-shared-secret-a-shared-secret!!")
    hs256 = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, _claims(), secret)
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, hs256, ISSUER, ISSUER)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "....", "eyJ.eyJ.eyJ", "é.é.é"])
def test_garbage_is_refused(keystore: Keystore, garbage: str) -> None:
    with pytest.raises(InvalidAccessToken):
        verify_access_token(keystore, garbage, ISSUER, ISSUER)


def test_tokens_of_a_retired_key_verify_until_it_is_unpublished(tmp_path: Path) -> None:
    write_key(tmp_path, "RS256", active_from=time.time() - 100)
    old_store = Keystore(tmp_path, 600)
    token = mint_access_token(old_store, ISSUER, 600, GRANT)
    newer = write_key(tmp_path, "RS256", active_from=time.time() - 1)
    store = Keystore(tmp_path, 600)
    assert store.signing_key().kid == newer.kid
    assert verify_access_token(store, token, ISSUER, ISSUER)["sub"] == "user-1"
    assert _decode_segment(_segments(mint_access_token(store, ISSUER, 600, GRANT))[0])["kid"] == (
        newer.kid
    )
