"""Which installed language a reader gets: `ui_locales`, their profile, the browser, the default."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _match(tag: str, available: Sequence[str]) -> str | None:
    """`de-AT` matches `de-AT`, then `de` (RFC 4647 §3.4 lookup, without wildcards)."""
    wanted = tag.strip().lower()
    lowered = {language.lower(): language for language in available}
    while wanted:
        if wanted in lowered:
            return lowered[wanted]
        wanted = wanted.rpartition("-")[0]
    return None


def accept_language(header: str) -> list[str]:
    """The tags of an Accept-Language header, most preferred first (RFC 9110 §12.5.4)."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose_locale(
    available: Sequence[str],
    default: str,
    *,
    ui_locales: str | None = None,
    user_locale: str | None = None,
    accept: str = "",
) -> str:
    """The first installed language among, in order: the `ui_locales` of the authorization
    request (space-separated, OIDC Core §3.1.2.1), the signed-in user's `locale` claim, the
    browser's Accept-Language, the configured default."""
    candidates: Iterable[str] = [
        *(ui_locales or "").split()[:16],
        *([user_locale] if user_locale else []),
        *accept_language(accept),
        default,
    ]
    for candidate in candidates:
        found = _match(candidate.replace("_", "-"), available)
        if found is not None:
            return found
    return "en"
