"""The first administrator and invitations in process: what each start does, which links work,
and what is refused."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from provider.accounts.administration import UNUSABLE_PASSWORD
from provider.accounts.invitations import bootstrap_admin, invite_user
from provider.accounts.one_time_tokens import RESET_PASSWORD, find_one_time_token
from provider.context import Caller, Services
from provider.domain_errors import EmailTaken, ValidationFailed
from provider.storage.models import AuditEvent, User

CALLER = Caller(ip="cli", user_agent="tests", request_id="req-core")


def _token(link: str | None) -> str:
    assert link is not None
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://id.example.com/password/reset"
    return parse_qs(parts.query)["token"][0]


async def test_the_first_start_creates_the_admin_and_later_ones_renew_the_link_until_used(
    services: Services,
) -> None:
    first = await bootstrap_admin(services.settings, services.events, CALLER, " Root@Example.com ")
    assert first.outcome == "created"
    assert first.email == "root@example.com"
    admin = await User.get(email="root@example.com")
    assert (admin.role, admin.password_hash) == ("admin", UNUSABLE_PASSWORD)
    first_token = _token(first.link)
    assert await find_one_time_token(first_token, RESET_PASSWORD) is not None

    second = await bootstrap_admin(services.settings, services.events, CALLER, "root@example.com")
    assert second.outcome == "pending"
    assert await find_one_time_token(_token(second.link), RESET_PASSWORD) is not None
    # Only the newest link works.
    assert await find_one_time_token(first_token, RESET_PASSWORD) is None
    assert await User.filter(email="root@example.com").count() == 1
    outcomes = await AuditEvent.filter(event="admin.bootstrapped").values_list("details", flat=True)
    assert [details["outcome"] for details in outcomes] == ["created", "pending"]

    await User.filter(id=admin.id).update(password_hash="$argon2id$chosen")
    third = await bootstrap_admin(services.settings, services.events, CALLER, "root@example.com")
    assert (third.outcome, third.link) == ("exists", None)
    assert await AuditEvent.filter(event="admin.bootstrapped").count() == 2


async def test_an_ordinary_account_is_never_promoted(services: Services) -> None:
    await User.create(id=uuid.uuid4(), email="ada@example.com", password_hash="x")
    done = await bootstrap_admin(services.settings, services.events, CALLER, "ada@example.com")
    assert (done.outcome, done.link) == ("not_admin", None)
    assert (await User.get(email="ada@example.com")).role == "user"
    assert await AuditEvent.filter(event="admin.bootstrapped").count() == 0


async def test_a_malformed_address_is_refused(services: Services) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await bootstrap_admin(services.settings, services.events, CALLER, "not an address")
    assert set(refused.value.problems) == {"email"}
    assert await User.all().count() == 0


async def test_an_invitation_creates_the_account_once(services: Services) -> None:
    admin = await User.create(
        id=uuid.uuid4(), email="root@example.com", password_hash="x", role="admin"
    )
    invitation = await invite_user(
        services, CALLER, admin, email="new@example.com", name=" Newt ", role="auditor"
    )
    user = await User.get(email="new@example.com")
    assert invitation.user.id == user.id
    assert (user.name, user.role, user.password_hash) == ("Newt", "auditor", UNUSABLE_PASSWORD)
    token = await find_one_time_token(_token(invitation.link), RESET_PASSWORD)
    assert token is not None
    assert token.data == {"email": "new@example.com"}
    row = await AuditEvent.get(event="admin.user_invited")
    assert row.user_id == user.id
    assert row.details == {"admin_id": str(admin.id), "role": "auditor"}

    with pytest.raises(EmailTaken):
        await invite_user(services, CALLER, admin, email="NEW@example.com", name="", role="user")
    with pytest.raises(ValidationFailed) as bad_role:
        await invite_user(services, CALLER, admin, email="x@example.com", name="", role="owner")
    assert set(bad_role.value.problems) == {"role"}
    assert await User.all().count() == 2
