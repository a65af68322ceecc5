"""The deployment files agree with the specifications and with the code they deploy.

docker-compose.yml is validated against the Compose specification and the Dockerfile is linted
(hadolint); the Caddyfile is validated and adapted by Caddy itself. Then the files are read as data:
every variable they set or document is one the provider (or Caddy, or Compose) really reads, the
provider's command, port and health check are what the code serves, and the one-shot `migrate`
service runs commands the CLI accepts.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from provider.cli import build_parser, main
from provider.config import Settings
from provider.ops import health

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CADDYFILE = ROOT / "Caddyfile"
ENV_EXAMPLE = ROOT / ".env.example"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Variables that no Settings field reads: they configure Compose or Caddy (documented in
# .env.example all the same).
STACK_VARIABLES = {
    "PROVIDER_DOMAIN",
    "PROVIDER_TLS",
    "PROVIDER_UPSTREAMS",
    "PROVIDER_IMAGE",
    "POSTGRES_PASSWORD",
    "CADDY_ACME_EMAIL",
    "CADDY_ADMIN",
    "CADDY_HTTP_PORT",
    "CADDY_HTTPS_PORT",
    "CADDY_LB_POLICY",
    "CADDY_HEALTH_INTERVAL",
}
PROVIDER_SERVICES = ("provider-1", "provider-2")
# Stand-ins for the required ${...} of the compose file when its values are checked.
SAMPLE_ENV = {"PROVIDER_DOMAIN": "auth.example.com", "POSTGRES_PASSWORD": "pw"}
_INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def tool(name: str) -> str:
    """The path of a command-line tool (the venv's bin first), or skip (fail under CI)."""
    found = shutil.which(
        name, path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    if found is None:
        if IN_CI:
            pytest.fail(f"CI=true but {name} is not installed")
        pytest.skip(f"{name} is not installed")
    return found


def setting_names() -> set[str]:
    return {f"PROVIDER_{name.upper()}" for name in Settings.model_fields}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, as far as these files use them."""

    def value(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        assert operator in (":-", "-"), f"${{{name}}} is required and has no sample value"
        return default

    return _INTERPOLATION.sub(value, text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def _seconds(duration: str) -> float:
    """A Compose duration such as `20s` or `1m30s`, in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): interpolate(str(v), SAMPLE_ENV) for k, v in env.items()}


@dataclass(frozen=True)
class Documented:
    name: str
    value: str
    commented: bool
    section: str


def env_example() -> dict[str, Documented]:
    """`NAME=value` and `#NAME=value` lines of .env.example, each after its own `# ` comment."""
    documented: dict[str, Documented] = {}
    section = ""
    previous = ""
    for number, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), start=1):
        match = re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            name = match.group(2)
            assert previous.startswith("# "), f".env.example:{number}: {name} has no comment"
            assert name not in documented, f".env.example:{number}: {name} twice"
            documented[name] = Documented(name, match.group(3), bool(match.group(1)), section)
        elif line.startswith("# ") and previous.startswith("# ---"):
            section = line[2:].strip()
        previous = line
    return documented


def caddy_placeholders() -> set[str]:
    return set(re.findall(r"\{\$([A-Z0-9_]+)(?::[^}]*)?\}", CADDYFILE.read_text()))


# --- the files against their specifications -------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    checker = tool("check-jsonschema")
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint_without_exceptions() -> None:
    hadolint = tool("hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout
    # A rule may be switched off only inline, with the reason on the comment line above it.
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            reason = lines[number - 1].strip() if number else ""
            assert reason.startswith("#"), f"Dockerfile:{number + 1}: ignore without a reason"
            assert "hadolint" not in reason, f"Dockerfile:{number + 1}: say why above the ignore"
    assert not list(ROOT.glob(".hadolint.y*ml")), "rules are ignored inline, not globally"


def caddy_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Caddy's environment: its storage in tmp_path, never the user's or the system's."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PROVIDER_DOMAIN": "auth.example.com",
        "PROVIDER_UPSTREAMS": "provider-1:8000 provider-2:8000",
        **overrides,
    }


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"PROVIDER_TLS": "acme", "CADDY_ACME_EMAIL": "ops@example.com"}, id="acme"),
        pytest.param({"PROVIDER_TLS": "internal", "PROVIDER_DOMAIN": "localhost:8443"}, id="local"),
        pytest.param({}, id="defaults"),
    ],
)
def test_caddy_validates_the_caddyfile(tmp_path: Path, overrides: dict[str, str]) -> None:
    caddy = tool("caddy")
    result = subprocess.run(
        [caddy, "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=caddy_env(tmp_path, **overrides),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_caddyfile_is_formatted() -> None:
    caddy = tool("caddy")
    result = subprocess.run(
        [caddy, "fmt", str(CADDYFILE)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == CADDYFILE.read_text(), "run `caddy fmt --overwrite Caddyfile`"


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_adapted_caddy_config_does_what_the_issue_asks(tmp_path: Path) -> None:
    caddy = tool("caddy")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=caddy_env(tmp_path, PROVIDER_TLS="internal"),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Unnecessary" not in result.stderr, result.stderr
    config = json.loads(result.stdout)
    nodes = list(_walk(config))
    handlers = {node["handler"]: node for node in nodes if "handler" in node}

    proxy = handlers["reverse_proxy"]
    assert [u["dial"] for u in proxy["upstreams"]] == ["provider-1:8000", "provider-2:8000"]
    # Readiness, not liveness: a draining instance (503) leaves the rotation before it closes.
    assert proxy["health_checks"]["active"]["uri"] == "/ready"
    assert proxy["health_checks"]["passive"]["fail_duration"] > 0
    assert proxy["load_balancing"]["selection_policy"]["policy"] == "least_conn"
    assert proxy["load_balancing"]["try_duration"] > 0
    assert set(handlers["encode"]["encodings"]) == {"zstd", "gzip"}

    headers = [node for node in nodes if node.get("handler") == "headers"]
    response_set = {k: v for h in headers for k, v in h.get("response", {}).get("set", {}).items()}
    assert response_set["Strict-Transport-Security"][0].startswith("max-age=31536000")
    request_set = {k: v for h in headers for k, v in h.get("request", {}).get("set", {}).items()}
    assert request_set["X-Request-Id"] == ["{http.request.uuid}"]

    routes = [node for node in nodes if "handle" in node and "match" in node]
    metrics_routes = [
        route
        for route in routes
        if any("/metrics" in m.get("path", []) for m in route["match"])
        and route["handle"][0]["handler"] == "static_response"
    ]
    assert metrics_routes
    assert metrics_routes[0]["handle"][0]["status_code"] == 404

    log = config["logging"]["logs"]["log0"]
    assert log["encoder"]["wrap"]["format"] == "json"
    assert config["apps"]["tls"]["automation"]["policies"][0]["issuers"] == [{"module": "internal"}]
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False


# --- the compose file against the code ----------------------------------------------------


def test_every_provider_variable_in_compose_is_a_setting(services: dict[str, Any]) -> None:
    known = setting_names() | STACK_VARIABLES
    for name, service in services.items():
        for variable in environment_of(service):
            if variable.startswith("PROVIDER_"):
                assert variable in known, f"{name}: {variable} is read by nothing"


def test_the_provider_environment_is_valid_settings(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in list(os.environ):
        if variable.startswith("PROVIDER_"):
            monkeypatch.delenv(variable)
    for name in (*PROVIDER_SERVICES, "migrate"):
        env = environment_of(services[name])
        values = {k.removeprefix("PROVIDER_").lower(): v for k, v in env.items()}
        settings = Settings(**values, secret_key="s" * 40)  # type: ignore[arg-type]
        assert settings.env == "prod"
        assert settings.issuer == "https://auth.example.com"
        assert settings.secure_cookies, "cookies must be Secure and __Host- behind TLS"
        assert settings.trust_proxy == 1, "exactly one proxy (Caddy) is in front"
        assert settings.database_url.startswith("postgres://provider:pw@postgres:5432/")
        assert settings.redis_url.startswith("redis://redis:6379/")
        assert settings.host == "0.0.0.0"


def test_provider_services_serve_on_the_port_caddy_and_the_health_check_use(
    services: dict[str, Any],
) -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    upstreams = environment_of(services["caddy"])["PROVIDER_UPSTREAMS"].split()
    health_routes = {route.uri for route in health.bp._future_routes}
    assert "/ready" in health_routes
    for name in PROVIDER_SERVICES:
        service = services[name]
        assert service["command"] == ["serve"]
        assert "serve" in commands
        port = environment_of(service)["PROVIDER_PORT"]
        assert service["expose"] == [port]
        assert f"{name}:{port}" in upstreams
        assert "ports" not in service, "only Caddy is reachable from outside"
        check = " ".join(service["healthcheck"]["test"])
        assert "/ready" in check
        drain = float(environment_of(service)["PROVIDER_DRAIN_DELAY"])
        grace = Settings.model_fields["graceful_shutdown_timeout"].default
        assert 0 < drain < grace < _seconds(service["stop_grace_period"])
        assert "PROVIDER_PORT" in check
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["env_file"] == ".env"
    assert len(upstreams) == len(PROVIDER_SERVICES)
    # Only Caddy is reachable from outside; the `monitoring` profile listens on loopback only.
    monitoring = {
        name for name, service in services.items() if "monitoring" in service.get("profiles", [])
    }
    published = [
        name for name, service in services.items() if "ports" in service and name not in monitoring
    ]
    assert published == ["caddy"]
    for name in monitoring:
        for port in services[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port} is not loopback-only"


def test_migrate_applies_migrations_and_creates_the_first_key(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    script = " ".join(migrate["command"])
    assert migrate["entrypoint"] == ["sh", "-c"]
    steps = [shlex.split(step) for step in script.split("&&")]
    assert [step[:2] for step in steps] == [["provider", "migrate"], ["provider", "keys"]]
    for step in steps:
        build_parser().parse_args(step[1:])  # every flag exists
    assert "--if-missing" in steps[1]
    assert migrate.get("restart") == "no"


def test_instances_share_the_keys_volume(services: dict[str, Any], compose: dict[str, Any]) -> None:
    def keys_mounts(service: dict[str, Any]) -> list[str]:
        keys_dir = environment_of(service)["PROVIDER_KEYS_DIR"]
        return [v for v in service["volumes"] if v.split(":")[1] == keys_dir]

    assert keys_mounts(services["migrate"]) == ["keys:/app/keys"]
    for name in PROVIDER_SERVICES:
        assert keys_mounts(services[name]) == ["keys:/app/keys:ro"]
    assert "keys" in compose["volumes"]


def test_backing_services_and_caddy(services: dict[str, Any], compose: dict[str, Any]) -> None:
    postgres, redis, caddy = services["postgres"], services["redis"], services["caddy"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert redis["image"].startswith("redis:7")
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert caddy["image"].startswith("caddy:2")
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert {"caddy_data:/data", "caddy_config:/config"} <= set(caddy["volumes"])
    assert {"pgdata", "caddy_data", "caddy_config"} <= set(compose["volumes"])
    # Every placeholder of the Caddyfile reaches Caddy's container.
    assert caddy_placeholders() <= set(caddy["environment"])


# --- .env.example ------------------------------------------------------------------------


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    documented = env_example()
    settings = setting_names()
    missing = settings - set(documented)
    assert not missing, f"add to .env.example: {sorted(missing)}"
    unknown = set(documented) - settings - STACK_VARIABLES
    assert not unknown, f"read by nothing: {sorted(unknown)}"


def test_env_example_documents_every_variable_of_compose_and_caddy() -> None:
    documented = set(env_example())
    interpolated = set(_INTERPOLATION.findall(COMPOSE.read_text()))
    names = {match[0] for match in interpolated}
    assert names <= documented, sorted(names - documented)
    assert caddy_placeholders() <= documented, sorted(caddy_placeholders() - documented)
    assert documented >= STACK_VARIABLES


def test_env_example_values_are_valid_and_match_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An uncommented default changes nothing; each shown value is one Settings accepts."""
    monkeypatch.chdir(tmp_path)
    for variable in list(os.environ):
        if variable.startswith("PROVIDER_"):
            monkeypatch.delenv(variable)
    defaults = Settings()
    for item in env_example().values():
        if item.name not in setting_names() or not item.value:
            continue
        field = item.name.removeprefix("PROVIDER_").lower()
        extra = {"secret_key": "s" * 40} if field == "env" else {}
        value = getattr(Settings(**{field: item.value, **extra}), field)  # type: ignore[arg-type]
        if item.section.startswith("Set by docker-compose.yml"):
            continue
        if item.commented:
            assert value == getattr(defaults, field), f"{item.name}: not the default"


def test_env_example_leaves_secrets_empty() -> None:
    documented = env_example()
    for name in ("PROVIDER_SECRET_KEY", "POSTGRES_PASSWORD", "PROVIDER_DOMAIN"):
        assert not documented[name].commented, name
        assert documented[name].value == "", f"{name}: no sample value that would pass"


# --- Dockerfile and build context ----------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_dockerfile_builds_a_slim_non_root_image_that_serves() -> None:
    instructions = dockerfile_instructions()
    stages = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(stages) == 2
    assert stages[0].endswith("AS builder")
    args = dict(rest.split("=", 1) for keyword, rest in instructions if keyword == "ARG")
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    final = instructions[last_from:]
    final_text = " ".join(f"{k} {r}" for k, r in final)
    assert "pip install" not in final_text
    assert "apt-get" not in final_text
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    assert any("pip install" in run and "-c constraints.txt" in run for run in runs)
    user = [rest for keyword, rest in final if keyword == "USER"]
    assert user
    assert user[-1].split(":")[0] not in ("root", "0")
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert "PROVIDER_HOST=0.0.0.0" in env
    assert "PROVIDER_KEYS_DIR=/app/keys" in env
    assert ("VOLUME", '["/app/keys"]') in final
    assert ("ENTRYPOINT", '["provider"]') in final
    assert ("CMD", '["serve"]') in final
    healthcheck = next(rest for keyword, rest in final if keyword == "HEALTHCHECK")
    assert "/health" in healthcheck
    assert "PROVIDER_PORT" in healthcheck
    assert "curl" not in healthcheck
    assert "wget" not in healthcheck


def test_dockerignore_keeps_secrets_out_of_the_build_context() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: everything is excluded first"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"constraints.txt", "pyproject.toml", "README.md", "provider", "migrations"}
    copied = {
        part
        for keyword, rest in dockerfile_instructions()
        if keyword == "COPY" and "--from" not in rest
        for part in rest.split()[:-1]
    }
    assert copied == allowed


# --- `keys rotate --if-missing` (the migrate service's second step) -------------------------


def test_keys_rotate_if_missing_creates_only_the_first_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in list(os.environ):
        if variable.startswith("PROVIDER_"):
            monkeypatch.delenv(variable)
    keys = tmp_path / "keys"
    monkeypatch.setenv("PROVIDER_KEYS_DIR", str(keys))

    assert main(["keys", "rotate", "--if-missing", "--delay", "0"]) == 0
    first = sorted(keys.glob("*.json"))
    assert len(first) == 1
    assert "added RS256 key" in capsys.readouterr().out

    assert main(["keys", "rotate", "--if-missing", "--delay", "0"]) == 0
    assert sorted(keys.glob("*.json")) == first
    assert "exists; nothing to do" in capsys.readouterr().out

    # Another algorithm is missing still; without the flag a key is always added.
    assert main(["keys", "rotate", "--if-missing", "--alg", "ES256"]) == 0
    assert len(list(keys.glob("*.json"))) == 2
    assert main(["keys", "rotate", "--delay", "0"]) == 0
    assert len(list(keys.glob("*.json"))) == 3


def test_keys_rotate_if_missing_refuses_a_broken_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "broken.json").write_text("{not json")
    monkeypatch.setenv("PROVIDER_KEYS_DIR", str(keys))
    assert main(["keys", "rotate", "--if-missing"]) == 1
    assert "broken.json" in capsys.readouterr().err
    assert [p.name for p in keys.glob("*.json")] == ["broken.json"]
