"""The console's client form: what the fields hold for a client, and the registration or the
changes a submitted form asks for. Lists are one URI per line; scopes are separated by spaces."""

from __future__ import annotations

from typing import Any

from provider.i18n.catalogues import N_
from provider.oauth.clients import GRANT_TYPES, ClientSpec, ClientSpecError
from provider.storage.models import Client

DEFAULT_GRANTS = ("authorization_code", "refresh_token")
# The bounds of the admin API's request bodies (provider.api.admin.clients), kept by the form too.
MAX_NAME = 200
MAX_AUDIENCE = 512
MAX_URI = 2048
MAX_ITEMS = 32
MAX_SCOPE = 64


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _bounded(values: dict[str, str]) -> dict[str, str]:
    """`values` if every field is within the bounds the admin API enforces."""
    if len(values.get("name", "")) > MAX_NAME:
        raise ClientSpecError(N_("name must be at most %(count)s characters"), count=str(MAX_NAME))
    if len(values.get("audience", "")) > MAX_AUDIENCE:
        raise ClientSpecError(
            N_("audience must be at most %(count)s characters"), count=str(MAX_AUDIENCE)
        )
    if len(values.get("logo_uri", "")) > MAX_URI:
        raise ClientSpecError(
            N_("logo_uri must be at most %(count)s characters"), count=str(MAX_URI)
        )
    for field in ("redirect_uris", "post_logout_redirect_uris"):
        uris = _lines(values.get(field, ""))
        if len(uris) > MAX_ITEMS or any(len(uri) > MAX_URI for uri in uris):
            raise ClientSpecError(
                N_("at most %(items)s URIs of at most %(length)s characters"),
                items=str(MAX_ITEMS),
                length=str(MAX_URI),
            )
    scopes = values.get("scopes", "").split()
    if len(scopes) > MAX_ITEMS or any(len(scope) > MAX_SCOPE for scope in scopes):
        raise ClientSpecError(
            N_("at most %(items)s scopes of at most %(length)s characters"),
            items=str(MAX_ITEMS),
            length=str(MAX_SCOPE),
        )
    return values


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
        "logo_uri": client.logo_uri or "",
        "first_party": "on" if client.first_party else "",
    }


def client_spec(values: dict[str, str]) -> ClientSpec:
    """The registration a submitted "new client" form asks for."""
    values = _bounded(values)
    return ClientSpec(
        name=values.get("name", ""),
        redirect_uris=_lines(values.get("redirect_uris", "")),
        post_logout_redirect_uris=_lines(values.get("post_logout_redirect_uris", "")),
        grant_types=_grants(values),
        scopes=values.get("scopes", "").split(),
        public=values.get("type") == "public",
        first_party=values.get("first_party") == "on",
        audience=values.get("audience", "").strip(),
        logo_uri=values.get("logo_uri", "").strip() or None,
    )


def client_changes(values: dict[str, str]) -> dict[str, Any]:
    """Every editable field of a submitted edit form (an empty one clears it)."""
    values = _bounded(values)
    return {
        "name": values.get("name", ""),
        "redirect_uris": _lines(values.get("redirect_uris", "")),
        "post_logout_redirect_uris": _lines(values.get("post_logout_redirect_uris", "")),
        "grant_types": _grants(values),
        "scopes": values.get("scopes", "").split(),
        "first_party": values.get("first_party") == "on",
        "audience": values.get("audience", "").strip(),
        "logo_uri": values.get("logo_uri", "").strip() or None,
    }
