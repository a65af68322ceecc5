"""grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3)."""

from __future__ import annotations

import hmac
import re
from datetime import datetime

from provider.context import Caller, Services
from provider.crypto.tokens import s256_challenge, token_hash
from provider.domain_errors import InvalidGrant, InvalidProtocolRequest
from provider.oauth.app_claims import app_claims
from provider.oauth.id_token import Authentication
from provider.oauth.issuance import (
    DENYLIST_PREFIX,
    Subject,
    may_refresh,
    mint_for_client,
    target_of_grant,
    token_response,
)
from provider.sessions.service import issue_refresh_token, session_is_live
from provider.storage.codes import CodeStore
from provider.storage.models import AuthorizationCode, Client
from provider.storage.refresh_families import RefreshFamilies
from provider.storage.unit_of_work import UnitOfWork, unit_of_work, utcnow

_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def _check_pkce(code: AuthorizationCode, verifier: str | None) -> None:
    if code.code_challenge is None:
        if verifier is not None:
            # RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
            raise InvalidGrant("No code_challenge was sent for this code.")
        return
    if verifier is None or not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier is missing or malformed.")
    if not hmac.compare_digest(s256_challenge(verifier), code.code_challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge.")


async def authorization_code_grant(
    services: Services,
    caller: Caller,
    client: Client,
    params: dict[str, str],
    resources: tuple[str, ...] = (),
) -> dict[str, object]:
    code_value = params.get("code")
    if not code_value:
        raise InvalidProtocolRequest("code is required.")
    digest = token_hash(code_value)
    async with unit_of_work(caller, services.events) as work:
        now = utcnow()
        code = await CodeStore(work.conn).claim(digest, now)
        if code is not None:
            return await _redeem(services, work, client, params, code, now, list(resources))
    await _handle_replay(services, caller, digest)
    raise InvalidGrant("The code is invalid, expired or already used.")


async def _redeem(
    services: Services,
    work: UnitOfWork,
    client: Client,
    params: dict[str, str],
    code: AuthorizationCode,
    now: datetime,
    resources: list[str],
) -> dict[str, object]:
    # RFC 6749 §4.1.3: the code is bound to the client and to the redirect_uri it was sent to.
    if code.client_id != client.id:
        raise InvalidGrant("The code was issued to another client.")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri != code.redirect_uri and not (
        redirect_uri is None and client.redirect_uris == [code.redirect_uri]
    ):
        raise InvalidGrant("redirect_uri does not match the authorization request.")
    _check_pkce(code, params.get("code_verifier"))
    session, user = code.session, code.user
    if not session_is_live(session, services.settings, now) or user.deleted_at is not None:
        raise InvalidGrant("The session that granted this code has ended.")
    scopes = code.scope.split()
    # RFC 8707 §2.2: the token is for the resources the token request names, each one of the
    # authorization request's, else for all of those; its scopes narrow to what they define.
    # A refusal here rolls the claim back: the code stays usable for a corrected request.
    granted = list(code.resources or []) or resources
    target = await target_of_grant(services, client, granted, resources)
    if target is not None:
        scopes = target.narrow(scopes)
    # The ID token states the authentication the code was issued under (OIDC Core §2: auth_time,
    # amr, acr), even if the session has re-authenticated since.
    subject = Subject(
        user=user,
        session=session,
        authentication=Authentication(code.auth_time, code.amr, code.acr),
        app_claims=await app_claims(client, user.id, scopes),
    )
    access = mint_for_client(services, client, subject, scopes, target)
    refresh = None
    issued = None
    # The grant's scopes, not the access token's: offline_access is not an API's scope.
    if may_refresh(client, code.scope.split()):
        issued = await issue_refresh_token(
            work,
            services.settings,
            session,
            client_id=client.id,
            scope=code.scope,
            resources=granted,
        )
        refresh = issued.token
    await CodeStore(work.conn).record_issued(
        code, family_id=issued.family_id if issued else None, access_jti=access.jti
    )
    await work.audit(
        "token.issued",
        user_id=user.id,
        session_id=session.id,
        client_id=client.id,
        details={
            "grant_type": "authorization_code",
            "scope": code.scope,
            **({"resources": target.identifiers} if target else {}),
        },
    )
    return token_response(
        services, client, subject, scopes, access, refresh_token=refresh, nonce=code.nonce
    )


async def _handle_replay(services: Services, caller: Caller, digest: str) -> None:
    """A used code presented again: revoke what it issued (RFC 6749 §4.1.2, RFC 9700 §4.5)."""
    async with unit_of_work(caller, services.events) as work:
        code = await CodeStore(work.conn).find_redeemed(digest)
        if code is None:
            return
        if code.issued_family_id is not None:
            await RefreshFamilies(work).revoke_family(
                code.issued_family_id, reason="code_reuse", now=utcnow()
            )
        await work.audit(
            "authorization_code.reuse_detected",
            outcome="failure",
            user_id=code.user_id,
            session_id=code.session_id,
            client_id=code.client_id,
        )
    if code.issued_access_jti:
        await services.cache.set_eventually(
            DENYLIST_PREFIX + code.issued_access_jti,
            "code_reuse",
            services.settings.access_token_ttl,
        )
