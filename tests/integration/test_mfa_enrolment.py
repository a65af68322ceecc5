"""TOTP enrolment, backup codes, turning it off: secrets sealed at rest, codes used once."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pyotp
import pytest

from provider.crypto.sealing import SealError, unseal
from provider.storage.models import AuditEvent, BackupCode, User
from tests.integration.conftest import (
    TEST_SECRET_KEY,
    Mailbox,
    current_step,
    enrol_totp,
    fresh_totp_code,
    text_part,
    totp_code,
)
from tests.support import PASSWORD, Server, assert_error, bearer, login, register, row_counts


def _open(sealed: str, user_id: str) -> str:
    return unseal(TEST_SECRET_KEY.encode(), sealed, purpose="totp-secret", context=user_id)


async def _signed_in(http: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    user = await register(http)
    return user, await login(http)


async def test_enrolment_returns_a_secret_uri_and_qr_and_seals_the_secret(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, tokens = await _signed_in(http)
        response = await http.post("/v1/auth/mfa/totp", headers=bearer(tokens))
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert set(body) == {"secret", "otpauth_uri", "qr_svg_data_uri"}
        secret = body["secret"]
        assert len(base64.b32decode(secret)) >= 20  # 160 bits (RFC 4226 §4)
        uri = urlsplit(body["otpauth_uri"])
        assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
        assert "ada@example.com" in unquote(uri.path)
        query = parse_qs(uri.query)
        assert query["secret"] == [secret]
        assert query["issuer"] == ["127.0.0.1"]
        assert body["qr_svg_data_uri"].startswith("data:image/svg+xml")

        row = await User.get(id=user["id"])
        assert row.totp_secret is None
        assert row.totp_enabled_at is None
        assert row.totp_pending_secret is not None
        assert secret not in row.totp_pending_secret
        assert _open(row.totp_pending_secret, user["id"]) == secret
        # Bound to its row: it does not open as another user's secret.
        with pytest.raises(SealError):
            _open(row.totp_pending_secret, "00000000-0000-0000-0000-000000000000")

        # Not on until confirmed: a password still signs in.
        assert "access_token" in await login(http)
        status = await http.get("/v1/auth/mfa", headers=bearer(tokens))
        assert status.json()["enabled"] is False
        assert status.json()["totp"]["enrolment_pending"] is True


async def test_confirm_turns_totp_on_and_returns_backup_codes_once(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, tokens = await _signed_in(http)
        assert_error(
            await http.post(
                "/v1/auth/mfa/totp/confirm", json={"code": "123456"}, headers=bearer(tokens)
            ),
            409,
            "mfa_enrolment_not_started",
        )
        secret = (await http.post("/v1/auth/mfa/totp", headers=bearer(tokens))).json()["secret"]
        wrong = totp_code(secret, current_step() + 5)
        assert_error(
            await http.post(
                "/v1/auth/mfa/totp/confirm", json={"code": wrong}, headers=bearer(tokens)
            ),
            400,
            "invalid_code",
        )
        assert (await User.get(id=user["id"])).totp_enabled_at is None

        step = current_step()
        response = await http.post(
            "/v1/auth/mfa/totp/confirm",
            json={"code": totp_code(secret, step)},
            headers=bearer(tokens),
        )
        assert response.status_code == 200, response.text
        codes = response.json()["backup_codes"]
        assert response.json()["mfa_enabled"] is True
        assert len(codes) == 10
        assert len(set(codes)) == 10
        assert all(len(code.replace("-", "")) >= 10 for code in codes)

        row = await User.get(id=user["id"])
        assert row.totp_enabled_at is not None
        assert row.totp_pending_secret is None
        assert row.totp_secret is not None
        assert secret not in row.totp_secret
        assert _open(row.totp_secret, user["id"]) == secret
        assert row.totp_last_step == step
        stored = await BackupCode.filter(user_id=user["id"]).values_list("code_hash", flat=True)
        assert len(stored) == 10
        for code in codes:
            assert all(code not in value and code.replace("-", "") not in value for value in stored)

        status = (await http.get("/v1/auth/mfa", headers=bearer(tokens))).json()
        assert status["enabled"] is True
        assert status["methods"] == ["totp", "backup_code"]
        assert status["backup_codes_remaining"] == 10

        # Already on: neither a new enrolment nor a second confirmation.
        assert_error(
            await http.post("/v1/auth/mfa/totp", headers=bearer(tokens)), 409, "mfa_already_enabled"
        )
        mail = await mailbox.wait_for("ada@example.com", "turned on")
        assert "authenticator" in text_part(mail)
        assert await AuditEvent.filter(event="mfa.enabled", user_id=user["id"]).count() == 1
    log = mail_server.log()
    assert secret not in log
    assert all(code not in log for code in codes)


async def test_disable_needs_the_password_and_a_code(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, tokens = await _signed_in(http)
        secret, _ = await enrol_totp(http, tokens)

        async def disable(body: Any) -> httpx.Response:
            return await http.request(
                "DELETE", "/v1/auth/mfa/totp", json=body, headers=bearer(tokens)
            )

        code = await fresh_totp_code(secret, user["id"])
        assert_error(await disable({"code": code}), 400, "invalid_request")
        assert_error(await disable({"password": PASSWORD}), 400, "invalid_request")
        assert_error(
            await disable({"password": "wrong password", "code": code}), 403, "invalid_password"
        )
        assert_error(await disable({"password": PASSWORD, "code": "000000"}), 403, "invalid_code")
        assert (await User.get(id=user["id"])).totp_enabled_at is not None
        assert await AuditEvent.filter(event="mfa.reauthentication_failed").count() == 2

        response = await disable({"password": PASSWORD, "code": code})
        assert response.status_code == 200, response.text
        assert response.json() == {"mfa_enabled": False}
        row = await User.get(id=user["id"])
        assert row.totp_secret is None
        assert row.totp_enabled_at is None
        assert row.totp_last_step is None
        assert await BackupCode.filter(user_id=user["id"]).count() == 0
        # A password alone signs in again.
        assert "access_token" in await login(http)
        await mailbox.wait_for("ada@example.com", "turned off")
        assert_error(await disable({"password": PASSWORD, "code": code}), 409, "mfa_not_enabled")


async def test_disable_accepts_a_backup_code(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, tokens = await _signed_in(http)
        _, codes = await enrol_totp(http, tokens)
        response = await http.request(
            "DELETE",
            "/v1/auth/mfa/totp",
            json={"password": PASSWORD, "code": codes[3].upper()},
            headers=bearer(tokens),
        )
        assert response.status_code == 200, response.text
        assert (await User.get(id=user["id"])).totp_enabled_at is None


async def test_regenerated_backup_codes_replace_the_old_ones(
    mail_server: Server, mailbox: Mailbox
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, tokens = await _signed_in(http)
        secret, old = await enrol_totp(http, tokens)

        async def regenerate(password: str, code: str) -> httpx.Response:
            return await http.post(
                "/v1/auth/mfa/backup-codes",
                json={"password": password, "code": code},
                headers=bearer(tokens),
            )

        assert_error(await regenerate("wrong password", old[0]), 403, "invalid_password")
        response = await regenerate(PASSWORD, await fresh_totp_code(secret, user["id"]))
        assert response.status_code == 200, response.text
        new = response.json()["backup_codes"]
        assert len(new) == 10
        assert not set(new) & set(old)
        assert await BackupCode.filter(user_id=user["id"]).count() == 10
        # The old codes are gone; a new one works, once.
        assert_error(await regenerate(PASSWORD, old[1]), 403, "invalid_code")
        assert (await regenerate(PASSWORD, new[0])).status_code == 200


async def test_totp_and_backup_codes_are_per_user(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        ada, ada_tokens = await _signed_in(http)
        _, ada_codes = await enrol_totp(http, ada_tokens)
        await register(http, email="grace@example.com")
        grace_tokens = await login(http, "grace@example.com")
        secret, _ = await enrol_totp(http, grace_tokens)
        response = await http.request(
            "DELETE",
            "/v1/auth/mfa/totp",
            json={"password": PASSWORD, "code": ada_codes[0]},
            headers=bearer(grace_tokens),
        )
        assert_error(response, 403, "invalid_code")
        response = await http.request(
            "DELETE",
            "/v1/auth/mfa/totp",
            json={"password": PASSWORD, "code": pyotp.TOTP(secret).now()},
            headers=bearer(ada_tokens),
        )
        assert_error(response, 403, "invalid_code")
        assert (await User.get(id=ada["id"])).totp_enabled_at is not None


async def test_the_mfa_endpoints_need_a_session(mail_server: Server, mailbox: Mailbox) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        before = await row_counts()
        for method, path, body in [
            ("GET", "/v1/auth/mfa", None),
            ("POST", "/v1/auth/mfa/totp", None),
            ("POST", "/v1/auth/mfa/totp/confirm", {"code": "123456"}),
            ("DELETE", "/v1/auth/mfa/totp", {"password": PASSWORD, "code": "123456"}),
            ("POST", "/v1/auth/mfa/backup-codes", {"password": PASSWORD, "code": "123456"}),
        ]:
            assert_error(await http.request(method, path, json=body), 401)
        assert await row_counts() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/auth/mfa/totp", b"not json"),
        ("POST", "/v1/auth/mfa/totp", b'{"secret": "AAAA"}'),
        ("POST", "/v1/auth/mfa/totp/confirm", b"{}"),
        ("POST", "/v1/auth/mfa/totp/confirm", b'{"code": 123456}'),
        ("POST", "/v1/auth/mfa/totp/confirm", b'{"code": "123456", "x": 1}'),
        ("POST", "/v1/auth/mfa/totp/confirm", b'{"code": "12"}'),
        ("POST", "/v1/auth/mfa/totp/confirm", b"not json"),
        ("DELETE", "/v1/auth/mfa/totp", b""),
        ("DELETE", "/v1/auth/mfa/totp", b'{"password": "x", "code": null}'),
        ("DELETE", "/v1/auth/mfa/totp", b'{"password": ["x"], "code": "123456"}'),
        ("DELETE", "/v1/auth/mfa/totp", b'{"password": "x", "code": "123456", "all": 1}'),
        ("POST", "/v1/auth/mfa/backup-codes", b'{"code": "123456"}'),
        ("POST", "/v1/auth/mfa/backup-codes", b'{"password": 1, "code": "123456"}'),
        ("POST", "/v1/auth/mfa/backup-codes", b"[]"),
    ],
)
async def test_mfa_endpoints_refuse_bad_input(
    mail_server: Server, mailbox: Mailbox, method: str, path: str, body: bytes
) -> None:
    async with httpx.AsyncClient(base_url=mail_server.url) as http:
        user, tokens = await _signed_in(http)
        if method == "DELETE" or path == "/v1/auth/mfa/backup-codes":
            await enrol_totp(http, tokens)
        elif path.endswith("/confirm"):
            await http.post("/v1/auth/mfa/totp", headers=bearer(tokens))
        before_user = await User.get(id=user["id"])
        before = await row_counts()
        codes = await BackupCode.filter(user_id=user["id"]).count()
        response = await http.request(
            method,
            path,
            content=body,
            headers={**bearer(tokens), "content-type": "application/json"},
        )
        error = assert_error(response, 400)
        assert error["code"] in ("invalid_request", "invalid_json")
        assert await row_counts() == before
        assert await BackupCode.filter(user_id=user["id"]).count() == codes
        after_user = await User.get(id=user["id"])
        assert (after_user.totp_secret, after_user.totp_pending_secret) == (
            before_user.totp_secret,
            before_user.totp_pending_secret,
        )
        assert after_user.totp_enabled_at == before_user.totp_enabled_at
