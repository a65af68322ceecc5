"""Signing keys: RFC 7638 kids, published / signing / retired states, reload and rotation."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import time
from pathlib import Path

import pytest

from provider.crypto.keys import (
    Keystore,
    KeyUnusable,
    ensure_dev_key,
    read_keys,
    retired_at,
    rotate,
    write_key,
)

TTL = 600  # the longest-lived token a key signs


def rfc7638_thumbprint(jwk: dict[str, str]) -> str:
    """Computed here from the RFC, independently of joserfc."""
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    required = {name: jwk[name] for name in members[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def published_kids(store: Keystore) -> set[str]:
    return {key["kid"] for key in json.loads(store.jwks_body)["keys"]}


@pytest.mark.parametrize("alg", ["RS256", "ES256", "Ed25519"])
def test_kid_is_the_rfc7638_thumbprint_and_the_file_is_private(tmp_path: Path, alg: str) -> None:
    record = write_key(tmp_path, alg, active_from=time.time())  # type: ignore[arg-type]
    document = json.loads(record.path.read_text())
    assert record.path.name == f"{record.kid}.json"
    assert record.kid == rfc7638_thumbprint(document["jwk"])
    assert document["jwk"]["kid"] == record.kid
    assert document["jwk"]["alg"] == alg
    assert stat.S_IMODE(record.path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_jwks_publishes_public_halves_only(tmp_path: Path) -> None:
    rsa = write_key(tmp_path, "RS256", active_from=time.time() - 10)
    ec = write_key(tmp_path, "ES256", active_from=time.time() - 10)
    okp = write_key(tmp_path, "Ed25519", active_from=time.time() - 10)
    store = Keystore(tmp_path, TTL)
    keys = {key["kid"]: key for key in json.loads(store.jwks_body)["keys"]}
    assert set(keys) == {rsa.kid, ec.kid, okp.kid}
    private_members = {"d", "p", "q", "dp", "dq", "qi"}
    for key in keys.values():
        assert not private_members & set(key), key
        assert key["use"] == "sig"
        assert key["kid"] == rfc7638_thumbprint(key)
    assert keys[rsa.kid]["alg"] == "RS256"
    assert keys[okp.kid]["alg"] == "Ed25519"
    assert store.algorithms == ["ES256", "Ed25519", "RS256"]
    assert store.signing_key("ES256").kid == ec.kid


def test_a_pending_key_is_published_before_it_signs(tmp_path: Path) -> None:
    current = write_key(tmp_path, "RS256", active_from=time.time() - 100)
    pending = write_key(tmp_path, "RS256", active_from=time.time() + 3600)
    store = Keystore(tmp_path, TTL)
    assert store.signing_key().kid == current.kid
    assert published_kids(store) == {current.kid, pending.kid}
    assert retired_at(current, store.records, time.time()) is None


def test_the_newest_active_key_signs_and_the_old_one_stays_published(tmp_path: Path) -> None:
    old = write_key(tmp_path, "RS256", active_from=time.time() - 1000)
    new = write_key(tmp_path, "RS256", active_from=time.time() - 100)
    store = Keystore(tmp_path, TTL)
    assert store.signing_key().kid == new.kid
    # Retired 100 s ago: tokens it signed (up to TTL) may still be alive, so it stays published.
    assert published_kids(store) == {old.kid, new.kid}
    assert retired_at(old, store.records, time.time()) == pytest.approx(new.active_from)


def test_a_retired_key_leaves_the_jwks_once_its_tokens_have_expired(tmp_path: Path) -> None:
    old = write_key(tmp_path, "RS256", active_from=time.time() - 10_000)
    new = write_key(tmp_path, "RS256", active_from=time.time() - 5_000)
    assert published_kids(Keystore(tmp_path, TTL)) == {new.kid}
    assert published_kids(Keystore(tmp_path, 86_400)) == {old.kid, new.kid}


def test_keys_of_other_algorithms_do_not_retire_each_other(tmp_path: Path) -> None:
    rsa = write_key(tmp_path, "RS256", active_from=time.time() - 10_000)
    ec = write_key(tmp_path, "ES256", active_from=time.time() - 100)
    store = Keystore(tmp_path, TTL)
    assert store.signing_key("RS256").kid == rsa.kid
    assert published_kids(store) == {rsa.kid, ec.kid}


def test_no_active_rs256_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KeyUnusable, match="no active RS256 key"):
        Keystore(tmp_path / "missing", TTL)
    write_key(tmp_path, "RS256", active_from=time.time() + 3600)
    with pytest.raises(KeyUnusable, match="no active RS256 key"):
        Keystore(tmp_path, TTL)
    write_key(tmp_path, "ES256", active_from=time.time())
    with pytest.raises(KeyUnusable, match="no active RS256 key"):
        Keystore(tmp_path, TTL)


def test_a_key_whose_kid_is_not_its_thumbprint_is_refused(tmp_path: Path) -> None:
    record = write_key(tmp_path, "RS256", active_from=time.time())
    document = json.loads(record.path.read_text())
    document["jwk"]["kid"] = "chosen-by-hand"
    record.path.write_text(json.dumps(document))
    with pytest.raises(KeyUnusable, match="RFC 7638"):
        read_keys(tmp_path)


def test_a_public_key_file_is_refused(tmp_path: Path) -> None:
    record = write_key(tmp_path, "RS256", active_from=time.time())
    document = json.loads(record.path.read_text())
    document["jwk"] = {
        **record.key.as_dict(private=False),
        "kid": record.kid,
        "alg": "RS256",
    }
    record.path.write_text(json.dumps(document))
    with pytest.raises(KeyUnusable, match="not a private key"):
        read_keys(tmp_path)


@pytest.mark.parametrize(
    "content",
    ["not json", "{}", '{"jwk": {"kty": "RSA", "alg": "RS256"}}', '{"jwk": {"alg": "HS256"}}'],
)
def test_unreadable_key_files_are_refused(tmp_path: Path, content: str) -> None:
    (tmp_path / "broken.json").write_text(content)
    with pytest.raises(KeyUnusable, match=r"broken\.json"):
        read_keys(tmp_path)


def test_maybe_reload_picks_up_new_files_only(tmp_path: Path) -> None:
    first = write_key(tmp_path, "RS256", active_from=time.time() - 10)
    store = Keystore(tmp_path, TTL)
    etag = store.jwks_etag
    assert store.maybe_reload() is False
    second = write_key(tmp_path, "RS256", active_from=time.time() + 3600)
    assert store.maybe_reload() is True
    assert published_kids(store) == {first.kid, second.kid}
    assert store.jwks_etag != etag
    assert store.signing_key().kid == first.kid


def test_maybe_reload_switches_when_a_pending_key_becomes_active(tmp_path: Path) -> None:
    first = write_key(tmp_path, "RS256", active_from=time.time() - 10)
    second = write_key(tmp_path, "RS256", active_from=time.time() + 0.3)
    store = Keystore(tmp_path, TTL)
    assert store.signing_key().kid == first.kid
    time.sleep(0.35)
    assert store.maybe_reload() is True
    assert store.signing_key().kid == second.kid


def test_rotate_adds_a_key_and_deletes_keys_no_longer_published(tmp_path: Path) -> None:
    expired = write_key(tmp_path, "RS256", active_from=time.time() - 10_000)
    current = write_key(tmp_path, "RS256", active_from=time.time() - 5_000)
    added = rotate(tmp_path, "RS256", delay=120, max_token_ttl=TTL)
    assert added.active_from == pytest.approx(time.time() + 120, abs=5)
    assert not expired.path.exists()
    assert {r.kid for r in read_keys(tmp_path)} == {current.kid, added.kid}
    store = Keystore(tmp_path, TTL)
    assert store.signing_key().kid == current.kid  # the new key waits for its delay
    now_active = rotate(tmp_path, "RS256", delay=0, max_token_ttl=TTL)
    store = Keystore(tmp_path, TTL)
    assert store.signing_key().kid == now_active.kid
    assert current.kid in published_kids(store)  # just retired: still published


def test_ensure_dev_key_creates_one_key_in_an_empty_folder_only(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    created = ensure_dev_key(keys_dir)
    assert created is not None
    assert created.alg == "RS256"
    assert ensure_dev_key(keys_dir) is None
    assert [r.kid for r in read_keys(keys_dir)] == [created.kid]
    assert Keystore(keys_dir, TTL).signing_key().kid == created.kid


def test_a_broken_file_fails_the_reload_and_keeps_the_previous_set(tmp_path: Path) -> None:
    good = write_key(tmp_path, "RS256", active_from=time.time() - 10)
    store = Keystore(tmp_path, TTL)
    (tmp_path / "half-written.json").write_text('{"jwk": {"kty": "RSA", "alg": "RS256"}}')
    with pytest.raises(KeyUnusable, match="half-written"):
        store.maybe_reload()
    assert store.signing_key().kid == good.kid
    assert published_kids(store) == {good.kid}
