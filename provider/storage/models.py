"""Durable state. Secrets are stored as SHA-256 hashes, never in clear."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

ROLES = ("user", "admin", "auditor")


class User(Model):
    # Tortoise reads each model's source at import for `#:` field comments unless told
    # not to (0.4 s of every start); these models have none.
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    username = fields.CharField(max_length=64, unique=True, null=True)
    name = fields.CharField(max_length=200, default="")
    # OIDC Core §5.1 standard claims the user edits on their profile.
    given_name = fields.CharField(max_length=200, null=True)
    family_name = fields.CharField(max_length=200, null=True)
    locale = fields.CharField(max_length=35, null=True)
    zoneinfo = fields.CharField(max_length=64, null=True)
    picture = fields.CharField(max_length=2048, null=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharField(max_length=16, default="user")
    email_verified_at = fields.DatetimeField(null=True)
    locked_until = fields.DatetimeField(null=True)
    phone_number = fields.CharField(max_length=32, null=True)
    address: dict[str, Any] | None = fields.JSONField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    # Set when the user deleted their own account: until then they may restore it, after it the
    # purge erases it. An account an admin deleted has none and stays until restored.
    purge_after = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # TOTP (RFC 6238). Both secrets are sealed with AES-256-GCM (provider.crypto.sealing); the
    # pending one waits for its first code. The last accepted time step refuses replays (§5.2).
    totp_secret = fields.CharField(max_length=255, null=True)
    totp_pending_secret = fields.CharField(max_length=255, null=True)
    totp_enabled_at = fields.DatetimeField(null=True)
    totp_last_step = fields.BigIntField(null=True)
    # The WebAuthn user handle of the account's passkeys (WebAuthn L3 §14.6.1: random, no
    # personal data): base64url of 32 random bytes, made at the first passkey registration.
    passkey_user_handle = fields.CharField(max_length=64, unique=True, null=True)

    class Meta:
        table = "users"


# Class docstrings would become table comments, which Tortoise does not escape in its SQL.
# A login of one user on one device; refresh-token families hang off it.
class Session(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="sessions", on_delete=fields.CASCADE
    )
    user_id: str
    created_at = fields.DatetimeField()
    last_active_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    auth_time = fields.DatetimeField()
    amr: list[str] = fields.JSONField(default=list)
    acr = fields.CharField(max_length=64, default="")
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=512, default="")
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=64, null=True)
    compromised_at = fields.DatetimeField(null=True)
    # Hash of the browser cookie for sessions started on the hosted pages.
    cookie_hash = fields.CharField(max_length=64, unique=True, null=True)

    class Meta:
        table = "sessions"
        indexes = (("user_id", "revoked_at"),)


# One link of a rotation chain; family_id groups one grant of one session to one client.
class RefreshToken(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    family_id = fields.UUIDField(db_index=True)
    parent_id = fields.UUIDField(null=True)
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "provider.Session", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    session_id: str
    user_id = fields.UUIDField(db_index=True)
    client_id = fields.CharField(max_length=128)
    scope = fields.CharField(max_length=1024, default="")
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    family_expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=64, null=True)
    # The resource servers of the grant (RFC 8707 §2.2), each a possible audience of a refresh.
    # Null on rows from before resources existed: none.
    resources: list[str] | None = fields.JSONField(null=True)

    class Meta:
        table = "refresh_tokens"


# Single-use secrets sent by mail or handed between steps (verification, reset, MFA).
class OneTimeToken(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=32)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="one_time_tokens", on_delete=fields.CASCADE
    )
    user_id: str
    data: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "one_time_tokens"


# A single-use MFA backup code; only its keyed hash (HMAC-SHA256 under the server secret) is kept.
class BackupCode(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="backup_codes", on_delete=fields.CASCADE
    )
    user_id: str
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "backup_codes"
        unique_together = (("user_id", "code_hash"),)


# A WebAuthn credential (a passkey) of a user. The public key is kept as the authenticator gave
# it, a COSE_Key (RFC 9053 §7); the signature counter refuses clones (WebAuthn L3 §6.1.1).
class Passkey(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="passkeys", on_delete=fields.CASCADE
    )
    user_id: str
    # base64url of the credential id (at most 1023 bytes, WebAuthn L3 §4 "Credential ID").
    credential_id = fields.CharField(max_length=1366, unique=True)
    public_key = fields.BinaryField()
    sign_count = fields.BigIntField(default=0)
    transports: list[str] = fields.JSONField(default=list)
    name = fields.CharField(max_length=64)
    aaguid = fields.CharField(max_length=36, default="")
    backup_eligible = fields.BooleanField(default=False)
    backed_up = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkeys"


class AuditEvent(Model):
    _no_comments = True
    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(db_index=True)
    event = fields.CharField(max_length=64, db_index=True)
    outcome = fields.CharField(max_length=16)
    user_id = fields.UUIDField(null=True, db_index=True)
    session_id = fields.UUIDField(null=True)
    client_id = fields.CharField(max_length=128, null=True)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=512, default="")
    request_id = fields.CharField(max_length=128, default="")
    details: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_events"


# A relying party. The secret is server-generated (256 bits), so a keyed fast hash is right.
class Client(Model):
    _no_comments = True
    id = fields.CharField(max_length=128, primary_key=True)
    name = fields.CharField(max_length=200)
    secret_hash = fields.CharField(max_length=64, null=True)
    previous_secret_hash = fields.CharField(max_length=64, null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    public = fields.BooleanField(default=False)
    redirect_uris: list[str] = fields.JSONField(default=list)
    post_logout_redirect_uris: list[str] = fields.JSONField(default=list)
    grant_types: list[str] = fields.JSONField(default=list)
    scopes: list[str] = fields.JSONField(default=list)
    token_endpoint_auth_method = fields.CharField(max_length=32, default="client_secret_basic")
    jwks: dict[str, Any] | None = fields.JSONField(null=True)
    jwks_uri = fields.CharField(max_length=2048, null=True)
    # Shown on the sign-in and consent pages beside the client's name (RFC 7591 §2 logo_uri).
    logo_uri = fields.CharField(max_length=2048, null=True)
    id_token_signed_response_alg = fields.CharField(max_length=16, default="RS256")
    access_token_signed_response_alg = fields.CharField(max_length=16, default="RS256")
    audience = fields.CharField(max_length=512, default="")
    access_token_ttl = fields.IntField(null=True)
    refresh_token_ttl = fields.IntField(null=True)
    first_party = fields.BooleanField(default=False)
    # May introspect tokens issued to other clients (RFC 7662 §4); off, a client sees its own
    # tokens and those naming it as audience only.
    introspect_any = fields.BooleanField(default=False, db_default=False)
    require_mfa = fields.BooleanField(default=False)
    # Which app roles the client sees in the `roles` claim: those listed, else those whose name
    # starts with the prefix; neither set, every role of the user.
    app_role_prefix = fields.CharField(max_length=128, default="", db_default="")
    app_role_names: list[str] | None = fields.JSONField(null=True)
    # The same for the groups in the `groups` claim.
    app_group_prefix = fields.CharField(max_length=128, default="", db_default="")
    app_group_names: list[str] | None = fields.JSONField(null=True)
    require_verified_email = fields.BooleanField(default=False)
    disabled = fields.BooleanField(default=False)
    # How the client came to be: "admin" (CLI, admin API or console), "dynamic" (RFC 7591
    # registration) or "metadata_document" (its client_id is the URL of a Client ID Metadata
    # Document). The last two were registered by nobody the organisation vouches for.
    registration = fields.CharField(max_length=24, default="admin", db_default="admin")
    # RFC 7592 §3: the keyed hash of the registration access token of a dynamic client.
    registration_token_hash = fields.CharField(max_length=64, null=True)
    # What a self-registered client says about itself and is shown or echoed back only
    # (client_uri, logo_uri, contacts, tos_uri, policy_uri, software_id, software_version).
    client_metadata: dict[str, Any] | None = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "clients"


# An initial access token (RFC 7591 §3): lets its bearer register clients dynamically, until it
# expires or its uses are spent. Only its keyed hash is kept.
class InitialAccessToken(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    note = fields.CharField(max_length=200, default="")
    uses_left = fields.IntField()
    expires_at = fields.DatetimeField()
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "initial_access_tokens"


# An authorization code: single use, 60 s, bound to client, redirect_uri, PKCE and nonce.
class AuthorizationCode(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    client_id = fields.CharField(max_length=128)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="authorization_codes", on_delete=fields.CASCADE
    )
    user_id: str
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "provider.Session", related_name="authorization_codes", on_delete=fields.CASCADE
    )
    session_id: str
    redirect_uri = fields.CharField(max_length=2048)
    scope = fields.CharField(max_length=1024)
    nonce = fields.CharField(max_length=512, null=True)
    code_challenge = fields.CharField(max_length=128, null=True)
    # The authentication the code was issued under, for the ID token it yields.
    auth_time = fields.DatetimeField()
    amr: list[str] = fields.JSONField(default=list)
    acr = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    # What the redemption issued, so a second redemption can revoke it (RFC 6749 §4.1.2).
    issued_family_id = fields.UUIDField(null=True)
    issued_access_jti = fields.CharField(max_length=64, null=True)
    # The resource servers the authorization request named (RFC 8707 §2.1).
    resources: list[str] | None = fields.JSONField(null=True)

    class Meta:
        table = "authorization_codes"


# The scopes a user granted to a client, remembered for the next authorization.
class Consent(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="consents", on_delete=fields.CASCADE
    )
    user_id: str
    client_id = fields.CharField(max_length=128)
    scopes: list[str] = fields.JSONField(default=list)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "consents"
        unique_together = (("user_id", "client_id"),)


# An upstream identity provider users may sign in with (provider.federation). The client secret
# is sealed (provider.crypto.sealing) with the slug as context; `claims` maps an OAuth2 kind's
# userinfo fields to sub/email/email_verified/name.
class IdentityProvider(Model):
    _no_comments = True
    slug = fields.CharField(max_length=32, primary_key=True)
    name = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=8)
    issuer = fields.CharField(max_length=2048, default="")
    authorize_url = fields.CharField(max_length=2048, default="")
    token_url = fields.CharField(max_length=2048, default="")
    userinfo_url = fields.CharField(max_length=2048, default="")
    emails_url = fields.CharField(max_length=2048, default="")
    claims: dict[str, str] = fields.JSONField(default=dict)
    client_id = fields.CharField(max_length=256, default="")
    client_secret_sealed = fields.CharField(max_length=1024, default="")
    scopes: list[str] = fields.JSONField(default=list)
    enabled = fields.BooleanField(default=True)
    allow_signup = fields.BooleanField(default=False)
    trust_email = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "identity_providers"


# A user's account at an upstream provider: its subject there, linked to one local user.
class FederatedIdentity(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    provider: fields.ForeignKeyRelation[IdentityProvider] = fields.ForeignKeyField(
        "provider.IdentityProvider", related_name="identities", on_delete=fields.CASCADE
    )
    provider_id: str
    subject = fields.CharField(max_length=255)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="federated_identities", on_delete=fields.CASCADE
    )
    user_id: str
    email = fields.CharField(max_length=254, default="")
    linked_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "federated_identities"
        unique_together = (("provider_id", "subject"), ("provider_id", "user_id"))


# A role of the organisation's apps (not of this provider: see ROLES), e.g. "billing:admin".
class AppRole(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=128, unique=True)
    description = fields.CharField(max_length=512, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "app_roles"


# A group of users for the apps; the roles it carries reach each member.
class AppGroup(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=128, unique=True)
    description = fields.CharField(max_length=512, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "app_groups"


# A role held by a user directly, or carried by a group (exactly one of the two is set).
class AppRoleGrant(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    role: fields.ForeignKeyRelation[AppRole] = fields.ForeignKeyField(
        "provider.AppRole", related_name="grants", on_delete=fields.CASCADE
    )
    role_id: str
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="app_role_grants", on_delete=fields.CASCADE, null=True
    )
    user_id: str | None
    group: fields.ForeignKeyNullableRelation[AppGroup] = fields.ForeignKeyField(
        "provider.AppGroup", related_name="role_grants", on_delete=fields.CASCADE, null=True
    )
    group_id: str | None

    class Meta:
        table = "app_role_grants"
        unique_together = (("role_id", "user_id"), ("role_id", "group_id"))


class AppGroupMember(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    group: fields.ForeignKeyRelation[AppGroup] = fields.ForeignKeyField(
        "provider.AppGroup", related_name="members", on_delete=fields.CASCADE
    )
    group_id: str
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "provider.User", related_name="app_groups", on_delete=fields.CASCADE
    )
    user_id: str

    class Meta:
        table = "app_group_members"
        unique_together = (("group_id", "user_id"),)


# An API that accepts this provider's access tokens (RFC 8707 resource server): tokens requested
# for it carry its identifier as `aud`, only the scopes it defines, its lifetime and algorithm.
class ResourceServer(Model):
    _no_comments = True
    id = fields.UUIDField(primary_key=True)
    identifier = fields.CharField(max_length=512, unique=True)
    name = fields.CharField(max_length=200)
    scopes: list[str] = fields.JSONField(default=list)
    access_token_ttl = fields.IntField(null=True)
    signing_alg = fields.CharField(max_length=16, default="RS256")
    # The clients that may ask for tokens for it; None means any client.
    allowed_clients: list[str] | None = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "resource_servers"
