"""The self-service account pages beyond the summary: the profile and the connected apps."""

from __future__ import annotations

from provider.web import account_deletion, admin_roles, apps, devices, email_change, profile

BLUEPRINTS = (
    profile.bp,
    email_change.bp,
    devices.bp,
    apps.bp,
    account_deletion.bp,
    admin_roles.bp,
)
