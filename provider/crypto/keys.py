"""Signing keys: files in `keys/`, the published JWKS, and rotation.

Every worker loads the same files, so a token signed by one is verifiable by all. A key file is
`<kid>.json`: `{"jwk": {private JWK}, "created_at", "active_from"}` (epoch seconds). A new key is
published at once but signs only from `active_from` (relying parties have fetched it by then); a key
retires when a newer key of its algorithm becomes active, and stays published until every token it
signed has expired.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

Algorithm = Literal["RS256", "ES256", "Ed25519"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256", "Ed25519")
SigningKey = RSAKey | ECKey | OKPKey


class KeyUnusable(Exception):
    """A key file is unreadable or no key can sign."""


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    alg: Algorithm
    key: SigningKey
    created_at: float
    active_from: float
    path: Path


def generate_key(alg: Algorithm) -> SigningKey:
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    return OKPKey.generate_key("Ed25519", private=True)


def write_key(keys_dir: Path, alg: Algorithm, active_from: float) -> KeyRecord:
    """Create a key file atomically (write then rename) with owner-only permissions."""
    key = generate_key(alg)
    kid = key.thumbprint()
    keys_dir.mkdir(parents=True, exist_ok=True)
    created_at = time.time()
    document = {
        "jwk": {**key.as_dict(private=True), "kid": kid, "alg": alg, "use": "sig"},
        "created_at": created_at,
        "active_from": active_from,
    }
    path = keys_dir / f"{kid}.json"
    temporary = keys_dir / f".{kid}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
    temporary.replace(path)
    # The key in hand, not the file read back: importing an RSA private key checks it again,
    # tens of milliseconds of a first start, and the file is read when the keys are loaded.
    return KeyRecord(
        kid=kid,
        alg=alg,
        key=key,
        created_at=created_at,
        active_from=active_from,
        path=path,
    )


def _record(path: Path, document: dict[str, Any]) -> KeyRecord:
    jwk = dict(document["jwk"])
    alg = jwk.get("alg")
    if alg not in ALGORITHMS:
        raise KeyUnusable(f"{path.name}: unsupported alg {alg!r}")
    key: SigningKey
    if alg == "RS256":
        key = RSAKey.import_key(jwk)
    elif alg == "ES256":
        key = ECKey.import_key(jwk)
    else:
        key = OKPKey.import_key(jwk)
    kid = key.thumbprint()
    if jwk.get("kid") != kid:
        raise KeyUnusable(f"{path.name}: kid is not the RFC 7638 thumbprint of the key")
    if not key.is_private:
        raise KeyUnusable(f"{path.name}: not a private key")
    return KeyRecord(
        kid=kid,
        alg=alg,
        key=key,
        created_at=float(document["created_at"]),
        active_from=float(document["active_from"]),
        path=path,
    )


def read_keys(keys_dir: Path) -> list[KeyRecord]:
    records = []
    for path in sorted(keys_dir.glob("*.json")):
        try:
            document = json.loads(path.read_text())
            records.append(_record(path, document))
        except (OSError, ValueError, KeyError, TypeError, JoseError) as exc:
            # JoseError: a JWK missing members; it must not escape `keys list` or the reload loop.
            raise KeyUnusable(f"{path.name}: {exc}") from exc
    return sorted(records, key=lambda record: (record.active_from, record.created_at))


def retired_at(record: KeyRecord, records: list[KeyRecord], now: float) -> float | None:
    """When a newer active key of the same algorithm took over from this one, if one did."""
    successors = [
        other.active_from
        for other in records
        if other.alg == record.alg
        and other.active_from > record.active_from
        and other.active_from <= now
    ]
    return min(successors) if successors else None


class Keystore:
    def __init__(self, keys_dir: Path, max_token_ttl: float) -> None:
        self.keys_dir = keys_dir
        self.max_token_ttl = max_token_ttl
        self._fingerprint = ""
        self._next_change = 0.0
        self._records: list[KeyRecord] = []
        self._signing: dict[str, KeyRecord] = {}
        self.jwks_body = b""
        self.jwks_etag = ""
        self.key_set = KeySet([])
        self.reload()

    def _directory_fingerprint(self) -> str:
        entries = sorted(
            (path.name, path.stat().st_mtime_ns) for path in self.keys_dir.glob("*.json")
        )
        return repr(entries)

    def maybe_reload(self) -> bool:
        """Reload when the files changed (a `keys rotate` on disk) or a key's time has come."""
        if self._directory_fingerprint() == self._fingerprint and time.time() < self._next_change:
            return False
        self.reload()
        return True

    def reload(self) -> None:
        now = time.time()
        records = read_keys(self.keys_dir) if self.keys_dir.exists() else []
        published = [r for r in records if self._is_published(r, records, now)]
        signing: dict[str, KeyRecord] = {}
        for record in records:
            if record.active_from <= now:
                signing[record.alg] = record
        if "RS256" not in signing:
            raise KeyUnusable(f"no active RS256 key in {self.keys_dir}; run `provider keys rotate`")
        self._records = records
        self._signing = signing
        self.key_set = KeySet([r.key for r in published])
        jwks = {"keys": [self._public_jwk(r) for r in published]}
        self.jwks_body = json.dumps(jwks, separators=(",", ":")).encode()
        self.jwks_etag = '"' + hashlib.sha256(self.jwks_body).hexdigest()[:32] + '"'
        self._fingerprint = self._directory_fingerprint()
        self._next_change = self._next_change_after(records, now)

    def _next_change_after(self, records: list[KeyRecord], now: float) -> float:
        """The next moment a key starts signing or leaves the published set."""
        moments = [r.active_from for r in records if r.active_from > now]
        for record in records:
            retired = retired_at(record, records, float("inf"))
            if retired is not None and retired + self.max_token_ttl > now:
                moments.append(retired + self.max_token_ttl)
        return min(moments, default=float("inf"))

    def _is_published(self, record: KeyRecord, records: list[KeyRecord], now: float) -> bool:
        retired = retired_at(record, records, now)
        return retired is None or retired + self.max_token_ttl > now

    @staticmethod
    def _public_jwk(record: KeyRecord) -> dict[str, Any]:
        return {
            **record.key.as_dict(private=False),
            "kid": record.kid,
            "alg": record.alg,
            "use": "sig",
        }

    def signing_key(self, alg: str = "RS256") -> KeyRecord:
        record = self._signing.get(alg)
        if record is None:
            raise KeyUnusable(f"no active {alg} signing key")
        return record

    @property
    def records(self) -> list[KeyRecord]:
        return list(self._records)

    @property
    def algorithms(self) -> list[str]:
        return sorted(self._signing)


def ensure_dev_key(keys_dir: Path) -> KeyRecord | None:
    """On first start with an empty folder, create an RS256 key that signs at once."""
    if keys_dir.exists() and any(keys_dir.glob("*.json")):
        return None
    return write_key(keys_dir, "RS256", active_from=time.time())


def rotate(keys_dir: Path, alg: Algorithm, delay: float, max_token_ttl: float) -> KeyRecord:
    """Add the next key (signing after `delay`) and delete keys whose publication has ended."""
    now = time.time()
    record = write_key(keys_dir, alg, active_from=now + delay)
    records = read_keys(keys_dir)
    for old in records:
        retired = retired_at(old, records, now)
        if retired is not None and retired + max_token_ttl <= now:
            old.path.unlink(missing_ok=True)
    return record
