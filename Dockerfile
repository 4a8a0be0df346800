# naftiko-runtime as a small container image that runs as a non-root user.
#   docker build -t naftiko-runtime:0.1.0 .
#   docker run --rm -p 8080:8080 -p 9090:9090 -e KOMBO_API_KEY naftiko-runtime:0.1.0
# Every `naftiko serve` option can be set as a NAFTIKO_* variable (`naftiko serve --help`), for
# example -e NAFTIKO_WORKERS=2. Mount other capability files over /capabilities.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# The README's install command, without -e: the sources are removed once installed.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && cd / && rm -rf /build

COPY capabilities /capabilities

RUN groupadd --system --gid 10001 naftiko \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin naftiko
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
WORKDIR /

# Inside a container loopback is unreachable from outside: listen on every interface.
ENV NAFTIKO_HOST=0.0.0.0
# REST and MCP ports of the seed capability (capabilities/kombo.yaml).
EXPOSE 8080 9090

# No HEALTHCHECK: the ports depend on the capabilities served, and orchestrators probe /healthz
# and /readyz themselves (deploy/kubernetes/deployment.yaml).
CMD ["naftiko", "serve", "/capabilities"]
