"""Passkeys through the JSON API (/v1/auth/passkeys/…): the standard options JSON, adding,
listing, renaming and removing, a sign-in with the passkey alone, a passkey as the second step,
and every bad input answered with the error envelope, an audit row and no new session."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from provider.storage.models import AuditEvent, Passkey, Session
from provider.storage.unit_of_work import utcnow
from tests.admin_support import admin, auditor
from tests.mail import Mailbox, text_part
from tests.passkey_authenticator import SoftAuthenticator
from tests.support import PASSWORD, Server, assert_error, bearer, login, register
from tests.totp import enrol_totp, start_mfa_login


def _device(server: Server) -> SoftAuthenticator:
    return SoftAuthenticator(server.url, urlsplit(server.url).hostname or "")


async def _add(
    http: httpx.AsyncClient, tokens: dict[str, Any], device: SoftAuthenticator, name: str = ""
) -> dict[str, Any]:
    started = await http.post("/v1/auth/passkeys/registration/options", headers=bearer(tokens))
    assert started.status_code == 200, started.text
    body = started.json()
    credential = json.loads(device.create(body["options"]))
    finished = await http.post(
        "/v1/auth/passkeys/registration",
        json={"ceremony": body["ceremony"], "credential": credential, "name": name or None},
        headers=bearer(tokens),
    )
    assert finished.status_code == 201, finished.text
    added: dict[str, Any] = finished.json()
    return added


async def _options(http: httpx.AsyncClient) -> dict[str, Any]:
    started = await http.post("/v1/auth/passkeys/authentication/options")
    assert started.status_code == 200, started.text
    body: dict[str, Any] = started.json()
    return body


async def _enrolled(
    http: httpx.AsyncClient, server: Server
) -> tuple[dict[str, Any], dict[str, Any], SoftAuthenticator]:
    user = await register(http)
    tokens = await login(http)
    device = _device(server)
    await _add(http, tokens, device)
    return user, tokens, device


async def test_a_passkey_is_added_listed_and_signs_in_alone(
    client: httpx.AsyncClient, server: Server
) -> None:
    user = await register(client)
    tokens = await login(client)
    started = await client.post("/v1/auth/passkeys/registration/options", headers=bearer(tokens))
    options = started.json()["options"]
    host = urlsplit(server.url).hostname
    assert options["rp"]["id"] == host
    assert options["authenticatorSelection"] == {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "preferred",
    }
    assert started.json()["expires_in"] == 300
    added = await _add(client, tokens, _device(server), name="Work laptop")
    assert set(added) == {"id", "name", "created_at", "last_used_at", "synced", "transports"}
    listed = await client.get("/v1/auth/passkeys", headers=bearer(tokens))
    assert [p["name"] for p in listed.json()["passkeys"]] == ["Work laptop"]

    device = _device(server)
    await _add(client, tokens, device)
    body = await _options(client)
    assert body["options"]["rpId"] == host
    assert body["options"]["allowCredentials"] == []
    signed_in = await client.post(
        "/v1/auth/passkeys/authentication",
        json={"ceremony": body["ceremony"], "credential": json.loads(device.get(body["options"]))},
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["id"] == user["id"]
    me = await client.get("/v1/auth/me", headers=bearer(signed_in.json()))
    assert me.status_code == 200
    login_row = await AuditEvent.filter(event="user.login").order_by("-id").first()
    assert login_row is not None
    assert login_row.details["method"] == "passkey"
    assert login_row.details["amr"] == ["hwk", "user", "mfa"]


async def test_rename_and_remove(client: httpx.AsyncClient, server: Server) -> None:
    _, tokens, _ = await _enrolled(client, server)
    [passkey] = (await client.get("/v1/auth/passkeys", headers=bearer(tokens))).json()["passkeys"]
    renamed = await client.patch(
        f"/v1/auth/passkeys/{passkey['id']}", json={"name": "Phone"}, headers=bearer(tokens)
    )
    assert renamed.json()["name"] == "Phone"
    exported = (await client.get("/v1/auth/me/export", headers=bearer(tokens))).json()
    assert [p["name"] for p in exported["passkeys"]] == ["Phone"]
    missing = await client.delete(
        "/v1/auth/passkeys/00000000-0000-0000-0000-000000000000", headers=bearer(tokens)
    )
    assert_error(missing, 404, "not_found")
    removed = await client.delete(f"/v1/auth/passkeys/{passkey['id']}", headers=bearer(tokens))
    assert removed.status_code == 200, removed.text
    assert await Passkey.all().count() == 0
    assert await AuditEvent.filter(event="passkey.removed").count() == 1


@pytest.mark.parametrize(
    ("lie", "status", "code"),
    [
        ("not_an_object", 400, "invalid_request"),
        ("malformed", 400, "invalid_passkey"),
        ("origin", 400, "invalid_passkey"),
        ("rp_id", 400, "invalid_passkey"),
        ("replayed", 400, "invalid_passkey_challenge"),
        ("unknown_ceremony", 400, "invalid_passkey_challenge"),
        ("unknown_credential", 401, "passkey_refused"),
        ("user_handle", 401, "passkey_refused"),
    ],
)
async def test_a_bad_sign_in_is_refused_with_the_envelope_and_audited(
    client: httpx.AsyncClient, server: Server, lie: str, status: int, code: str
) -> None:
    _, _, device = await _enrolled(client, server)
    body = await _options(client)
    ceremony, options = body["ceremony"], body["options"]
    credential: Any = json.loads(device.get(options))
    if lie == "not_an_object":
        credential = "a string"
    elif lie == "malformed":
        credential = {"id": credential["id"], "response": {}}
    elif lie == "origin":
        credential = json.loads(device.get(options, origin="http://evil.example"))
    elif lie == "rp_id":
        credential = json.loads(device.get(options, rp_id="evil.example"))
    elif lie == "replayed":
        first = await client.post(
            "/v1/auth/passkeys/authentication",
            json={"ceremony": ceremony, "credential": credential},
        )
        assert first.status_code == 200, first.text
        credential = json.loads(device.get(options))
    elif lie == "unknown_ceremony":
        ceremony = "x" * 43
    elif lie == "unknown_credential":
        credential = json.loads(_device(server).get(options))
    elif lie == "user_handle":
        credential = json.loads(device.get(options, user_handle=b"\x01" * 16))
    sessions = await Session.all().count()
    failures = await AuditEvent.filter(event="user.login_failed").count()
    refused = await client.post(
        "/v1/auth/passkeys/authentication", json={"ceremony": ceremony, "credential": credential}
    )
    assert_error(refused, status, code)
    assert await Session.all().count() == sessions
    if lie != "not_an_object":  # the schema refuses it before the use case reads it
        assert await AuditEvent.filter(event="user.login_failed").count() == failures + 1


async def test_a_bad_registration_is_refused_and_keeps_nothing(
    client: httpx.AsyncClient, server: Server
) -> None:
    await register(client)
    tokens = await login(client)
    started = (
        await client.post("/v1/auth/passkeys/registration/options", headers=bearer(tokens))
    ).json()
    credential = json.loads(_device(server).create(started["options"], origin="http://evil.test"))
    refused = await client.post(
        "/v1/auth/passkeys/registration",
        json={"ceremony": started["ceremony"], "credential": credential},
        headers=bearer(tokens),
    )
    assert_error(refused, 400, "invalid_passkey")
    assert await Passkey.all().count() == 0
    failed = await AuditEvent.get(event="passkey.registration_failed")
    assert failed.details == {"reason": "invalid_passkey"}


async def test_a_passkey_answers_the_second_step_after_a_password(
    client: httpx.AsyncClient, server: Server
) -> None:
    _, tokens, device = await _enrolled(client, server)
    await enrol_totp(client, tokens)
    challenge = await client.post(
        "/v1/auth/sessions", json={"identifier": "ada@example.com", "password": PASSWORD}
    )
    assert challenge.json()["methods"] == ["totp", "backup_code", "passkey"]
    mfa_token = await start_mfa_login(client)
    started = await client.post("/v1/auth/mfa/passkey/options", json={"mfa_token": mfa_token})
    assert started.status_code == 200, started.text
    body = started.json()
    assert len(body["options"]["allowCredentials"]) == 1
    verified = await client.post(
        "/v1/auth/mfa/verify",
        json={
            "mfa_token": mfa_token,
            "passkey": {
                "ceremony": body["ceremony"],
                "credential": json.loads(device.get(body["options"])),
            },
        },
    )
    assert verified.status_code == 200, verified.text
    login_row = await AuditEvent.filter(event="user.login").order_by("-id").first()
    assert login_row is not None
    assert login_row.details["amr"] == ["pwd", "hwk", "user", "mfa"]
    both = await client.post(
        "/v1/auth/mfa/verify", json={"mfa_token": mfa_token, "code": "123456", "passkey": None}
    )
    assert both.status_code in (400, 401)


async def test_the_openapi_document_names_the_passkey_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/docs/openapi.json")).json()["paths"]
    for path in (
        "/v1/auth/passkeys/authentication/options",
        "/v1/auth/passkeys/authentication",
        "/v1/auth/passkeys/registration/options",
        "/v1/auth/passkeys/registration",
        "/v1/auth/passkeys",
        "/v1/auth/passkeys/{passkey_id}",
        "/v1/auth/mfa/passkey/options",
    ):
        assert path in paths, path


async def test_an_admin_lists_and_removes_a_users_passkeys(
    client: httpx.AsyncClient, server: Server
) -> None:
    user, _, _ = await _enrolled(client, server)
    admin_headers = await admin(client)
    auditor_headers = await auditor(client)
    listed = await client.get(f"/v1/admin/users/{user['id']}/passkeys", headers=auditor_headers)
    assert listed.status_code == 200, listed.text
    [passkey] = listed.json()["passkeys"]
    path = f"/v1/admin/users/{user['id']}/passkeys/{passkey['id']}"
    assert_error(await client.delete(path, headers=auditor_headers), 403)
    removed = await client.delete(path, headers=admin_headers)
    assert removed.status_code == 200, removed.text
    assert_error(await client.delete(path, headers=admin_headers), 404, "not_found")
    assert await Passkey.all().count() == 0
    row = await AuditEvent.get(event="passkey.removed")
    assert str(row.user_id) == user["id"]


async def test_a_stale_session_is_renewed_with_a_passkey_before_adding_another(
    client: httpx.AsyncClient, server: Server
) -> None:
    user, tokens, device = await _enrolled(client, server)
    await Session.filter(user_id=user["id"]).update(auth_time=utcnow() - timedelta(hours=1))
    stale = await client.post("/v1/auth/passkeys/registration/options", headers=bearer(tokens))
    assert_error(stale, 403, "reauthentication_required")
    [passkey] = (await client.get("/v1/auth/passkeys", headers=bearer(tokens))).json()["passkeys"]
    refused = await client.delete(f"/v1/auth/passkeys/{passkey['id']}", headers=bearer(tokens))
    assert_error(refused, 403, "reauthentication_required")

    body = await _options(client)
    renewed = await client.post(
        "/v1/auth/reauthenticate",
        json={
            "passkey": {
                "ceremony": body["ceremony"],
                "credential": json.loads(device.get(body["options"])),
            }
        },
        headers=bearer(tokens),
    )
    assert renewed.status_code == 200, renewed.text
    row = await AuditEvent.filter(event="user.reauthenticated").order_by("-id").first()
    assert row is not None
    assert row.details == {"amr": ["hwk", "user", "mfa"]}
    again = await client.post(
        "/v1/auth/passkeys/registration/options", headers=bearer(renewed.json())
    )
    assert again.status_code == 200, again.text
    neither = await client.post("/v1/auth/reauthenticate", json={}, headers=bearer(renewed.json()))
    assert_error(neither, 400, "invalid_request")


async def test_the_owner_is_mailed_when_a_passkey_is_added(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        await _enrolled(http, mail_server)
    notice = await mailbox.wait_for("ada@example.com", "A passkey was added")
    assert "sign you in without your password" in text_part(notice)
