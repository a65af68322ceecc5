"""Helpers for the hosted pages: walk them with httpx as a browser would (tests/oidc.Browser)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx

from tests.oidc import (
    Browser,
    RegisteredClient,
    decode_jwt,
    hidden_fields,
    is_consent_page,
    key_set,
    redeem_code,
    redirect_query,
)
from tests.totp import current_step, totp_code

_SECRET = re.compile(r'<code id="secret">([A-Z2-7 ]+)</code>')
_BACKUP_CODE = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")
_ALERT = re.compile(r'role="alert">(.*?)</div>', re.S)
_FIELD_ERRORS = re.compile(r'<ul class="field-errors" id="([a-z_]+)-error">(.*?)</ul>', re.S)


def is_mfa_page(response: httpx.Response) -> bool:
    return response.status_code < 500 and 'action="/login/mfa"' in response.text


def alert_of(response: httpx.Response) -> str:
    match = _ALERT.search(response.text)
    assert match, response.text[:800]
    return unescape(match.group(1)).strip()


def field_errors(response: httpx.Response) -> dict[str, str]:
    """The reasons shown next to each refused field, by field name."""
    return {
        name: " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split())
        for name, text in _FIELD_ERRORS.findall(response.text)
    }


def secret_of(html: str) -> str:
    match = _SECRET.search(html)
    assert match, html[:800]
    return match.group(1).replace(" ", "")


def backup_codes_of(html: str) -> list[str]:
    return _BACKUP_CODE.findall(html)


def set_cookie_names(response: httpx.Response) -> set[str]:
    """Cookies the response sets (a deletion included), by name."""
    return {cookie.split("=", 1)[0] for cookie in response.headers.get_list("set-cookie")}


async def post_form(
    browser: Browser, action: str, page: httpx.Response, **fields: str
) -> httpx.Response:
    """Submit the form at `action` with the page's hidden fields and `fields`; follow our pages."""
    response = await browser.http.post(action, data={**hidden_fields(page.text), **fields})
    return await browser.follow(response)


async def get(browser: Browser, path: str, **params: str) -> httpx.Response:
    """GET `path` (its own query kept unless `params` are given), following our redirects."""
    response = (
        await browser.http.get(path, params=params) if params else await browser.http.get(path)
    )
    return await browser.follow(response)


async def sign_in_for(
    browser: Browser, email: str, password: str, next_path: str = "/account"
) -> httpx.Response:
    """The hosted login without a flow (`/login?next=…`), submitted; our redirects followed."""
    page = await browser.http.get("/login", params={"next": next_path})
    return await post_form(browser, "/login", page, identifier=email, password=password)


async def enrol_on_account_page(
    browser: Browser, path: str = "/account/mfa"
) -> tuple[str, list[str], httpx.Response]:
    """Turn TOTP on through /account/mfa: the secret shown for manual entry, the backup codes,
    and the page that shows them."""
    page = await get(browser, path)
    assert 'id="start"' in page.text, page.text[:800]
    shown = await post_form(browser, "/account/mfa/start", page)
    assert shown.status_code == 200, shown.text[:800]
    secret = secret_of(shown.text)
    done = await post_form(
        browser, "/account/mfa/confirm", shown, code=totp_code(secret, current_step())
    )
    assert done.status_code == 200, done.text[:800]
    codes = backup_codes_of(done.text)
    assert len(codes) == 10, done.text[:800]
    return secret, codes, done


def link_of(response: httpx.Response, element_id: str) -> str:
    """The href of the link with this id."""
    match = re.search(rf'<a id="{element_id}"[^>]*\shref="([^"]+)"', response.text)
    assert match, response.text[:800]
    return unescape(match.group(1))


def notice_links(response: httpx.Response) -> dict[str, str]:
    """The links of a notice page (notice.html), by their text."""
    found = re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', response.text)
    return {unescape(label): unescape(url) for url, label in found}


async def back_at_client(
    browser: Browser, response: httpx.Response, rp: RegisteredClient
) -> dict[str, str]:
    """Allow on the consent page when it is shown; the query of the redirect to the client."""
    if is_consent_page(response):
        response = await post_form(browser, "/consent", response, decision="allow")
    return redirect_query(response, rp)


async def id_token_claims(
    http: httpx.AsyncClient, rp: RegisteredClient, code: str, **redeem: Any
) -> dict[str, Any]:
    """Redeem `code` and return the claims of its ID token, signature verified with /jwks."""
    response = await redeem_code(http, rp, code, **redeem)
    assert response.status_code == 200, response.text
    _, claims = decode_jwt(response.json()["id_token"], await key_set(http))
    return claims
