"""What a hosted page needs to run a passkey ceremony: the options embedded in the page, the
script that uses them (served from /static, allowed by the page's CSP nonce), and the ceremony's
token in an HttpOnly cookie, so that only this browser can answer it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from provider.accounts.passkey_ceremony import Started
from provider.http.context import services_of
from provider.http.cookies import PASSKEY_COOKIE, cookie_name, set_cookie
from provider.http.render import new_script_nonce


@dataclass(frozen=True, slots=True)
class PasskeyStep:
    """A ceremony to show: `mode` is "sign-in", "second-step" or "register"; the browser posts
    the credential to `action`."""

    started: Started
    mode: str
    action: str
    label: str
    nonce: str

    def context(self) -> dict[str, Any]:
        return {
            "passkey": {
                "mode": self.mode,
                "action": self.action,
                "label": self.label,
                # Inside <script type="application/json">: no "<", ">" or "&" may end it early.
                "options": self.started.options.replace("<", "\\u003c")
                .replace(">", "\\u003e")
                .replace("&", "\\u0026"),
            },
            "script_nonce": self.nonce,
        }


def passkey_step(started: Started, mode: str, action: str, label: str) -> PasskeyStep:
    return PasskeyStep(started, mode, action, label, new_script_nonce())


def keep_ceremony(request: Request, response: HTTPResponse, step: PasskeyStep | None) -> None:
    """The ceremony's token in this browser's HttpOnly cookie, for as long as it is valid."""
    if step is not None:
        settings = services_of(request).settings
        set_cookie(
            response,
            settings,
            PASSKEY_COOKIE,
            step.started.token,
            max_age=settings.passkey_challenge_ttl,
        )


def ceremony_of(request: Request) -> str | None:
    value = request.cookies.get(cookie_name(services_of(request).settings, PASSKEY_COOKIE))
    return value if value and len(value) <= 128 else None
