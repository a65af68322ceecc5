"""The self-service account pages beyond the summary: the profile and the connected apps."""

from __future__ import annotations

from provider.web import apps, devices, profile

BLUEPRINTS = (profile.bp, devices.bp, apps.bp)
