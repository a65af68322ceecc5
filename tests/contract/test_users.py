"""Users contract: the admin's search, role, status and date filters, the three sorts, and
keyset pages that users registered meanwhile do not shift."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from provider.storage.db import default_connection
from provider.storage.models import User
from provider.storage.unit_of_work import utcnow
from provider.storage.users import UserFilter, Users, UserSort, sort_key

NOW = utcnow().replace(microsecond=0)


async def _user(email: str, *, days_ago: int = 0, **fields: object) -> User:
    fields.setdefault("email_verified_at", NOW - timedelta(days=30))
    return await User.create(
        id=uuid.uuid4(),
        email=email,
        password_hash="x",
        created_at=NOW - timedelta(days=days_ago),
        **fields,
    )


async def _emails(filters: UserFilter, sort: UserSort = "email") -> list[str]:
    users, more = await Users(default_connection()).page(
        filters, sort=sort, after=None, limit=100, now=NOW
    )
    assert more is False
    return [user.email for user in users]


async def test_by_id(backend: str) -> None:
    ada = await _user("ada@example.com")
    users = Users(default_connection())
    found = await users.by_id(ada.id)
    assert found is not None
    assert found.email == "ada@example.com"
    # Read with plain SQL: every column comes back as the ORM would have it.
    stored = await User.get(id=ada.id)
    assert {name: getattr(found, name) for name in User._meta.db_fields} == {
        name: getattr(stored, name) for name in User._meta.db_fields
    }
    assert await users.by_id(uuid.uuid4()) is None


async def test_text_matches_email_username_or_name_case_insensitively(backend: str) -> None:
    await _user("ada@example.com", name="Ada Lovelace")
    await _user("grace@example.com", username="HOPPER")
    await _user("alan@elsewhere.org")
    assert await _emails(UserFilter(text="lovelace")) == ["ada@example.com"]
    assert await _emails(UserFilter(text="hopper")) == ["grace@example.com"]
    assert await _emails(UserFilter(text="EXAMPLE")) == ["ada@example.com", "grace@example.com"]


async def test_role_filter(backend: str) -> None:
    await _user("admin@example.com", role="admin")
    await _user("auditor@example.com", role="auditor")
    await _user("user@example.com")
    assert await _emails(UserFilter(role="admin")) == ["admin@example.com"]
    assert await _emails(UserFilter(role="user")) == ["user@example.com"]


async def test_status_filter_deleted_wins_over_locked_over_unverified(backend: str) -> None:
    later, earlier = NOW + timedelta(hours=1), NOW - timedelta(hours=1)
    await _user("active@example.com")
    await _user("was-locked@example.com", locked_until=earlier)
    await _user("locked@example.com", locked_until=later, email_verified_at=None)
    await _user("unverified@example.com", email_verified_at=None)
    await _user("deleted@example.com", deleted_at=earlier, locked_until=later)
    assert await _emails(UserFilter(status="active")) == [
        "active@example.com",
        "was-locked@example.com",
    ]
    assert await _emails(UserFilter(status="locked")) == ["locked@example.com"]
    assert await _emails(UserFilter(status="unverified")) == ["unverified@example.com"]
    assert await _emails(UserFilter(status="deleted")) == ["deleted@example.com"]


async def test_created_range_is_inclusive(backend: str) -> None:
    await _user("old@example.com", days_ago=10)
    await _user("mid@example.com", days_ago=5)
    await _user("new@example.com", days_ago=0)
    five_days_ago = NOW - timedelta(days=5)
    assert await _emails(UserFilter(created_from=five_days_ago)) == [
        "mid@example.com",
        "new@example.com",
    ]
    assert await _emails(UserFilter(created_to=five_days_ago)) == [
        "mid@example.com",
        "old@example.com",
    ]
    assert await _emails(UserFilter(created_from=five_days_ago, created_to=five_days_ago)) == [
        "mid@example.com"
    ]


async def test_sorts(backend: str) -> None:
    await _user("b@example.com", days_ago=2)
    await _user("c@example.com", days_ago=3)
    await _user("a@example.com", days_ago=1)
    assert await _emails(UserFilter(), "email") == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert await _emails(UserFilter(), "created_at") == [
        "c@example.com",
        "b@example.com",
        "a@example.com",
    ]
    assert await _emails(UserFilter(), "-created_at") == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]


async def _all_pages(sort: UserSort, limit: int, *, between: list[str]) -> list[str]:
    """Every page in `sort` order; the users of `between` register after the first page."""
    store = Users(default_connection())
    seen: list[str] = []
    after: tuple[str | datetime, uuid.UUID] | None = None
    while True:
        page, more = await store.page(UserFilter(), sort=sort, after=after, limit=limit, now=NOW)
        seen += [user.email for user in page]
        for email in between:
            await _user(email, days_ago=20)
        between = []
        if not more:
            return seen
        after = (sort_key(page[-1], sort), page[-1].id)


async def test_pages_neither_repeat_nor_skip_with_ties(backend: str) -> None:
    # Four users registered in the same second: the id breaks the tie.
    for email in ("d@example.com", "a@example.com", "c@example.com", "b@example.com"):
        await _user(email, days_ago=1)
    await _user("e@example.com", days_ago=0)
    newest_first = await _all_pages("-created_at", 2, between=[])
    assert newest_first[0] == "e@example.com"
    assert sorted(newest_first) == [f"{c}@example.com" for c in "abcde"]
    oldest_first = await _all_pages("created_at", 2, between=[])
    assert oldest_first == list(reversed(newest_first))
    assert await _all_pages("email", 2, between=[]) == [f"{c}@example.com" for c in "abcde"]


async def test_users_registered_meanwhile_do_not_shift_later_pages(backend: str) -> None:
    for n, email in enumerate(("a@example.com", "b@example.com", "c@example.com")):
        await _user(email, days_ago=n)
    # Registered (with an older date) after the first page: it sorts after the position.
    seen = await _all_pages("-created_at", 1, between=["z-old@example.com"])
    assert seen == ["a@example.com", "b@example.com", "c@example.com", "z-old@example.com"]
