"""The two CPU costs the targets are stated in, measured on the server's core in the same run:
one RS256 signature of an access token (joserfc, the provider's own RS256 key) and one Argon2id
verify with the default parameters.

Both are reported as CPU time and as wall time. The targets use CPU time: on a busy machine the
wall time also counts whatever else ran on the core, which would lower the ceilings.

`python -m scripts.bench_run.micro KEYS_DIR SIGNATURES VERIFIES` prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from joserfc import jwt

from provider.crypto.keys import read_keys
from scripts.bench_run.seed import default_argon2


def rsa_signing(keys_dir: Path, count: int) -> dict[str, Any]:
    record = next(r for r in read_keys(keys_dir) if r.alg == "RS256")
    header = {"alg": "RS256", "kid": record.kid, "typ": "at+jwt"}
    now = int(time.time())
    claims = {
        "iss": "http://127.0.0.1:8000",
        "sub": str(uuid.uuid4()),
        "aud": "http://127.0.0.1:8000",
        "client_id": "bench-client-id-0123456789",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "scope": "openid profile email offline_access",
    }
    for _ in range(min(count, 20)):
        jwt.encode(header, claims, record.key)
    began, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        jwt.encode(header, claims, record.key)
    cpu_seconds = (time.process_time() - cpu) / count
    return {
        "signatures": count,
        "cpu_ms": round(cpu_seconds * 1000, 3),
        "wall_ms": round((time.perf_counter() - began) / count * 1000, 3),
        "per_second": round(1 / cpu_seconds, 1),
    }


def argon2_verify(count: int) -> dict[str, Any]:
    time_cost, memory_cost, parallelism = default_argon2()
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    stored = hasher.hash("bench correct horse battery staple")
    hasher.verify(stored, "bench correct horse battery staple")
    began, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        hasher.verify(stored, "bench correct horse battery staple")
    return {
        "verifies": count,
        "params": {"time_cost": time_cost, "memory_cost_kib": memory_cost, "lanes": parallelism},
        "cpu_ms": round((time.process_time() - cpu) / count * 1000, 1),
        "wall_ms": round((time.perf_counter() - began) / count * 1000, 1),
    }


def main() -> None:
    keys_dir, signatures, verifies = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    result = {"rsa": rsa_signing(keys_dir, signatures), "argon2": argon2_verify(verifies)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
