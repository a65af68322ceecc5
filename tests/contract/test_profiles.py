"""Profiles contract: a profile write moves updated_at, and a username another user holds is
refused as taken."""

from __future__ import annotations

from datetime import timedelta

import pytest

from provider.domain_errors import UsernameTaken
from provider.storage.db import default_connection
from provider.storage.models import User
from provider.storage.profiles import Profiles
from provider.storage.unit_of_work import utcnow
from tests.contract.conftest import make_session


async def test_an_update_writes_the_values_and_updated_at(backend: str) -> None:
    session = await make_session()
    later = utcnow() + timedelta(minutes=5)
    values = {"locale": "en-GB", "address": {"locality": "London"}, "phone_number": "+4420"}
    await Profiles(default_connection()).update(session.user_id, values, later)
    user = await User.get(id=session.user_id)
    assert (user.locale, user.address, user.phone_number) == (
        "en-GB",
        {"locality": "London"},
        "+4420",
    )
    assert user.updated_at == later


async def test_a_username_of_another_user_is_taken(backend: str) -> None:
    ada, grace = await make_session(), await make_session()
    store = Profiles(default_connection())
    await store.update(grace.user_id, {"username": "grace"}, utcnow())
    assert await store.username_taken("grace", ada.user_id)
    assert not await store.username_taken("grace", grace.user_id)
    assert not await store.username_taken("nobody", ada.user_id)
    with pytest.raises(UsernameTaken):
        await store.update(ada.user_id, {"username": "grace"}, utcnow())
    assert (await User.get(id=ada.user_id)).username != "grace"
