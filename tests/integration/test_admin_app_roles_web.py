"""The apps' roles and groups on the hosted admin pages: admins change them, auditors read them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from provider.storage.models import AppGroup, AppRole, AuditEvent
from provider.storage.unit_of_work import utcnow
from tests.admin_support import account
from tests.oidc import csrf_of, hidden_fields
from tests.support import PASSWORD, Server


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


async def _sign_in(http: httpx.AsyncClient, email: str) -> None:
    page = await http.get("/login", params={"next": "/admin/app-roles"})
    form = {**hidden_fields(page.text), "identifier": email, "password": PASSWORD}
    assert (await http.post("/login", data=form)).status_code in (302, 303)


async def _post(http: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    page = await http.get("/admin/app-roles")
    return await http.post(path, data={"csrf": csrf_of(page.text), **fields})


async def test_admins_manage_roles_groups_and_a_users_access(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await account(client, "root@example.com", "admin")
    user = await account(client, "ada@example.com")
    await _sign_in(browser, "root@example.com")
    added = await _post(browser, "/admin/app-roles/role-added", name="wiki:editor")
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/app-roles?done=role-added"
    refused = await _post(browser, "/admin/app-roles/role-added", name="not a name")
    assert refused.status_code == 422
    assert await AppRole.all().count() == 1
    await _post(browser, "/admin/app-roles/group-added", name="staff", description="Staff")
    await _post(browser, "/admin/app-roles/group-roles", name="staff", roles="wiki:editor")
    unknown = await _post(browser, "/admin/app-roles/group-roles", name="staff", roles="nope")
    assert unknown.status_code == 422
    page = await browser.get("/admin/app-roles")
    assert 'data-role="wiki:editor"' in page.text
    assert 'value="wiki:editor"' in page.text

    access_page = await browser.get(f"/admin/users/{user['id']}/app-access")
    assert access_page.status_code == 200
    saved = await browser.post(
        f"/admin/users/{user['id']}/app-access",
        data={"csrf": csrf_of(access_page.text), "roles": "", "groups": "staff"},
    )
    assert saved.status_code == 303
    shown = await browser.get(f"/admin/users/{user['id']}/app-access")
    assert '<dd id="effective-roles">wiki:editor</dd>' in shown.text
    assert await AuditEvent.exists(event="user.roles_changed", user_id=user["id"])

    await _post(browser, "/admin/app-roles/group-deleted", name="staff")
    assert not await AppGroup.exists(name="staff")


async def test_auditors_read_but_cannot_change(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await account(client, "audit@example.com", "auditor")
    await AppRole.create(id="00000000-0000-0000-0000-000000000001", name="x", created_at=utcnow())
    await _sign_in(browser, "audit@example.com")
    page = await browser.get("/admin/app-roles")
    assert page.status_code == 200
    assert 'data-role="x"' in page.text
    assert 'id="add-role"' not in page.text
    form_page = await browser.get("/account/password")  # the auditor's page has no form
    refused = await browser.post(
        "/admin/app-roles/role-deleted", data={"csrf": csrf_of(form_page.text), "name": "x"}
    )
    assert refused.status_code == 403
    assert await AppRole.exists(name="x")
