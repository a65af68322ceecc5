# syntax=docker/dockerfile:1
# The provider as a container image: `docker build -t provider .`, then `docker compose up`
# (docker-compose.yml) or `docker run provider serve`. The README's "Deployment" section says more.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: a virtualenv with the project and its dependencies, pinned by constraints.txt ---
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, so that a code change does not reinstall them. Every dependency has a
# wheel for this platform: no compiler is needed, not even here.
COPY constraints.txt pyproject.toml README.md ./
COPY provider ./provider
COPY migrations ./migrations
RUN pip install --no-cache-dir -c constraints.txt . \
    && python -m compileall -q /opt/venv

# --- final: the slim base, the virtualenv, a user without privileges; no build tools ---
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="provider" \
      org.opencontainers.image.description="Self-hosted OAuth 2.1 / OpenID Connect provider"

RUN groupadd --system --gid 10001 provider \
    && useradd --system --uid 10001 --gid provider --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin provider \
    && mkdir -p /app/keys /app/var \
    && chown -R provider:provider /app \
    && chmod 0700 /app/keys

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROVIDER_HOST=0.0.0.0 \
    PROVIDER_PORT=8000 \
    PROVIDER_KEYS_DIR=/app/keys \
    PROVIDER_LOG_FORMAT=json

WORKDIR /app
USER 10001:10001

# Signing keys: share this volume between every instance (and the one-shot `migrate` service).
VOLUME ["/app/keys"]
EXPOSE 8000

# Liveness without curl: the standard library asks /health on the port the server listens on.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PROVIDER_PORT', '8000'), timeout=2)"]

# `serve` applies pending migrations and answers on PROVIDER_HOST:PROVIDER_PORT; SIGTERM drains
# in-flight requests for PROVIDER_GRACEFUL_SHUTDOWN_TIMEOUT seconds; SIGHUP re-reads the keys.
ENTRYPOINT ["provider"]
CMD ["serve"]
