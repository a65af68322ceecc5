"""`provider serve` imports, before /health answers, none of the libraries that only a later
feature needs: passkey ceremonies (py_webauthn), account creation (email-validator) and upstream
sign-ins (httpx, which brings its command line's rich and pygments). The cold start itself is
measured by `scripts/bench`, not asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import ROOT

LATER = ("webauthn", "email_validator", "httpx", "rich", "pygments")

PROBE = """
import json, sys
import provider.cli
from provider.app import create_app
from provider.config import Settings
create_app(Settings(issuer="http://127.0.0.1:8000"))
later = sys.argv[1].split(",")
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(later))))
"""


def test_serving_imports_no_library_only_a_later_feature_needs() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(LATER)],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []
