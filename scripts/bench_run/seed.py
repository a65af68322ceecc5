"""A fresh benchmark database and cache, the accounts and clients the scenarios use, and
pre-minted single-use refresh tokens.

Accounts share one Argon2id hash made with the default parameters (what a sign-in verifies is
exactly what production verifies; hashing hundreds of them would only slow the set-up). Refresh
tokens are inserted in bulk (COPY) as the provider stores them: SHA-256 of a 256-bit random
value, each the head of its own family, in a real session made by a real code flow.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as redis
from argon2 import PasswordHasher

from provider.config import Settings
from provider.crypto.tokens import new_token, token_hash
from provider.oauth.clients import ClientSpec, create_client
from provider.storage.db import close_database, migrate, open_database
from provider.storage.models import Client, Consent, Session, User

PASSWORD = "bench correct horse battery staple"
REDIRECT_URI = "http://127.0.0.1:9/callback"
USER_SCOPES = ["openid", "profile", "email", "offline_access"]
REFRESH_COLUMNS = (
    "id",
    "token_hash",
    "family_id",
    "parent_id",
    "session_id",
    "user_id",
    "client_id",
    "scope",
    "created_at",
    "expires_at",
    "family_expires_at",
)


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret: str
    redirect_uri: str = REDIRECT_URI


@dataclass(frozen=True)
class Seeded:
    code_client: ClientCredentials
    rs256_client: ClientCredentials
    es256_client: ClientCredentials
    # Refresh rotation is measured with ES256 access tokens and no ID token: the target is the
    # rotation's, and two RS256 signatures alone (~1.4 ms of CPU) would cap it below 700/s.
    refresh_client: ClientCredentials
    bench_email: str
    # The accounts' one Argon2id hash (the peer's accounts get the same).
    password_hash: str
    login_emails: list[str] = field(default_factory=list)
    password: str = PASSWORD


def default_argon2() -> tuple[int, int, int]:
    """The Argon2id parameters a server without PROVIDER_ARGON2_* uses."""
    fields = Settings.model_fields
    return (
        int(fields["argon2_time_cost"].default),
        int(fields["argon2_memory_cost"].default),
        int(fields["argon2_parallelism"].default),
    )


def _database_name(database_url: str) -> str:
    name = urlsplit(database_url).path.lstrip("/")
    if not name or not all(c.isalnum() or c == "_" for c in name):
        raise ValueError(f"database name {name!r}: use letters, digits and underscores")
    return name


def asyncpg_dsn(database_url: str, database: str | None = None) -> str:
    parts = urlsplit(database_url.replace("postgres://", "postgresql://", 1))
    if database is not None:
        parts = parts._replace(path="/" + database)
    return parts.geturl()


async def reset_stores(database_url: str, redis_url: str) -> None:
    """Drop and re-create the benchmark database, apply the migrations, empty the Redis db."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise ValueError("the benchmark needs PostgreSQL: BENCH_DATABASE_URL=postgres://…")
    name = _database_name(database_url)
    conn = await asyncpg.connect(asyncpg_dsn(database_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await migrate(database_url)
    client = redis.Redis.from_url(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def seed(database_url: str, secret_key: bytes, login_users: int) -> Seeded:
    """Accounts (one for the token scenarios, `login_users` for the login load), three clients,
    and consent already given to the code-flow client (the login flow skips the consent page)."""
    time_cost, memory_cost, parallelism = default_argon2()
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    password_hash = hasher.hash(PASSWORD)
    await open_database(database_url)
    try:
        code_client = await _client(
            secret_key,
            ClientSpec(
                name="Bench web app",
                redirect_uris=[REDIRECT_URI],
                post_logout_redirect_uris=[],
                grant_types=["authorization_code", "refresh_token"],
                scopes=USER_SCOPES,
                first_party=False,
            ),
        )
        service = ClientSpec(
            name="Bench service",
            redirect_uris=[],
            post_logout_redirect_uris=[],
            grant_types=["client_credentials"],
            scopes=[],
        )
        refresh_client = await _client(
            secret_key,
            ClientSpec(
                name="Bench refresh",
                redirect_uris=[REDIRECT_URI],
                post_logout_redirect_uris=[],
                grant_types=["authorization_code", "refresh_token"],
                scopes=["offline_access"],
            ),
        )
        await Client.filter(id=refresh_client.client_id).update(
            access_token_signed_response_alg="ES256", id_token_signed_response_alg="ES256"
        )
        rs256_client = await _client(secret_key, service)
        es256_client = await _client(secret_key, service)
        await Client.filter(id=es256_client.client_id).update(
            access_token_signed_response_alg="ES256"
        )
        now = datetime.now(UTC)
        emails = ["bench@example.com"] + [
            f"bench-login-{n:05d}@example.com" for n in range(login_users)
        ]
        users = [
            User(
                id=uuid.uuid4(),
                email=email,
                name=f"Bench user {n}",
                password_hash=password_hash,
                email_verified_at=now,
            )
            for n, email in enumerate(emails)
        ]
        await User.bulk_create(users, batch_size=1000)
        await Consent.bulk_create(
            [
                Consent(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    client_id=code_client.client_id,
                    scopes=USER_SCOPES,
                    created_at=now,
                    updated_at=now,
                )
                for user in users
            ],
            batch_size=1000,
        )
    finally:
        await close_database()
    return Seeded(
        code_client,
        rs256_client,
        es256_client,
        refresh_client,
        emails[0],
        password_hash,
        emails[1:],
    )


async def _client(secret_key: bytes, spec: ClientSpec) -> ClientCredentials:
    # The issuer only decides which audiences are reserved; these clients set none, and the
    # bench servers' ports are not known yet.
    client, secret = await create_client(spec, secret_key, "http://127.0.0.1")
    assert secret is not None
    return ClientCredentials(client.id, secret)


async def mint_refresh_tokens(
    database_url: str,
    *,
    session_id: str,
    client_id: str,
    scope: str,
    count: int,
    sessions: int = 1,
) -> list[str]:
    """`count` live refresh tokens for `client_id`, each the head of a new family.

    They hang off the session `session_id` (made by a real sign-in) and, with `sessions` > 1,
    off copies of it, round-robin, so rotations do not all touch the same session row."""
    await open_database(database_url)
    try:
        original = await Session.get(id=session_id)
        session_ids = [original.id]
        for _ in range(sessions - 1):
            copy = await Session.create(
                id=uuid.uuid4(),
                user_id=original.user_id,
                created_at=original.created_at,
                last_active_at=original.last_active_at,
                expires_at=original.expires_at,
                auth_time=original.auth_time,
                amr=original.amr,
                acr=original.acr,
                ip=original.ip,
                user_agent=original.user_agent,
            )
            session_ids.append(copy.id)
        user_id = uuid.UUID(str(original.user_id))
    finally:
        await close_database()
    fields = Settings.model_fields
    now = datetime.now(UTC)
    family_expires_at = min(
        now + timedelta(seconds=int(fields["refresh_token_ttl"].default)), original.expires_at
    )
    expires_at = min(
        now + timedelta(seconds=int(fields["session_idle_ttl"].default)), family_expires_at
    )
    tokens = [new_token() for _ in range(count)]
    records = [
        (
            uuid.uuid4(),
            token_hash(token),
            uuid.uuid4(),
            None,
            session_ids[n % len(session_ids)],
            user_id,
            client_id,
            scope,
            now,
            expires_at,
            family_expires_at,
        )
        for n, token in enumerate(tokens)
    ]
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.copy_records_to_table("refresh_tokens", records=records, columns=REFRESH_COLUMNS)
    finally:
        await conn.close()
    return tokens


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def random_secret_key() -> str:
    """A fresh PROVIDER_SECRET_KEY (prod refuses fewer than 32 characters)."""
    return secrets.token_urlsafe(48)
