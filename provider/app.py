"""create_app(settings): the one place that wires blueprints, middleware, stores and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from functools import partial
from pathlib import Path

from sanic import Request, Sanic
from sanic.http import Http
from sanic.response import BaseHTTPResponse
from sanic_ext import Extend
from sanic_ext.extensions.templating.extension import TemplatingExtension

from provider.api import admin as api_admin
from provider.api import (
    devices,
    email_resend,
    email_verify,
    login,
    me,
    mfa_backup_codes,
    mfa_disable,
    mfa_enrol,
    mfa_passkey_options,
    mfa_status,
    mfa_verify,
    passkey_registration,
    passkey_sign_in,
    passkeys,
    password_change,
    password_forgot,
    password_reset,
    reauthenticate,
    refresh,
    register,
)
from provider.api import logout as api_logout
from provider.api import self_service as api_self_service
from provider.cache.events import EventPublisher
from provider.cache.fallback import build_cache
from provider.cache.local_copies import LocalCopies
from provider.config import Settings
from provider.context import (
    CLIENT_COPIES,
    CLIENT_DOCUMENT_MAX_BYTES,
    SESSION_COPIES,
    Services,
    outbound_policy,
)
from provider.crypto.keys import Keystore
from provider.crypto.passwords import Passwords
from provider.http.header_values import install_header_sanitizer
from provider.http.render import page_templates
from provider.http.request_limit import install_request_limit
from provider.mail.mailer import Mailer
from provider.net.documents import DocumentCache
from provider.net.ip_locations import IpLocations
from provider.net.outbound import fetch_json
from provider.oauth.first_party import first_party_app
from provider.ops import health
from provider.ops.errors import install_error_handlers
from provider.ops.head import answer_head_like_get
from provider.ops.logging import configure_logging
from provider.ops.maintenance import key_reload_loop, purge_loop, reload_keys
from provider.ops.middleware import install_middleware
from provider.ops.openapi import docs_blueprint
from provider.ops.shutdown import EXIT_SIGNALS, Shutdown
from provider.protocol import (
    authorize,
    client_configuration,
    client_registration,
    discovery,
    introspect,
    jwks,
    logout,
    revoke,
    token,
    userinfo,
)
from provider.sanic_app import App
from provider.storage.db import close_database, open_database
from provider.web import account as web_account
from provider.web import admin as web_admin
from provider.web import admin_console as web_admin_console
from provider.web import admin_idps as web_admin_idps
from provider.web import admin_registration_tokens as web_admin_registration_tokens
from provider.web import admin_resources as web_admin_resources
from provider.web import branding as web_branding
from provider.web import consent as web_consent
from provider.web import email_verify as web_email_verify
from provider.web import federation as web_federation
from provider.web import landing as web_landing
from provider.web import login as web_login
from provider.web import mfa as web_mfa
from provider.web import passkey_sign_in as web_passkey_sign_in
from provider.web import passkeys as web_passkeys
from provider.web import password as web_password
from provider.web import register as web_register
from provider.web import self_service as web_self_service

BLUEPRINTS = (
    register.bp,
    login.bp,
    refresh.bp,
    me.bp,
    *api_self_service.BLUEPRINTS,
    devices.bp,
    api_logout.bp,
    email_verify.bp,
    email_resend.bp,
    password_forgot.bp,
    password_reset.bp,
    password_change.bp,
    mfa_status.bp,
    mfa_enrol.bp,
    mfa_disable.bp,
    mfa_backup_codes.bp,
    mfa_passkey_options.bp,
    mfa_verify.bp,
    passkey_sign_in.bp,
    passkey_registration.bp,
    passkeys.bp,
    reauthenticate.bp,
    jwks.bp,
    discovery.bp,
    authorize.bp,
    token.bp,
    userinfo.bp,
    introspect.bp,
    revoke.bp,
    logout.bp,
    client_registration.bp,
    client_configuration.bp,
    web_login.bp,
    web_passkey_sign_in.bp,
    web_federation.bp,
    web_mfa.bp,
    web_passkeys.bp,
    web_consent.bp,
    web_register.bp,
    web_email_verify.bp,
    web_password.bp,
    web_account.bp,
    web_landing.bp,
    web_branding.bp,
    *web_self_service.BLUEPRINTS,
    *api_admin.BLUEPRINTS,
    web_admin_console.bp,
    web_admin.bp,
    web_admin_idps.bp,
    web_admin_registration_tokens.bp,
    web_admin_resources.bp,
    health.bp,
)


def create_app(settings: Settings, name: str = "provider") -> App:
    configure_logging(settings.json_logs, settings.log_level)
    app: App = Sanic(name, configure_logging=False)
    install_header_sanitizer()
    _configure(app, settings)
    install_middleware(app, settings)
    install_request_limit(app, settings)
    install_error_handlers(app)
    for blueprint in BLUEPRINTS:
        app.blueprint(blueprint)
    app.blueprint(docs_blueprint(app, settings.issuer))
    app.static("/static", Path(__file__).parent / "web" / "static", name="static")
    answer_head_like_get(app)
    app.ctx.discovery_cache = {}
    app.ctx.shutdown = Shutdown(settings.graceful_shutdown_timeout)
    _install_lifecycle(app, settings)
    _install_drain(
        app, app.ctx.shutdown, min(settings.drain_delay, settings.graceful_shutdown_timeout)
    )
    return app


def _configure(app: App, settings: Settings) -> None:
    app.config.REQUEST_MAX_SIZE = settings.max_body_size
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = settings.graceful_shutdown_timeout
    app.config.PROXIES_COUNT = settings.trust_proxy
    app.config.REAL_IP_HEADER = None
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.config.CORS = False
    app.config.HEALTH = False
    app.config.TEMPLATING_PATH_TO_TEMPLATES = str(Path(__file__).parent / "web" / "templates")
    app.ctx.page_templates = page_templates(settings)
    # Only what is used: the injection and logging extensions cost a signal dispatch per request.
    # The OpenAPI document and its page are provider.ops.openapi's, built from what the handlers
    # declare through provider.http.api_doc.
    Extend(app, built_in_extensions=False, extensions=[TemplatingExtension])


def _install_lifecycle(app: App, settings: Settings) -> None:
    @app.before_server_start
    async def open_services(app: App) -> None:
        await open_database(settings.database_url)
        try:
            app.ctx.services = await _open_services(settings)
        except BaseException:
            # A start that fails (an unusable key, an unreadable GeoIP file, …) closes the
            # database it opened: SQLite's connection thread would keep the process from exiting.
            await close_database()
            raise
        app.ctx.tasks = [
            asyncio.create_task(purge_loop(app.ctx.services)),
            asyncio.create_task(key_reload_loop(app.ctx.services)),
        ]
        # `kill -HUP`: re-read the keys folder now (after `keys rotate`), not at the next poll.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, reload_keys, app.ctx.services
            )

    @app.after_server_stop
    async def close_services(app: App) -> None:
        for task in app.ctx.tasks:
            task.cancel()
        services: Services = app.ctx.services
        shutdown: Shutdown = app.ctx.shutdown
        # Background work gets what the in-flight requests left of the grace period.
        await services.mailer.drain(shutdown.remaining())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(services.events.drain(), shutdown.remaining())
        await services.cache.close()
        services.passwords.close()
        services.ip_locations.close()
        await close_database()


async def _open_services(settings: Settings) -> Services:
    """Everything a worker serves with, once its database is open."""
    # Registered before the first request, from this instance's settings.
    await first_party_app(settings)
    cache = build_cache(settings.redis_url)
    max_token_ttl = settings.access_token_ttl
    return Services(
        settings=settings,
        cache=cache,
        events=EventPublisher(cache),
        passwords=Passwords(
            settings.argon2_time_cost,
            settings.argon2_memory_cost,
            settings.argon2_parallelism,
            threads=max(os.cpu_count() or 1, 2),
        ),
        keystore=Keystore(settings.keys_dir, max_token_ttl),
        mailer=Mailer.from_settings(settings),
        jwks_documents=DocumentCache(lambda uri: fetch_json(uri, outbound_policy(settings))),
        client_documents=DocumentCache(
            lambda uri: fetch_json(uri, outbound_policy(settings, CLIENT_DOCUMENT_MAX_BYTES))
        ),
        ip_locations=IpLocations.open(settings.geoip_database),
        clients=LocalCopies(CLIENT_COPIES, enabled=settings.client_cache),
        sessions=LocalCopies(SESSION_COPIES, enabled=settings.session_cache),
    )


def _install_drain(app: App, shutdown: Shutdown, delay: float) -> None:
    """SIGTERM/SIGINT drain this worker (see provider.ops.shutdown)."""

    @app.after_server_start
    async def drain_on_signal(app: App) -> None:
        # Replaces the handler Sanic installed (a bare stop) with the drain and its watchdog.
        loop = asyncio.get_running_loop()
        stop = partial(app.stop, terminate=False)

        def stop_after_delay() -> None:
            # Behind a load balancer, /ready answers 503 for DRAIN_DELAY seconds while the
            # listener still serves (each response closing its connection), so the balancer's
            # health check takes the instance out before any connection to it is closed: a
            # request it sends meanwhile is answered, never cut off.
            loop.call_later(delay, stop)

        for signum in EXIT_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(
                    signum, shutdown.on_signal, signum, stop_after_delay if delay else stop
                )

    @app.before_server_stop
    async def begin_drain(app: App) -> None:
        # Whatever stopped the server, the watchdog bounds the rest of the shutdown.
        shutdown.begin()

    async def close_when_draining(request: Request, response: BaseHTTPResponse) -> None:
        # A keep-alive connection gets `Connection: close` on its next response and is closed
        # after it, so no client keeps sending to a worker that is going away.
        if shutdown.draining and isinstance(request.stream, Http):
            request.stream.keep_alive = False

    app.register_middleware(close_when_draining, "response")
