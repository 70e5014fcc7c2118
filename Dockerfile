# Connect: one image for `connect serve`, `connect migrate` and the other CLI commands.
#   docker build -t connect:<version> .
#   docker run -p 8000:8000 --env-file prod.env -v connect-data:/data connect:<version>
#   docker run --env-file prod.env connect:<version> migrate
# Python dependencies come from requirements.prod.lock (hash-pinned, no dev tools); refresh it
# with `uv export --frozen --no-emit-project --no-dev -o requirements.prod.lock` after `make lock`.
# The build stage compiles the relay's hot paths with mypy from requirements.build.lock
# (docs/operations.md, "Compiled hot paths"); the image holds neither mypy nor a compiler.

# --- Stage 1: the web app (React + Vite), built into src/connect/static/ -------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /build
COPY web/package.json web/package-lock.json web/
RUN npm --prefix web ci --no-audit --no-fund --loglevel=error
COPY web/ web/
RUN npm --prefix web run build

# --- Stage 2: the package, its hot paths compiled by mypyc -----------------------------------
# connect.build_compiled needs a C compiler and mypy (requirements.build.lock) and type-checks
# against the runtime dependencies; none of that reaches the image, only the wheel it builds.
FROM python:3.11-slim-bookworm AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/build-venv \
    PATH=/opt/build-venv/bin:$PATH
WORKDIR /opt/connect-src
COPY requirements.prod.lock requirements.build.lock ./
RUN python -m venv /opt/build-venv \
    && pip install --no-cache-dir --require-hashes -r requirements.prod.lock \
    && pip install --no-cache-dir --require-hashes -r requirements.build.lock
COPY pyproject.toml README.md hatch_build.py ./
COPY src/ src/
COPY --from=web /build/src/connect/static/ src/connect/static/
# pyproject includes src/connect/static/** and the compiled modules in the wheel as artifacts.
RUN PYTHONPATH=src python -m connect.build_compiled build --required \
    && pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- Stage 3: the service ---------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
WORKDIR /opt/connect-src
COPY requirements.prod.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.prod.lock

COPY --from=build /wheels/ /opt/connect-src/wheels/
# The web app is in the wheel, and every hot-path module runs compiled (connect.compiled).
RUN pip install --no-cache-dir --no-deps wheels/connect-*.whl \
    && python -c "import connect, pathlib; assert (pathlib.Path(connect.__file__).parent / 'static' / 'index.html').is_file()" \
    && python -m connect.build_compiled status --require-compiled \
    && rm -rf /opt/connect-src

# An unprivileged user with a fixed uid/gid (Kubernetes runAsNonRoot checks the numeric uid).
RUN groupadd --system --gid 10001 connect \
    && useradd --system --uid 10001 --gid connect --home-dir /data --no-create-home --shell /usr/sbin/nologin connect \
    && mkdir -p /data \
    && chown connect:connect /data

ENV CONNECT_ENV=prod \
    CONNECT_DATA_DIR=/data \
    CONNECT_HOST=0.0.0.0 \
    CONNECT_PORT=8000

WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000

# slim has no curl: ask /health with the standard library.
HEALTHCHECK --interval=15s --timeout=4s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3); sys.exit(0 if r.status == 200 else 1)"]

# `docker run IMAGE` serves; `docker run IMAGE migrate` (or audit-verify, create-admin ...) runs
# another subcommand of the same CLI.
ENTRYPOINT ["connect"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
