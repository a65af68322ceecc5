"""The answer of an OAuth endpoint whose security check cannot be made right now."""

from __future__ import annotations

from provider.cache.fallback import RETRY_AFTER
from provider.errors import OAuthError


def temporarily_unavailable() -> OAuthError:
    """503 with Retry-After: the denylist or replay cache is unreachable, so fail closed.

    `temporarily_unavailable` is the RFC 6749 §4.1.2.1 code for this condition.
    """
    return OAuthError(
        "temporarily_unavailable",
        "The service cannot check this request right now; try again shortly.",
        status=503,
        headers={"Retry-After": str(int(RETRY_AFTER))},
    )
