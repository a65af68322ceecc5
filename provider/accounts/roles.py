"""Which roles may use the admin surfaces (the JSON admin API and the hosted admin pages)."""

from __future__ import annotations

ADMIN = ("admin",)
# Auditors read users and the audit trail; they change nothing.
READERS = ("admin", "auditor")
