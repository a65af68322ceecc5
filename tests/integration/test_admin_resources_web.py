"""/admin/resources: admins register, change and remove APIs on the pages; auditors only look;
the rules of the core are shown as errors; CSRF on every form."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from provider.storage.models import AuditEvent, ResourceServer
from tests.admin_support import account
from tests.oidc import csrf_of, hidden_fields, register_client
from tests.support import PASSWORD, Server

API = "https://api.example.com/orders"


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


async def _sign_in(http: httpx.AsyncClient, email: str, role: str) -> None:
    await account(http, email, role)
    page = await http.get("/login", params={"next": "/admin/resources"})
    form = {**hidden_fields(page.text), "identifier": email, "password": PASSWORD}
    signed_in = await http.post("/login", data=form)
    assert signed_in.status_code == 303, signed_in.text


async def test_an_admin_registers_changes_and_removes_an_api(
    browser: httpx.AsyncClient, server: Server
) -> None:
    rp = await register_client()
    await _sign_in(browser, "root@example.com", "admin")
    page = await browser.get("/admin/resources")
    assert page.status_code == 200
    assert 'id="add-resource"' in page.text
    fields = {
        "csrf": csrf_of(page.text),
        "identifier": API,
        "name": "Orders",
        "scopes": "orders.read orders.write",
        "access_token_ttl": "",
        "signing_alg": "RS256",
        "allowed_clients": "",
    }
    refused = await browser.post("/admin/resources", data={**fields, "identifier": API + "#x"})
    assert refused.status_code == 422
    assert "identifier: must be an absolute URI without a fragment" in refused.text
    added = await browser.post("/admin/resources", data=fields)
    assert (added.status_code, added.headers["location"]) == (303, "/admin/resources?done=added")
    row = await ResourceServer.get(identifier=API)
    assert (row.scopes, row.allowed_clients, row.access_token_ttl) == (
        ["orders.read", "orders.write"],
        None,
        None,
    )
    again = await browser.post("/admin/resources", data=fields)
    assert again.status_code == 422
    assert "registered already" in again.text

    detail = await browser.get(f"/admin/resources/{row.id}")
    assert API in detail.text
    assert 'id="no-key"' not in detail.text
    changed = await browser.post(
        f"/admin/resources/{row.id}",
        data={
            **fields,
            "csrf": csrf_of(detail.text),
            "signing_alg": "ES256",
            "access_token_ttl": "300",
            "allowed_clients": rp.client_id,
        },
    )
    assert changed.status_code == 303, changed.text
    # The test servers have no EC key: the page says token requests will be refused.
    assert 'id="no-key"' in (await browser.get(f"/admin/resources/{row.id}")).text
    await row.refresh_from_db()
    assert (row.signing_alg, row.access_token_ttl, row.allowed_clients) == (
        "ES256",
        300,
        [rp.client_id],
    )
    no_csrf = await browser.post(f"/admin/resources/{row.id}/delete", data={})
    assert no_csrf.status_code == 400
    removed = await browser.post(
        f"/admin/resources/{row.id}/delete", data={"csrf": csrf_of(detail.text)}
    )
    assert (removed.status_code, removed.headers["location"]) == (
        303,
        "/admin/resources?done=removed",
    )
    assert await ResourceServer.all().count() == 0
    assert await AuditEvent.filter(event__startswith="admin.resource_").count() == 3


async def test_an_auditor_only_looks(browser: httpx.AsyncClient, server: Server) -> None:
    await ResourceServer.create(identifier=API, name="Orders", scopes=["orders.read"])
    await _sign_in(browser, "audit@example.com", "auditor")
    page = await browser.get("/admin/resources")
    assert page.status_code == 200
    assert API in page.text
    assert 'id="add-resource"' not in page.text
    row = await ResourceServer.get(identifier=API)
    detail = await browser.get(f"/admin/resources/{row.id}")
    assert 'id="edit-resource"' not in detail.text
    assert "orders.read" in detail.text
    token = csrf_of((await browser.get("/login")).text)  # a page with a form, for its token
    posted = await browser.post(
        "/admin/resources", data={"csrf": token, "identifier": "https://x.example"}
    )
    assert posted.status_code == 403
