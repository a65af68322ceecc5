"""The console's client form: what the fields hold for a client, and the registration or the
changes a submitted form asks for. Lists are one URI per line; scopes are separated by spaces."""

from __future__ import annotations

from typing import Any

from provider.oauth.clients import GRANT_TYPES, ClientSpec
from provider.storage.models import Client

DEFAULT_GRANTS = ("authorization_code", "refresh_token")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _grants(values: dict[str, str]) -> list[str]:
    return [grant for grant in GRANT_TYPES if values.get(f"grant_{grant}") == "on"]


def client_form_values(client: Client | None) -> dict[str, Any]:
    """The fields of the form, filled with the client's registration (or a new one's defaults)."""
    grants = client.grant_types if client is not None else list(DEFAULT_GRANTS)
    values: dict[str, Any] = {f"grant_{grant}": "on" for grant in grants}
    if client is None:
        return {**values, "type": "confidential"}
    return {
        **values,
        "name": client.name,
        "type": "public" if client.public else "confidential",
        "redirect_uris": "\n".join(client.redirect_uris),
        "post_logout_redirect_uris": "\n".join(client.post_logout_redirect_uris),
        "scopes": " ".join(client.scopes),
        "audience": client.audience,
        "first_party": "on" if client.first_party else "",
    }


def client_spec(values: dict[str, str]) -> ClientSpec:
    """The registration a submitted "new client" form asks for."""
    return ClientSpec(
        name=values.get("name", ""),
        redirect_uris=_lines(values.get("redirect_uris", "")),
        post_logout_redirect_uris=_lines(values.get("post_logout_redirect_uris", "")),
        grant_types=_grants(values),
        scopes=values.get("scopes", "").split(),
        public=values.get("type") == "public",
        first_party=values.get("first_party") == "on",
        audience=values.get("audience", "").strip(),
    )


def client_changes(values: dict[str, str]) -> dict[str, Any]:
    """Every editable field of a submitted edit form (an empty one clears it)."""
    return {
        "name": values.get("name", ""),
        "redirect_uris": _lines(values.get("redirect_uris", "")),
        "post_logout_redirect_uris": _lines(values.get("post_logout_redirect_uris", "")),
        "grant_types": _grants(values),
        "scopes": values.get("scopes", "").split(),
        "first_party": values.get("first_party") == "on",
        "audience": values.get("audience", "").strip(),
    }
