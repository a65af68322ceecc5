"""Standard claims released per scope (OIDC Core §5.1, §5.4)."""

from __future__ import annotations

from typing import Any

from provider.storage.models import User


def user_claims(user: User, scopes: list[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": str(user.id)}
    if "profile" in scopes:
        claims.update(_profile_claims(user))
        claims["updated_at"] = int(user.updated_at.timestamp())
    if "email" in scopes:
        claims["email"] = user.email
        # Only an address the user proved to own is verified (issue: email verification).
        claims["email_verified"] = user.email_verified_at is not None
    if "phone" in scopes and user.phone_number:
        claims["phone_number"] = user.phone_number
        claims["phone_number_verified"] = False
    if "address" in scopes and user.address:
        claims["address"] = user.address
    return claims


def _profile_claims(user: User) -> dict[str, Any]:
    """The `profile` claims the user has set; an unset one is left out (OIDC Core §5.3.2)."""
    values = {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.username,
        "picture": user.picture,
        "zoneinfo": user.zoneinfo,
        "locale": user.locale,
    }
    return {claim: value for claim, value in values.items() if value}
