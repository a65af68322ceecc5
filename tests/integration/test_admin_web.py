"""Hosted admin pages without a browser: sign-in without a flow, roles, CSRF, every action."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from provider.storage.models import AuditEvent, User
from provider.storage.unit_of_work import utcnow
from provider.web.login import local_path
from tests.admin_support import account
from tests.oidc import csrf_of, hidden_fields
from tests.support import PASSWORD, Server, register


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


async def sign_in(http: httpx.AsyncClient, email: str, next_path: str = "/admin") -> httpx.Response:
    page = await http.get("/login", params={"next": next_path})
    assert page.status_code == 200, page.text
    form = {**hidden_fields(page.text), "identifier": email, "password": PASSWORD}
    return await http.post("/login", data=form)


async def post_action(http: httpx.AsyncClient, user_id: str, action: str) -> httpx.Response:
    page = await http.get(f"/admin/users/{user_id}")
    return await http.post(f"/admin/users/{user_id}/{action}", data={"csrf": csrf_of(page.text)})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/admin", "/admin"),
        ("/admin/users/1?x=y", "/admin/users/1?x=y"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("https://evil.example/admin", None),
        ("admin", None),
        ("/\t/evil.example", None),
        ("/ad min", None),
        ("", None),
        (None, None),
        ("/" + "a" * 600, None),
    ],
)
def test_next_must_be_a_local_path(value: str | None, expected: str | None) -> None:
    assert local_path(value) == expected


async def test_admin_signs_in_without_a_flow_and_lands_on_next(
    browser: httpx.AsyncClient,
) -> None:
    gate = await browser.get("/admin?q=bob")
    assert gate.status_code == 303
    assert gate.headers["location"] == "/login?next=%2Fadmin%3Fq%3Dbob"
    await account(browser, "root@example.com", "admin")
    await account(browser, "bob@example.com")
    await account(browser, "carol@example.com")
    signed_in = await sign_in(browser, "root@example.com", "/admin?q=bob")
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/admin?q=bob"
    login = await AuditEvent.get(event="user.login")
    assert login.client_id is None
    page = await browser.get("/admin", params={"q": "BOB"})
    assert page.status_code == 200
    assert "bob@example.com" in page.text
    assert "carol@example.com" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for path in ("/admin", "/admin/clients", "/admin/audit"):
        html = (await browser.get(path)).text
        assert "<script" not in html
        assert "style=" not in html


async def test_an_unsafe_next_is_ignored(browser: httpx.AsyncClient) -> None:
    await register(browser, "bob@example.com")
    page = await browser.get("/login", params={"next": "//evil.example/"})
    assert "evil" not in page.text
    form = {
        "csrf": csrf_of(page.text),
        "next": "https://evil.example/",
        "identifier": "bob@example.com",
        "password": PASSWORD,
    }
    response = await browser.post("/login", data=form)
    assert response.status_code == 200
    assert "You are signed in" in response.text
    assert "location" not in response.headers


async def test_a_wrong_password_shows_the_form_again_with_next(
    browser: httpx.AsyncClient,
) -> None:
    await register(browser, "bob@example.com")
    page = await browser.get("/login", params={"next": "/admin"})
    form = {**hidden_fields(page.text), "identifier": "bob@example.com", "password": "nope"}
    response = await browser.post("/login", data=form)
    assert response.status_code == 401
    assert hidden_fields(response.text)["next"] == "/admin"
    assert "incorrect" in response.text


async def test_a_password_alone_does_not_pass_for_an_mfa_account(
    browser: httpx.AsyncClient,
) -> None:
    user = await account(browser, "root@example.com", "admin")
    await User.filter(id=user["id"]).update(totp_enabled_at=utcnow(), totp_secret="sealed")
    response = await sign_in(browser, "root@example.com")
    # On to the second factor, with `next` kept; no session cookie yet.
    assert response.status_code == 303
    assert response.headers["location"] == "/login/mfa?next=%2Fadmin"
    cookies = response.headers.get_list("set-cookie")
    assert any(cookie.startswith("mfa=") for cookie in cookies), cookies
    assert not any(cookie.startswith("sid=") for cookie in cookies), cookies
    assert (await browser.get("/admin")).status_code == 303


async def test_a_plain_user_gets_a_403_page_and_an_audit_row(
    browser: httpx.AsyncClient,
) -> None:
    await register(browser, "bob@example.com")
    assert (await sign_in(browser, "bob@example.com")).status_code == 303
    response = await browser.get("/admin")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Not allowed" in response.text
    row = await AuditEvent.get(event="admin.forbidden")
    assert row.outcome == "failure"
    assert row.details["path"] == "/admin"


async def test_an_auditor_sees_pages_without_buttons_and_cannot_post(
    browser: httpx.AsyncClient,
) -> None:
    await account(browser, "audit@example.com", "auditor")
    bob = await account(browser, "bob@example.com")
    await sign_in(browser, "audit@example.com")
    page = await browser.get(f"/admin/users/{bob['id']}")
    assert page.status_code == 200
    assert "bob@example.com" in page.text
    assert 'method="post"' not in page.text
    assert "read-only" in page.text
    for path in ("/admin", "/admin/clients", "/admin/audit", "/admin/audit.csv"):
        assert (await browser.get(path)).status_code == 200, path
    # A valid form token of this browser (from the sign-in page) does not make a POST allowed.
    token = csrf_of((await browser.get("/login")).text)
    refused = await browser.post(f"/admin/users/{bob['id']}/lock", data={"csrf": token})
    assert refused.status_code == 403
    assert (await User.get(id=bob["id"])).locked_until is None


async def test_every_action_from_the_page(browser: httpx.AsyncClient) -> None:
    root = await account(browser, "root@example.com", "admin")
    bob = await account(browser, "bob@example.com")
    await sign_in(browser, "root@example.com")
    page = await browser.get(f"/admin/users/{bob['id']}")
    for action in ("lock", "revoke-sessions", "verify", "force-password-reset", "delete"):
        assert f'id="action-{action}"' in page.text, action

    async def act(action: str) -> User:
        response = await post_action(browser, bob["id"], action)
        assert response.status_code == 303, (action, response.text)
        assert response.headers["location"] == f"/admin/users/{bob['id']}?done={action}"
        shown = await browser.get(response.headers["location"])
        assert 'role="status"' in shown.text
        return await User.get(id=bob["id"])

    assert (await act("lock")).locked_until is not None
    assert (await act("unlock")).locked_until is None
    assert (await act("verify")).email_verified_at is not None
    await act("revoke-sessions")
    assert (await act("delete")).deleted_at is not None
    assert 'id="action-restore"' in (await browser.get(f"/admin/users/{bob['id']}")).text
    assert (await act("restore")).deleted_at is None
    events = await AuditEvent.filter(event__startswith="admin.").order_by("id")
    assert [event.event for event in events] == [
        "admin.user_locked",
        "admin.user_unlocked",
        "admin.user_updated",
        "admin.sessions_revoked",
        "admin.user_deleted",
        "admin.user_restored",
    ]
    assert {event.details["admin_id"] for event in events} == {root["id"]}
    own = await browser.get(f"/admin/users/{root['id']}")
    assert 'method="post"' not in own.text
    token = csrf_of(page.text)
    refused = await browser.post(f"/admin/users/{root['id']}/delete", data={"csrf": token})
    assert refused.status_code == 409


async def test_posts_need_the_csrf_token(browser: httpx.AsyncClient) -> None:
    await account(browser, "root@example.com", "admin")
    bob = await account(browser, "bob@example.com")
    await sign_in(browser, "root@example.com")
    for data in ({}, {"csrf": "forged"}):
        response = await browser.post(f"/admin/users/{bob['id']}/lock", data=data)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
    assert (await User.get(id=bob["id"])).locked_until is None


async def test_bad_input_is_an_error_page_not_a_500(browser: httpx.AsyncClient) -> None:
    await account(browser, "root@example.com", "admin")
    await sign_in(browser, "root@example.com")
    token = csrf_of((await browser.get("/login")).text)
    for path, status in [
        ("/admin/users/not-a-uuid", 400),
        ("/admin/users/00000000-0000-0000-0000-000000000000", 404),
        ("/admin?limit=1000", 400),
        ("/admin?cursor=garbage", 400),
        ("/admin?status=sleeping", 400),
        ("/admin/audit?user_id=bob", 400),
        ("/admin/audit?from=never", 400),
        ("/admin/audit.csv?to=never", 400),
    ]:
        response = await browser.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
    response = await browser.post("/admin/users/not-a-uuid/lock", data={"csrf": token})
    assert response.status_code == 400
    response = await browser.post(
        "/admin/users/00000000-0000-0000-0000-000000000000/explode",
        data={"csrf": token},
    )
    assert response.status_code == 404


async def test_audit_and_clients_pages(browser: httpx.AsyncClient) -> None:
    await account(browser, "root@example.com", "admin")
    bob = await account(browser, "bob@example.com")
    await sign_in(browser, "root@example.com")
    audit = await browser.get("/admin/audit", params={"user_id": bob["id"]})
    assert audit.status_code == 200
    assert "<td>user.registered</td>" in audit.text
    assert "<td>user.login</td>" not in audit.text  # that was root's
    export = await browser.get("/admin/audit.csv", params={"event": "user.registered"})
    assert export.headers["content-type"].startswith("text/csv")
    assert export.text.count("user.registered") == 2
    clients = await browser.get("/admin/clients")
    assert "No clients registered" in clients.text
