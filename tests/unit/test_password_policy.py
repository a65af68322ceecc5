"""Password rules: length, not the email or username, not on the breached-password list."""

from __future__ import annotations

import pytest

from provider.accounts.password_policy import MAX_LENGTH, MIN_LENGTH, password_problems


def test_a_long_uncommon_password_is_accepted() -> None:
    assert password_problems("correct horse battery", "ada@example.com", "ada") == []


def test_exactly_the_minimum_length_is_enough() -> None:
    assert MIN_LENGTH == 10
    assert password_problems("x7#kq9!mzt", "ada@example.com") == []


@pytest.mark.parametrize("password", ["", "short", "x7#kq9!mz"])
def test_shorter_than_ten_characters_is_refused(password: str) -> None:
    problems = password_problems(password, "ada@example.com")
    assert any("at least 10" in problem for problem in problems)


def test_longer_than_the_maximum_is_refused() -> None:
    problems = password_problems("a" * (MAX_LENGTH + 1), "ada@example.com")
    assert any(f"at most {MAX_LENGTH}" in problem for problem in problems)


@pytest.mark.parametrize(
    ("password", "email", "username"),
    [
        ("ada.lovelace@example.com", "ada.lovelace@example.com", None),
        ("ADA.LOVELACE@EXAMPLE.COM", "ada.lovelace@example.com", None),
        ("ada.lovelace", "ada.lovelace@example.com", None),  # the local part
        ("countess1815", "ada@example.com", "countess1815"),
        ("  Countess1815  ", "ada@example.com", "countess1815"),
    ],
)
def test_the_email_or_username_is_refused(password: str, email: str, username: str | None) -> None:
    problems = password_problems(password, email, username)
    assert any("email address or username" in problem for problem in problems)


@pytest.mark.parametrize(
    "password", ["1234567890", "qwertyuiop", "QwertyUiop", "1q2w3e4r5t", "Manchester", "4815162342"]
)
def test_common_passwords_are_refused(password: str) -> None:
    problems = password_problems(password, "ada@example.com")
    assert any("too common" in problem for problem in problems)


def test_every_broken_rule_is_reported() -> None:
    problems = password_problems("123456", "ada@example.com")
    assert len(problems) == 2  # too short and too common
