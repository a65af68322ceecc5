"""The authorization decision table: every prompt, max_age, acr, consent and client rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from provider.accounts.login import ACR_MFA
from provider.oauth.authorization_request import AuthorizationRequest
from provider.oauth.flows import Flow
from provider.oauth.next_step import (
    ClientRules,
    Consent,
    IssueCode,
    Login,
    Refuse,
    SecondFactor,
    SignedIn,
    Step,
    VerifyEmail,
    needs_stored_consent,
    next_authorization_step,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCOPES = ["openid", "profile"]
PLAIN = ClientRules(first_party=False, require_verified_email=False, require_mfa=False)
SESSION = SignedIn(
    session_id="s1",
    user_id="u1",
    auth_time=NOW - timedelta(minutes=10),
    amr=["pwd"],
    email_verified=True,
)


def _flow(**request: object) -> Flow:
    auth = AuthorizationRequest(client_id="c", redirect_uri="https://rp.example/cb", scopes=SCOPES)
    return Flow(id="f", request=replace(auth, **request))  # type: ignore[arg-type]


def _decide(
    flow: Flow,
    session: SignedIn | None = SESSION,
    client: ClientRules = PLAIN,
    *,
    hint: str | None = None,
    consented: list[str] | None = SCOPES,
) -> Step:
    return next_authorization_step(
        flow, client, session, now=NOW, hint_subject=hint, consented_scopes=consented
    )


def test_a_signed_in_user_with_consent_gets_a_code() -> None:
    assert _decide(_flow()) == IssueCode()


def test_no_session_means_login() -> None:
    assert _decide(_flow(), None) == Login()


@pytest.mark.parametrize("prompt", [["login"], ["select_account"], ["login", "consent"]])
def test_prompts_that_force_a_login(prompt: list[str]) -> None:
    assert _decide(_flow(prompt=prompt)) == Login()


@pytest.mark.parametrize(
    ("max_age", "expected"),
    [(None, IssueCode()), (600, IssueCode()), (601, IssueCode()), (599, Login()), (0, Login())],
)
def test_max_age_against_the_last_authentication(max_age: int | None, expected: Step) -> None:
    assert _decide(_flow(max_age=max_age)) == expected


def test_a_login_during_this_flow_meets_prompt_login_and_max_age() -> None:
    flow = replace(_flow(prompt=["login"], max_age=0), login_session_id="s1")
    assert _decide(flow, hint="someone-else") == IssueCode()


@pytest.mark.parametrize(("hint", "expected"), [(None, IssueCode()), ("u1", IssueCode())])
def test_an_id_token_hint_for_the_signed_in_user_changes_nothing(
    hint: str | None, expected: Step
) -> None:
    assert _decide(_flow(), hint=hint) == expected


def test_an_id_token_hint_for_another_user_asks_to_log_in() -> None:
    assert _decide(_flow(), hint="u2") == Login()


def test_a_client_needing_a_verified_email() -> None:
    rules = replace(PLAIN, require_verified_email=True)
    assert _decide(_flow(), replace(SESSION, email_verified=False), rules) == VerifyEmail()
    assert _decide(_flow(), SESSION, rules) == IssueCode()


@pytest.mark.parametrize(
    ("require_mfa", "acr_values", "amr", "expected"),
    [
        (False, [], ["pwd"], IssueCode()),
        (True, [], ["pwd"], SecondFactor()),
        (False, [ACR_MFA], ["pwd"], SecondFactor()),
        (False, ["urn:other"], ["pwd"], IssueCode()),
        (True, [], ["pwd", "otp", "mfa"], IssueCode()),
        (False, [ACR_MFA], ["pwd", "otp", "mfa"], IssueCode()),
    ],
)
def test_second_factor_from_the_client_or_acr_values(
    require_mfa: bool, acr_values: list[str], amr: list[str], expected: Step
) -> None:
    rules = replace(PLAIN, require_mfa=require_mfa)
    session = replace(SESSION, amr=amr)
    assert _decide(_flow(acr_values=acr_values), session, rules) == expected


@pytest.mark.parametrize(
    ("consented", "expected"),
    [
        (None, Consent()),
        ([], Consent()),
        (["openid"], Consent()),
        (SCOPES, IssueCode()),
        ([*SCOPES, "email"], IssueCode()),
    ],
)
def test_stored_consent_must_cover_every_requested_scope(
    consented: list[str] | None, expected: Step
) -> None:
    assert _decide(_flow(), consented=consented) == expected


def test_prompt_consent_asks_again_unless_given_in_this_flow() -> None:
    assert _decide(_flow(prompt=["consent"])) == Consent()
    given = replace(_flow(prompt=["consent"]), consented_session_id="s1")
    assert _decide(given, consented=None) == IssueCode()


def test_consent_given_by_another_session_does_not_count() -> None:
    flow = replace(_flow(), consented_session_id="s2")
    assert _decide(flow, consented=None) == Consent()


def test_first_party_clients_skip_consent() -> None:
    rules = replace(PLAIN, first_party=True)
    assert _decide(_flow(prompt=["consent"]), SESSION, rules, consented=None) == IssueCode()


def test_steps_come_in_order_login_email_second_factor_consent() -> None:
    strict = ClientRules(first_party=False, require_verified_email=True, require_mfa=True)
    unverified = replace(SESSION, email_verified=False)
    assert _decide(_flow(), None, strict, consented=None) == Login()
    assert _decide(_flow(), unverified, strict, consented=None) == VerifyEmail()
    assert _decide(_flow(), SESSION, strict, consented=None) == SecondFactor()
    stepped_up = replace(SESSION, amr=["pwd", "otp", "mfa"])
    assert _decide(_flow(), stepped_up, strict, consented=None) == Consent()
    assert _decide(_flow(), stepped_up, strict) == IssueCode()


PROMPT_NONE_CASES = [
    (None, PLAIN, SCOPES, Refuse("login_required", "The user is not signed in.")),
    (
        replace(SESSION, email_verified=False),
        replace(PLAIN, require_verified_email=True),
        SCOPES,
        Refuse("interaction_required", "The user's email address is not verified."),
    ),
    (
        SESSION,
        replace(PLAIN, require_mfa=True),
        SCOPES,
        Refuse("interaction_required", "Two-factor authentication is required."),
    ),
    (SESSION, PLAIN, None, Refuse("consent_required", "The user has not consented.")),
    (SESSION, PLAIN, SCOPES, IssueCode()),
]


@pytest.mark.parametrize(("session", "rules", "consented", "expected"), PROMPT_NONE_CASES)
def test_prompt_none_turns_every_page_into_its_error(
    session: SignedIn | None, rules: ClientRules, consented: list[str] | None, expected: Step
) -> None:
    assert _decide(_flow(prompt=["none"]), session, rules, consented=consented) == expected


@pytest.mark.parametrize(
    ("prompt", "max_age", "acr_values", "consented"),
    list(
        product(
            [[], ["none"], ["login"], ["consent"], ["select_account"]],
            [None, 0, 3600],
            [[], [ACR_MFA]],
            [None, SCOPES],
        )
    ),
)
def test_prompt_none_never_shows_a_page(
    prompt: list[str], max_age: int | None, acr_values: list[str], consented: list[str] | None
) -> None:
    flow = _flow(prompt=prompt, max_age=max_age, acr_values=acr_values)
    step = _decide(flow, consented=consented)
    if "none" in prompt:
        assert isinstance(step, Refuse | IssueCode)
    else:
        assert not isinstance(step, Refuse)


def test_stored_consent_is_read_only_when_the_decision_uses_it() -> None:
    assert needs_stored_consent(_flow(), PLAIN, SESSION)
    assert not needs_stored_consent(_flow(), PLAIN, None)
    assert not needs_stored_consent(_flow(), replace(PLAIN, first_party=True), SESSION)
    assert not needs_stored_consent(_flow(prompt=["consent"]), PLAIN, SESSION)
    assert not needs_stored_consent(replace(_flow(), consented_session_id="s1"), PLAIN, SESSION)
