"""A user's passkeys: adding one (the registration ceremony), listing, renaming and removing.

Adding and removing a passkey change how the account is proven, so both need a recent sign-in
(provider.accounts.auth_age), at the start and at the end of the ceremony. Removing the last way
to sign in (no password, no other passkey, no linked provider) is refused. Every change is
audited: `passkey.added` (and its owner is mailed), `passkey.renamed`, `passkey.removed`; a
refused registration `passkey.registration_failed` with its reason. An administrator may remove
a user's passkey (`admin_remove_passkey`), also the last one: the owner can still set a password
by mail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from provider.accounts.auth_age import require_recent_authentication
from provider.accounts.notices import account_notice
from provider.accounts.passkey_ceremony import (
    NAME_MAX_LENGTH,
    REGISTER,
    Started,
    claim_ceremony,
    new_user_handle,
    start_registration,
    verify_new_passkey,
)
from provider.accounts.sign_in_methods import other_ways_to_sign_in
from provider.context import Caller, Services
from provider.domain_errors import (
    DomainError,
    InvalidRequest,
    LastSignInMethod,
    NotFound,
    PasskeyChallengeInvalid,
    PasskeyExists,
)
from provider.mail.mailer import MailKind
from provider.storage.db import default_connection
from provider.storage.models import Passkey, Session, User
from provider.storage.passkeys import DuplicateCredential, Passkeys
from provider.storage.unit_of_work import unit_of_work, utcnow

# Names of well-known authenticators by AAGUID (WebAuthn L3 §6.5.1), for a passkey the user
# did not name; any other is named after how it connects.
KNOWN_AUTHENTICATORS = {
    "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
    "fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain",
    "dd4ec289-e01d-41c9-bb89-70fa845d4bf2": "iCloud Keychain",
    "08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
    "9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
    "6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
    "adce0002-35bc-c60a-648b-0b25f1f05503": "Chrome on Mac",
    "bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
    "d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
}
PASSKEY_NOT_FOUND = "No such passkey."


@dataclass(frozen=True, slots=True)
class PasskeyView:
    """What the account page and the API show of a passkey (never its key or credential id)."""

    id: str
    name: str
    created_at: str
    last_used_at: str | None
    synced: bool
    transports: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "synced": self.synced,
            "transports": self.transports,
        }


def view(passkey: Passkey) -> PasskeyView:
    return PasskeyView(
        id=str(passkey.id),
        name=passkey.name,
        created_at=passkey.created_at.isoformat(),
        last_used_at=passkey.last_used_at.isoformat() if passkey.last_used_at else None,
        synced=passkey.backed_up,
        transports=list(passkey.transports),
    )


async def passkeys_of(user_id: uuid.UUID | str) -> list[PasskeyView]:
    return [view(p) for p in await Passkeys(default_connection()).of_user(user_id)]


def clean_name(name: str | None) -> str:
    """A name as given, without control characters; empty when none was given."""
    text = "".join(char for char in (name or "") if char.isprintable()).strip()
    if len(text) > NAME_MAX_LENGTH:
        raise InvalidRequest(f"A passkey's name is at most {NAME_MAX_LENGTH} characters.")
    return text


def _default_name(aaguid: str, transports: list[str]) -> str:
    if aaguid in KNOWN_AUTHENTICATORS:
        return KNOWN_AUTHENTICATORS[aaguid]
    if {"usb", "nfc", "ble"} & set(transports):
        return "Security key"
    return "Passkey"


async def begin_passkey_registration(
    services: Services, caller: Caller, user: User, session: Session
) -> Started:
    """The creation options for a new passkey of the session's user, after a recent sign-in."""
    require_recent_authentication(services.settings, session)
    store = Passkeys(default_connection())
    handle = await store.user_handle(user.id, new_user_handle())
    existing = await store.of_user(user.id)
    return await start_registration(services, caller, user, handle, str(session.id), existing)


async def finish_passkey_registration(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    *,
    ceremony: str | None,
    response: str,
    name: str | None,
) -> PasskeyView:
    """Verify the authenticator's response for the session's ceremony and keep the passkey."""
    try:
        require_recent_authentication(services.settings, session)
        given = clean_name(name)
        started = await claim_ceremony(
            services, caller, ceremony, REGISTER, session_id=str(session.id)
        )
        if started.user_id != str(user.id):
            raise PasskeyChallengeInvalid()
        new = verify_new_passkey(services.settings, started, response, given)
        if not new.name:
            new = replace(new, name=_default_name(new.aaguid, new.transports))
        async with unit_of_work(caller, services.events) as work:
            try:
                passkey = await Passkeys(work.conn).add(user.id, new, utcnow())
            except DuplicateCredential as exc:
                raise PasskeyExists() from exc
            await work.audit(
                "passkey.added",
                user_id=user.id,
                session_id=session.id,
                details={"passkey_id": str(passkey.id), "name": passkey.name},
            )
            work.after_commit(account_notice(services, caller, user, MailKind.PASSKEY_ADDED))
    except DomainError as exc:
        await _registration_failed(services, caller, user, session, exc)
        raise
    return view(passkey)


async def _registration_failed(
    services: Services, caller: Caller, user: User, session: Session, exc: DomainError
) -> None:
    async with unit_of_work(caller, services.events) as work:
        await work.audit(
            "passkey.registration_failed",
            outcome="failure",
            user_id=user.id,
            session_id=session.id,
            details={"reason": exc.code},
        )


async def rename_passkey(
    services: Services,
    caller: Caller,
    user: User,
    session: Session,
    passkey_id: str,
    name: str | None,
) -> PasskeyView:
    given = clean_name(name)
    if not given:
        raise InvalidRequest("Give the passkey a name.")
    async with unit_of_work(caller, services.events) as work:
        store = Passkeys(work.conn)
        if not _is_uuid(passkey_id) or not await store.rename(user.id, passkey_id, given):
            raise NotFound(PASSKEY_NOT_FOUND)
        await work.audit(
            "passkey.renamed",
            user_id=user.id,
            session_id=session.id,
            details={"passkey_id": passkey_id, "name": given},
        )
        renamed = await store.get(user.id, passkey_id)
    assert renamed is not None
    return view(renamed)


async def remove_passkey(
    services: Services, caller: Caller, user: User, session: Session, passkey_id: str
) -> None:
    """Remove one of the session's user's passkeys, after a recent sign-in, unless it is their
    last way to sign in."""
    require_recent_authentication(services.settings, session)
    async with unit_of_work(caller, services.events) as work:
        store = Passkeys(work.conn)
        passkey = await store.get(user.id, passkey_id) if _is_uuid(passkey_id) else None
        if passkey is None:
            raise NotFound(PASSKEY_NOT_FOUND)
        if not await other_ways_to_sign_in(work, user, passkeys=1, providers=0):
            raise LastSignInMethod()
        await store.remove(user.id, passkey_id)
        await work.audit(
            "passkey.removed",
            user_id=user.id,
            session_id=session.id,
            details={"passkey_id": passkey_id, "name": passkey.name},
        )


async def admin_remove_passkey(
    services: Services, caller: Caller, admin: User, user_id: str, passkey_id: str
) -> None:
    """An administrator removes a user's passkey (a lost or suspected device)."""
    async with unit_of_work(caller, services.events) as work:
        store = Passkeys(work.conn)
        valid = _is_uuid(user_id) and _is_uuid(passkey_id)
        passkey = await store.get(user_id, passkey_id) if valid else None
        if passkey is None:
            raise NotFound(PASSKEY_NOT_FOUND)
        await store.remove(user_id, passkey_id)
        await work.audit(
            "passkey.removed",
            user_id=passkey.user_id,
            details={"passkey_id": passkey_id, "name": passkey.name, "by": str(admin.id)},
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
