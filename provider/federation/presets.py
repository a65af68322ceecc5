"""Known upstream providers: what an administrator would otherwise look up and type.

Google, Microsoft (Entra ID, the `common` tenant: work, school and personal accounts) and GitLab
speak OpenID Connect and are configured by their issuer (discovery). GitHub speaks plain OAuth 2.0:
its user comes from `GET /user`, its primary verified address from `GET /user/emails`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    kind: str
    scopes: tuple[str, ...]
    issuer: str = ""
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    emails_url: str = ""
    claims: dict[str, str] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "google": Preset(
        name="Google",
        kind="oidc",
        issuer="https://accounts.google.com",
        scopes=("openid", "email", "profile"),
    ),
    "microsoft": Preset(
        name="Microsoft",
        kind="oidc",
        # Its discovery names the issuer `…/{tenantid}/v2.0`: each token carries its tenant's.
        issuer="https://login.microsoftonline.com/common/v2.0",
        scopes=("openid", "email", "profile"),
    ),
    "gitlab": Preset(
        name="GitLab",
        kind="oidc",
        issuer="https://gitlab.com",
        scopes=("openid", "email", "profile"),
    ),
    "github": Preset(
        name="GitHub",
        kind="oauth2",
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        userinfo_url="https://api.github.com/user",
        emails_url="https://api.github.com/user/emails",
        claims={"sub": "id", "name": "name", "email": "email"},
        scopes=("read:user", "user:email"),
    ),
}
