"""A user edits their own profile: the OIDC standard claims apps read through `profile`,
`phone` and `address`.

The change is a partial one: fields not named are kept, a field given as None (or blank) is
cleared. Every field is checked before anything is written, and all the refusals are reported
together; nothing changes unless every field is acceptable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provider.accounts.profile_fields import (
    PROFILE_FIELDS,
    TEXT_FIELDS,
    FieldRefused,
    check_address,
)
from provider.context import Caller, Services
from provider.domain_errors import UsernameTaken, ValidationFailed
from provider.storage.models import Session, User
from provider.storage.profiles import Profiles
from provider.storage.unit_of_work import unit_of_work, utcnow


def checked_profile(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The values to store for `changes`, or ValidationFailed naming every refused field."""
    values: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, raw in changes.items():
        if field not in PROFILE_FIELDS:
            problems[field] = ["is not a profile field"]
            continue
        try:
            values[field] = _checked(field, raw)
        except FieldRefused as exc:
            problems[field] = [exc.reason]
    if problems:
        raise ValidationFailed(problems)
    if "name" in values and values["name"] is None:
        values["name"] = ""
    return values


def _checked(field: str, raw: Any) -> Any:
    if field == "address":
        if raw is not None and not isinstance(raw, Mapping):
            raise FieldRefused("must be an object")
        return check_address(raw)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise FieldRefused("must be text")
    return TEXT_FIELDS[field](raw)


async def update_profile(
    services: Services,
    caller: Caller,
    user: User,
    session: Session | None,
    changes: Mapping[str, Any],
) -> User:
    """Check and write the changed fields; audit `user.profile_updated` with their names.

    Returns the user as stored afterwards. Fields whose value does not change are not written
    and not audited; a request that changes nothing writes nothing.
    """
    values = checked_profile(changes)
    changed = {field: value for field, value in values.items() if getattr(user, field) != value}
    if not changed:
        return user
    async with unit_of_work(caller, services.events) as work:
        profiles = Profiles(work.conn)
        username = changed.get("username")
        if username is not None and await profiles.username_taken(username, user.id):
            raise UsernameTaken()
        now = utcnow()
        await profiles.update(user.id, changed, now)
        if "username" in changed:
            # Introspection shows the username from its copy of the session's facts.
            work.sessions_changed(user.id)
        await work.audit(
            "user.profile_updated",
            user_id=user.id,
            session_id=session.id if session is not None else None,
            details={"fields": sorted(changed)},
        )
    for field, value in changed.items():
        setattr(user, field, value)
    user.updated_at = now
    return user


def public_profile(user: User) -> dict[str, Any]:
    """The profile as the account API shows it to its owner."""
    return {
        "name": user.name or None,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "username": user.username,
        "locale": user.locale,
        "zoneinfo": user.zoneinfo,
        "picture": user.picture,
        "phone_number": user.phone_number,
        "address": user.address,
        "updated_at": user.updated_at.isoformat(),
    }
