"""The self-service account API: the user's profile and the apps they connected."""

from __future__ import annotations

from provider.api import account_deletion, consents, email_change, profile

BLUEPRINTS = (profile.bp, email_change.bp, consents.bp, account_deletion.bp)
