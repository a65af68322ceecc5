"""`provider demo`: register a demo relying party and run the example web app
(clients/rp_webapp.py) against this provider, so a newcomer can click through a whole sign-in.

The provider itself runs apart (`provider serve`); the demo app is a child process that stops
with this command.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from provider.config import Settings

DEMO_CLIENT_NAME = "Demo app"
# The examples live beside the package in a checkout of the repository.
CHECKOUT = Path(__file__).resolve().parent.parent
RP_WEBAPP = CHECKOUT / "clients" / "rp_webapp.py"


class DemoUnavailable(Exception):
    """The demo cannot run here; the message says why."""


async def demo_client(settings: Settings, app_url: str) -> tuple[str, str]:
    """The demo client for the app at `app_url` and a fresh secret: registered on first use,
    its secret replaced (no grace) on later runs."""
    from provider.oauth.clients import ClientSpec, create_client, rotate_secret
    from provider.storage.clients import Clients
    from provider.storage.db import close_database, default_connection, open_database

    redirect_uri = f"{app_url}/callback"
    await open_database(settings.database_url)
    try:
        for client in await Clients(default_connection()).everyone():
            if client.name == DEMO_CLIENT_NAME and client.redirect_uris == [redirect_uri]:
                return client.id, await rotate_secret(client, settings.secret, 0)
        spec = ClientSpec(
            name=DEMO_CLIENT_NAME,
            redirect_uris=[redirect_uri],
            post_logout_redirect_uris=[f"{app_url}/"],
            grant_types=["authorization_code", "refresh_token"],
            scopes=[],
        )
        created, secret = await create_client(
            spec, settings.secret, settings.issuer, allow_private=settings.outbound_allow_private
        )
    finally:
        await close_database()
    if secret is None:
        raise DemoUnavailable("the demo client was registered without a secret")
    return created.id, secret


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run_demo(settings: Settings, port: int) -> int:
    """Register, start the app, print where to click, and wait until it stops."""
    if not RP_WEBAPP.exists():
        raise DemoUnavailable(
            f"the example app {RP_WEBAPP.relative_to(CHECKOUT)} is not here: "
            "run the demo from a checkout of the repository"
        )
    app_url = f"http://127.0.0.1:{port}"
    client_id, secret = asyncio.run(demo_client(settings, app_url))
    # The arguments are this interpreter, a fixed module and values the provider made.
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "clients.rp_webapp",
            "--issuer",
            settings.issuer,
            f"--client-id={client_id}",
            f"--client-secret={secret}",
            "--port",
            str(port),
        ],
        cwd=CHECKOUT,
    )
    print(f"Registered the demo client {client_id} ({DEMO_CLIENT_NAME}).", flush=True)
    print(f"The provider must be running at {settings.issuer} (provider serve).", flush=True)
    print(f"Open {app_url}/login to sign in through it; Ctrl-C stops the demo.", flush=True)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return process.wait()
    except (KeyboardInterrupt, SystemExit):
        process.terminate()
        process.wait(timeout=10)
        return 0
