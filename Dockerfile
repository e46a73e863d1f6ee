# syntax=docker/dockerfile:1
#
# The gateway image: a multi-stage build on python:3.11-slim, running as a non-root user.
#
#   builder  installs the runtime dependencies (one cached layer, rebuilt only when
#            pyproject.toml changes), then the gateway itself, into /opt/venv.
#   runtime  copies only that venv: no compiler, no pip cache, no tests, corpus or bench.
#
# Build:  docker build -t genai-gateway:local .
# Run:    docker run --rm -p 8080:8080 -v "$PWD/config.yaml:/etc/gateway/config.yaml:ro" \
#           -e OPENAI_API_KEY genai-gateway:local
# Provider keys come from the environment at run time; nothing secret is baked in.

FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

WORKDIR /src
RUN python -m venv /opt/venv

# Dependencies first, read from pyproject.toml, so a source change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install --no-cache-dir -r requirements.txt

# Only the runtime packages (corpus/, bench/, fakeupstream/ and tests/ never ship).
COPY schemas/ schemas/
COPY guards/ guards/
COPY proxy/ proxy/
RUN pip install --no-cache-dir --no-deps .


FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="genai-gateway" \
      org.opencontainers.image.description="A hardened, OpenAI-compatible front door for every LLM call." \
      org.opencontainers.image.licenses="Apache-2.0"

# TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="" keeps presidio's URL recognizer from fetching anything.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOME=/home/gateway \
    TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=""

RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --create-home --home-dir /home/gateway \
        --shell /usr/sbin/nologin gateway \
    && mkdir -p /etc/gateway

# Owned by root and read-only for the gateway user: the process cannot modify its own code.
COPY --from=builder /opt/venv /opt/venv

USER 10001:10001
WORKDIR /home/gateway
EXPOSE 8080

# curl is not in the slim image; the interpreter is. urlopen raises on a non-2xx status.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]

STOPSIGNAL SIGTERM
CMD ["gateway", "serve", "--config", "/etc/gateway/config.yaml", "--host", "0.0.0.0", "--port", "8080"]
