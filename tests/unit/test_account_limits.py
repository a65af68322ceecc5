"""The account actions' rate limits: each declared once, in provider.accounts.limits, and the
windows that must be shared (a sign-in from any adapter, every spelling of an identifier) are."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import provider
from provider.accounts import limits
from provider.cache.memory import MemoryCache
from provider.cache.ratelimit import Allowance, Limit
from provider.config import Settings
from provider.context import Caller
from provider.domain_errors import RateLimited

PACKAGE = Path(provider.__file__).parent
CALLER = Caller(ip="192.0.2.7", user_agent="test", request_id="r1")


def _services(**overrides: Any) -> Any:
    """Only what the counting functions read: settings and a cache."""
    return SimpleNamespace(cache=MemoryCache(), settings=Settings(**overrides))


def test_no_limit_is_declared_outside_the_limits_module() -> None:
    declared = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"\bLimit\(", path.read_text())
    }
    assert declared == {"accounts/limits.py"}


def test_every_declared_limit_has_its_own_scope() -> None:
    settings = Settings()
    builders = [
        function
        for name, function in inspect.getmembers(limits, inspect.isfunction)
        if function.__module__ == limits.__name__ and not name.startswith(("admit_", "count_", "_"))
    ]
    built = [builder(settings) for builder in builders]
    assert all(isinstance(limit, Limit) for limit in built)
    scopes = [limit.scope for limit in built]
    assert len(scopes) == len(set(scopes)) == len(builders) == 14


async def test_an_arrival_is_counted_before_its_input_is_read() -> None:
    services = _services(ratelimit_login_per_ip=2, ratelimit_register_per_ip=5, ratelimit_window=60)
    sign_in = limits.sign_in_address(services.settings)
    read: list[str] = []

    def reader() -> str:
        read.append("body")
        return "body"

    first = await limits.count_arrival(services, CALLER, sign_in, reader)
    assert first == (Allowance(limit=2, remaining=1, reset=60), "body")
    allowance, _ = await limits.count_arrival(services, CALLER, sign_in, reader)
    assert allowance.remaining == 0
    with pytest.raises(RateLimited) as refused:
        await limits.count_arrival(services, CALLER, sign_in, reader)
    assert refused.value.limit == 2
    assert read == ["body", "body"]  # the refused arrival was never read

    def unreadable() -> str:
        raise ValueError("not JSON")

    # An input that cannot be read has spent its place in the window all the same.
    register = limits.register_address(services.settings)
    with pytest.raises(ValueError, match="not JSON"):
        await limits.count_arrival(services, CALLER, register, unreadable)
    # Another action from the same address has a window of its own.
    registration, _ = await limits.count_arrival(services, CALLER, register, reader)
    assert registration == Allowance(limit=5, remaining=3, reset=60)


async def test_every_spelling_of_an_identifier_fills_one_account_window() -> None:
    services = _services(ratelimit_login_per_account=3)
    for identifier in ("ada@example.com", " ADA@example.com", "Ada@Example.com\t"):
        await limits.count_sign_in_account(services, identifier)
    with pytest.raises(RateLimited):
        await limits.count_sign_in_account(services, "ada@EXAMPLE.com")
    assert (await limits.count_sign_in_account(services, "grace@example.com")).remaining == 2


async def test_reset_mails_are_counted_per_recipient_whatever_its_case() -> None:
    services = _services(ratelimit_mail_per_account=1)
    await limits.count_reset_mail(services, "ada@example.com")
    with pytest.raises(RateLimited):
        await limits.count_reset_mail(services, " ADA@EXAMPLE.COM ")


async def test_the_global_limit_is_off_unless_set_and_counts_every_request_when_on() -> None:
    off = _services()
    for _ in range(1000):
        await limits.admit_any_request(off, CALLER)
    on = _services(ratelimit_global_per_ip=3, ratelimit_window=60)
    for _ in range(3):
        await limits.admit_any_request(on, CALLER)
    with pytest.raises(RateLimited) as refused:
        await limits.admit_any_request(on, CALLER)
    assert refused.value.limit == 3
    # Another address has a window of its own.
    await limits.admit_any_request(on, Caller(ip="192.0.2.8", user_agent="", request_id="r2"))
