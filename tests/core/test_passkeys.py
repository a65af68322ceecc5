"""Passkeys in the core: registration and sign-in ceremonies (provider.accounts.passkeys,
sign_in_with_passkey), the second step after a password, and every refusal: malformed responses,
another origin or RP ID, a replayed or expired challenge, an unknown credential, another user's
handle, a counter that goes backwards, and the removal rules. Each refusal is audited and
changes nothing."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from provider.accounts.login import ACR_MFA, SessionStart
from provider.accounts.passkey_authentication import PasskeyAnswer
from provider.accounts.passkey_ceremony import start_authentication
from provider.accounts.passkeys import (
    begin_passkey_registration,
    finish_passkey_registration,
    passkeys_of,
    remove_passkey,
    rename_passkey,
)
from provider.accounts.second_factor import (
    SecondFactorAnswer,
    complete_second_factor,
    start_mfa_challenge,
)
from provider.accounts.sign_in import (
    Authenticated,
    Credentials,
    SecondFactorRequired,
    sign_in,
    sign_in_with_passkey,
)
from provider.cache.memory import MemoryCache
from provider.context import Services
from provider.domain_errors import (
    AccountDisabled,
    AccountLocked,
    InvalidPasskeyResponse,
    InvalidSecondFactor,
    LastSignInMethod,
    NotFound,
    PasskeyChallengeInvalid,
    PasskeyExists,
    PasskeyRefused,
    ReauthenticationRequired,
)
from provider.storage.models import AuditEvent, Passkey, Session, User
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import CALLER
from tests.passkey_authenticator import SoftAuthenticator, unb64url
from tests.support import PASSWORD

ORIGIN, RP_ID = "https://id.example.com", "id.example.com"
API = SessionStart(client_id="first-party", issue_refresh=False)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def _user(services: Services, *, password: bool = True) -> User:
    return await User.create(
        id=uuid.uuid4(),
        email=f"{uuid.uuid4().hex[:12]}@example.com",
        password_hash=await services.passwords.hash(PASSWORD) if password else "",
    )


async def _signed_in(services: Services, user: User) -> Session:
    outcome = await sign_in(services, CALLER, lambda: Credentials(user.email, PASSWORD), start=API)
    assert isinstance(outcome, Authenticated)
    session = outcome.login.session
    session.user = user
    return session


async def _enrol(
    services: Services, session: Session, authenticator: SoftAuthenticator, name: str = ""
) -> str:
    started = await begin_passkey_registration(services, CALLER, session.user, session)
    view = await finish_passkey_registration(
        services,
        CALLER,
        session.user,
        session,
        ceremony=started.token,
        response=authenticator.create(started.options),
        name=name,
    )
    return view.id


async def _enrolled(
    services: Services, **authenticator: bool
) -> tuple[User, Session, SoftAuthenticator]:
    user = await _user(services)
    session = await _signed_in(services, user)
    device = SoftAuthenticator(ORIGIN, RP_ID, **authenticator)
    await _enrol(services, session, device)
    return user, session, device


async def _events(name: str) -> list[AuditEvent]:
    return await AuditEvent.filter(event=name).order_by("id")


async def test_a_registration_keeps_the_passkey_and_audits_it(services: Services) -> None:
    user = await _user(services)
    session = await _signed_in(services, user)
    device = SoftAuthenticator(ORIGIN, RP_ID)
    started = await begin_passkey_registration(services, CALLER, session.user, session)
    options = json.loads(started.options)
    assert options["rp"] == {"id": RP_ID, "name": RP_ID}
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["user"]["name"] == user.email
    # A random handle of its own, not the account id (which relying parties see as `sub`).
    stored = await User.get(id=user.id)
    assert options["user"]["id"] == stored.passkey_user_handle
    assert unb64url(options["user"]["id"]) != user.id.bytes
    assert len(unb64url(options["user"]["id"])) == 32
    await finish_passkey_registration(
        services,
        CALLER,
        session.user,
        session,
        ceremony=started.token,
        response=device.create(options),
        name="",
    )
    [listed] = await passkeys_of(user.id)
    assert (listed.name, listed.synced, listed.last_used_at) == ("Passkey", False, None)
    [added] = await _events("passkey.added")
    assert added.details["name"] == "Passkey"
    # The second registration excludes the first credential.
    again = json.loads(
        (await begin_passkey_registration(services, CALLER, session.user, session)).options
    )
    assert [item["id"] for item in again["excludeCredentials"]] == [
        (await Passkey.get(user_id=user.id)).credential_id
    ]


async def test_a_passkey_with_user_verification_signs_in_with_two_factors(
    services: Services,
) -> None:
    user, _, device = await _enrolled(services)
    started = await start_authentication(services, CALLER)
    assert json.loads(started.options)["rpId"] == RP_ID
    answer = PasskeyAnswer(started.token, device.get(started.options))
    outcome = await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)
    assert isinstance(outcome, Authenticated)
    assert outcome.login.session.amr == ["hwk", "user", "mfa"]
    assert outcome.login.session.acr == ACR_MFA
    login = (await _events("user.login"))[-1]
    assert login.details["method"] == "passkey"
    stored = await Passkey.get(user_id=user.id)
    assert stored.sign_count == device.counter
    assert stored.last_used_at is not None


async def test_a_synced_passkey_is_a_software_key(services: Services) -> None:
    _, _, device = await _enrolled(services, synced=True)
    started = await start_authentication(services, CALLER)
    answer = PasskeyAnswer(started.token, device.get(started.options))
    outcome = await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)
    assert isinstance(outcome, Authenticated)
    assert outcome.login.session.amr == ["swk", "user", "mfa"]


async def test_without_user_verification_a_totp_account_still_answers_the_second_step(
    services: Services,
) -> None:
    user, _, device = await _enrolled(services, user_verified=False)
    await User.filter(id=user.id).update(totp_secret="sealed", totp_enabled_at=utcnow())
    started = await start_authentication(services, CALLER)
    answer = PasskeyAnswer(started.token, device.get(started.options))
    outcome = await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)
    assert isinstance(outcome, SecondFactorRequired)


async def test_a_passkey_is_the_second_step_after_a_password(services: Services) -> None:
    user, _, device = await _enrolled(services)
    challenge = await start_mfa_challenge(services, CALLER, user)
    started = await start_authentication(
        services, CALLER, allowed=list(await Passkey.filter(user_id=user.id))
    )
    passkey = PasskeyAnswer(started.token, device.get(started.options))
    accepted = await complete_second_factor(
        services, CALLER, lambda: SecondFactorAnswer(challenge, passkey=passkey), start=API
    )
    assert accepted.method == "passkey"
    assert accepted.login.session.amr == ["pwd", "hwk", "user", "mfa"]
    assert accepted.login.session.acr == ACR_MFA


async def test_another_users_passkey_is_no_second_step(services: Services) -> None:
    user = await _user(services)
    await _enrolled(services)  # someone else's passkey
    _, _, theirs = await _enrolled(services)
    await Passkey.create(
        id=uuid.uuid4(),
        user_id=user.id,
        credential_id="own",
        public_key=b"",
        name="Own",
        created_at=utcnow(),
    )
    challenge = await start_mfa_challenge(services, CALLER, user)
    started = await start_authentication(services, CALLER)
    passkey = PasskeyAnswer(started.token, theirs.get(started.options))
    with pytest.raises(InvalidSecondFactor):
        await complete_second_factor(
            services, CALLER, lambda: SecondFactorAnswer(challenge, passkey=passkey), start=API
        )
    # One wrong answer to the challenge: one audit row, one count toward the lockout.
    [failed] = await _events("user.login_failed")
    assert (str(failed.user_id), failed.details) == (
        str(user.id),
        {"reason": "passkey:passkey_refused"},
    )


@pytest.mark.parametrize(
    ("lie", "error"),
    [
        ("malformed", InvalidPasskeyResponse),
        ("not_json_object", InvalidPasskeyResponse),
        ("origin", InvalidPasskeyResponse),
        ("rp_id", InvalidPasskeyResponse),
        ("user_handle", PasskeyRefused),
        ("unknown_credential", PasskeyRefused),
        ("no_ceremony", PasskeyChallengeInvalid),
        ("other_caller", PasskeyChallengeInvalid),
    ],
)
async def test_a_bad_assertion_is_refused_audited_and_changes_nothing(
    services: Services, lie: str, error: type[Exception]
) -> None:
    user, _, device = await _enrolled(services)
    started = await start_authentication(services, CALLER)
    token: str | None = started.token
    caller = CALLER
    response = device.get(started.options)
    if lie == "malformed":
        response = response[:40]
    elif lie == "not_json_object":
        response = "[1, 2]"
    elif lie == "origin":
        response = device.get(started.options, origin="https://evil.example")
    elif lie == "rp_id":
        response = device.get(started.options, rp_id="evil.example")
    elif lie == "user_handle":
        response = device.get(started.options, user_handle=uuid.uuid4().bytes)
    elif lie == "unknown_credential":
        response = SoftAuthenticator(ORIGIN, RP_ID).get(started.options)
    elif lie == "no_ceremony":
        token = None
    elif lie == "other_caller":
        caller = replace(CALLER, ip="198.51.100.9")
    sessions = await Session.filter(user_id=user.id).count()
    answer = PasskeyAnswer(token, response)
    with pytest.raises(error):
        await sign_in_with_passkey(services, caller, lambda: answer, start=API)
    [failed] = await _events("user.login_failed")
    assert failed.details["method"] == "passkey"
    assert failed.details["reason"] == error.code  # type: ignore[attr-defined]
    assert await Session.filter(user_id=user.id).count() == sessions
    stored = await Passkey.get(user_id=user.id)
    assert (stored.sign_count, stored.last_used_at) == (0, None)


async def test_a_challenge_is_answered_once(services: Services) -> None:
    _, _, device = await _enrolled(services)
    started = await start_authentication(services, CALLER)
    answer = PasskeyAnswer(started.token, device.get(started.options))
    await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)
    replayed = PasskeyAnswer(started.token, device.get(started.options))
    with pytest.raises(PasskeyChallengeInvalid):
        await sign_in_with_passkey(services, CALLER, lambda: replayed, start=API)


async def test_an_expired_challenge_is_refused(services: Services) -> None:
    clock = Clock()
    services = replace(services, cache=MemoryCache(clock))
    _, _, device = await _enrolled(services)
    started = await start_authentication(services, CALLER)
    clock.now += services.settings.passkey_challenge_ttl + 1
    answer = PasskeyAnswer(started.token, device.get(started.options))
    with pytest.raises(PasskeyChallengeInvalid):
        await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)


async def test_a_counter_that_goes_backwards_is_refused_as_a_possible_clone(
    services: Services,
) -> None:
    user, _, device = await _enrolled(services)
    started = await start_authentication(services, CALLER)
    answer = PasskeyAnswer(started.token, device.get(started.options, counter=5))
    await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)
    sessions = await Session.filter(user_id=user.id).count()
    for presented in (5, 4):
        started = await start_authentication(services, CALLER)
        cloned = PasskeyAnswer(started.token, device.get(started.options, counter=presented))
        with pytest.raises(PasskeyRefused):
            await sign_in_with_passkey(services, CALLER, lambda: cloned, start=API)  # noqa: B023
    suspected = await _events("passkey.clone_suspected")
    assert [(e.details["stored_count"], e.details["presented_count"]) for e in suspected] == [
        (5, 5),
        (5, 4),
    ]
    assert await Session.filter(user_id=user.id).count() == sessions
    assert (await Passkey.get(user_id=user.id)).sign_count == 5


@pytest.mark.parametrize("lie", ["malformed", "origin", "rp_id", "replayed", "other_session"])
async def test_a_bad_registration_is_refused_audited_and_keeps_nothing(
    services: Services, lie: str
) -> None:
    user = await _user(services)
    session = await _signed_in(services, user)
    device = SoftAuthenticator(ORIGIN, RP_ID)
    started = await begin_passkey_registration(services, CALLER, session.user, session)
    response = device.create(started.options)
    error: type[Exception] = InvalidPasskeyResponse
    if lie == "malformed":
        response = '{"id": "x"}'
    elif lie == "origin":
        response = device.create(started.options, origin="https://evil.example")
    elif lie == "rp_id":
        response = device.create(started.options, rp_id="evil.example")
    elif lie == "replayed":
        await finish_passkey_registration(
            services,
            CALLER,
            session.user,
            session,
            ceremony=started.token,
            response=response,
            name="One",
        )
        await Passkey.all().delete()
        error = PasskeyChallengeInvalid
    elif lie == "other_session":
        session = await _signed_in(services, user)
        error = PasskeyChallengeInvalid
    with pytest.raises(error):
        await finish_passkey_registration(
            services,
            CALLER,
            session.user,
            session,
            ceremony=started.token,
            response=response,
            name="Two",
        )
    assert await Passkey.filter(user_id=user.id).count() == 0
    [failed] = await _events("passkey.registration_failed")
    assert failed.details["reason"] == error.code  # type: ignore[attr-defined]


async def test_a_credential_is_registered_once(services: Services) -> None:
    user, session, device = await _enrolled(services)
    with pytest.raises(PasskeyExists):
        await _enrol(services, session, device)
    assert await Passkey.filter(user_id=user.id).count() == 1


async def test_adding_and_removing_need_a_recent_sign_in(services: Services) -> None:
    user, session, _ = await _enrolled(services)
    [passkey] = await passkeys_of(user.id)
    session.auth_time = utcnow() - timedelta(seconds=services.settings.reauthentication_max_age + 1)
    with pytest.raises(ReauthenticationRequired):
        await begin_passkey_registration(services, CALLER, session.user, session)
    with pytest.raises(ReauthenticationRequired):
        await remove_passkey(services, CALLER, session.user, session, passkey.id)
    assert await Passkey.filter(user_id=user.id).count() == 1


async def test_the_last_way_to_sign_in_cannot_be_removed(services: Services) -> None:
    user, session, device = await _enrolled(services)
    await User.filter(id=user.id).update(password_hash="")
    session.user = await User.get(id=user.id)
    [only] = await passkeys_of(user.id)
    with pytest.raises(LastSignInMethod):
        await remove_passkey(services, CALLER, session.user, session, only.id)
    second = await _enrol(services, session, SoftAuthenticator(ORIGIN, RP_ID), name="Backup")
    await remove_passkey(services, CALLER, session.user, session, only.id)
    assert [p.id for p in await passkeys_of(user.id)] == [second]
    [removed] = await _events("passkey.removed")
    assert removed.details["passkey_id"] == only.id
    del device


async def test_with_a_password_every_passkey_can_go(services: Services) -> None:
    user, session, _ = await _enrolled(services)
    [only] = await passkeys_of(user.id)
    await remove_passkey(services, CALLER, session.user, session, only.id)
    assert await passkeys_of(user.id) == []


async def test_renames_and_removals_touch_only_ones_own(services: Services) -> None:
    owner, _, _ = await _enrolled(services)
    [theirs] = await passkeys_of(owner.id)
    _, other_session, _ = await _enrolled(services)
    with pytest.raises(NotFound):
        await rename_passkey(services, CALLER, other_session.user, other_session, theirs.id, "Mine")
    with pytest.raises(NotFound):
        await remove_passkey(services, CALLER, other_session.user, other_session, theirs.id)
    with pytest.raises(NotFound):
        await remove_passkey(services, CALLER, other_session.user, other_session, "not-a-uuid")
    owner_session = await _signed_in(services, owner)
    renamed = await rename_passkey(
        services, CALLER, owner_session.user, owner_session, theirs.id, " Work\x00 key "
    )
    assert renamed.name == "Work key"


async def test_without_user_verification_a_passkey_is_one_factor(services: Services) -> None:
    _, _, device = await _enrolled(services, user_verified=False)
    started = await start_authentication(services, CALLER)
    answer = PasskeyAnswer(started.token, device.get(started.options))
    outcome = await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)
    assert isinstance(outcome, Authenticated)
    assert (outcome.login.session.amr, outcome.login.session.acr) == (["hwk"], "1")


@pytest.mark.parametrize(
    ("state", "error"),
    [("locked", AccountLocked), ("deleted", AccountDisabled)],
)
async def test_a_locked_or_deleted_account_is_not_signed_in_by_its_passkey(
    services: Services, state: str, error: type[Exception]
) -> None:
    user, _, device = await _enrolled(services)
    later = utcnow() + timedelta(hours=1)
    await User.filter(id=user.id).update(
        **({"locked_until": later} if state == "locked" else {"deleted_at": utcnow()})
    )
    sessions = await Session.filter(user_id=user.id).count()
    started = await start_authentication(services, CALLER)
    answer = PasskeyAnswer(started.token, device.get(started.options))
    with pytest.raises(error):
        await sign_in_with_passkey(services, CALLER, lambda: answer, start=API)
    assert await Session.filter(user_id=user.id).count() == sessions
    [failed] = await _events("user.login_failed")
    assert failed.details["reason"] == error.code  # type: ignore[attr-defined]
