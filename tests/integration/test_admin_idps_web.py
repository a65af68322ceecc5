"""/admin/idps: admins add a provider from a preset, change and remove it; auditors only look;
the secret never appears on a page; CSRF on every form."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from provider.storage.models import AuditEvent, IdentityProvider
from tests.admin_support import account
from tests.oidc import csrf_of, hidden_fields
from tests.support import PASSWORD, Server


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


async def _sign_in(http: httpx.AsyncClient, email: str, role: str) -> None:
    await account(http, email, role)
    page = await http.get("/login", params={"next": "/admin/idps"})
    form = {**hidden_fields(page.text), "identifier": email, "password": PASSWORD}
    signed_in = await http.post("/login", data=form)
    assert signed_in.status_code == 303, signed_in.text


async def test_an_admin_adds_changes_and_removes_a_provider(
    browser: httpx.AsyncClient, server: Server
) -> None:
    await _sign_in(browser, "root@example.com", "admin")
    page = await browser.get("/admin/idps")
    assert page.status_code == 200
    assert 'id="add-idp"' in page.text
    added = await browser.post(
        "/admin/idps",
        data={
            "csrf": csrf_of(page.text),
            "preset": "microsoft",
            "client_id": "ms-id",
            "client_secret": "ms-secret",
            "enabled": "on",
            "allow_signup": "on",
        },
    )
    assert (added.status_code, added.headers["location"]) == (303, "/admin/idps?done=added")
    row = await IdentityProvider.get(slug="microsoft")
    assert (row.client_id, row.allow_signup, row.trust_email) == ("ms-id", True, False)
    detail = await browser.get("/admin/idps/microsoft")
    assert f"{server.url}/login/idp/microsoft/callback" in detail.text
    assert "ms-secret" not in detail.text
    assert "one is set" in detail.text
    form = {
        "csrf": csrf_of(detail.text),
        "name": "Microsoft work accounts",
        "client_id": "ms-id",
        "scopes": "openid email profile",
        "issuer": row.issuer,
        "enabled": "on",
        "trust_email": "on",
    }
    saved = await browser.post("/admin/idps/microsoft", data=form)
    assert saved.status_code == 303
    row = await IdentityProvider.get(slug="microsoft")
    assert (row.name, row.allow_signup, row.trust_email) == ("Microsoft work accounts", False, True)
    assert row.client_secret_sealed  # an empty secret field keeps the secret
    refused = await browser.post("/admin/idps/microsoft", data={**form, "issuer": "ftp://x"})
    assert refused.status_code == 422
    assert "issuer: must be an https URL" in refused.text
    removed = await browser.post("/admin/idps/microsoft/delete", data={"csrf": csrf_of(page.text)})
    assert removed.status_code == 303
    assert not await IdentityProvider.exists(slug="microsoft")
    events = await AuditEvent.filter(event__startswith="idp.").values_list("event", flat=True)
    assert sorted(events) == ["idp.created", "idp.deleted", "idp.updated"]


async def test_auditors_look_and_forms_need_csrf(browser: httpx.AsyncClient) -> None:
    await IdentityProvider.create(
        slug="gitlab", name="GitLab", kind="oidc", issuer="https://gitlab.com"
    )
    await _sign_in(browser, "audit@example.com", "auditor")
    page = await browser.get("/admin/idps/gitlab")
    assert page.status_code == 200
    assert 'id="edit-idp"' not in page.text
    token = csrf_of((await browser.get("/login")).text)  # a page with a form, for its token
    refused = await browser.post("/admin/idps/gitlab/delete", data={"csrf": token})
    assert refused.status_code == 403
    assert await IdentityProvider.exists(slug="gitlab")
    async with httpx.AsyncClient(base_url=str(browser.base_url)) as other:
        await _sign_in(other, "root@example.com", "admin")
        no_csrf = await other.post("/admin/idps/gitlab/delete", data={})
    assert no_csrf.status_code == 400
    assert await IdentityProvider.exists(slug="gitlab")
