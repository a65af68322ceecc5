"""What `serve` tells a newcomer: where the service answers once it is ready, and what to set when
its port is taken."""

from __future__ import annotations

import errno
import logging

from provider.config import Settings

log = logging.getLogger("provider.ready")


def service_urls(settings: Settings) -> dict[str, str]:
    """The addresses worth opening first, under the issuer (the URL browsers and clients use)."""
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "login": f"{issuer}/login",
        "admin": f"{issuer}/admin",
        "docs": f"{issuer}/docs",
    }


def announce_ready(settings: Settings) -> None:
    """One log line with every URL, once the listener accepts connections."""
    urls = service_urls(settings)
    log.info(
        "ready: issuer %s  sign in %s  admin %s  API docs %s",
        urls["issuer"],
        urls["login"],
        urls["admin"],
        urls["docs"],
    )


def address_in_use(settings: Settings, exc: OSError) -> str | None:
    """The one-line reason when the listening port is taken; None for any other failure."""
    if exc.errno != errno.EADDRINUSE:
        return None
    return (
        f"port {settings.port} on {settings.host} is already in use: stop what listens there "
        "or choose another port with PROVIDER_PORT (or serve --port)"
    )
