# The uecflow image: one image for `uecflow worker`, `uecflow gateway` and `uecflow simulate`
# (docker-compose.yml picks the command). Built from the same exact pins as scripts/bootstrap.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid, so that files the containers write into named volumes keep one owner across
# rebuilds; the home directory doubles as the worker's data directory (owned by it, so a named
# volume mounted there starts out writable).
RUN groupadd --system --gid 10001 uecflow \
    && useradd --system --uid 10001 --gid uecflow --home-dir /var/lib/uecflow --create-home \
        --shell /usr/sbin/nologin uecflow

WORKDIR /opt/uecflow
# The same pip as scripts/bootstrap, so that constraints resolve the same way.
RUN python -m pip install --upgrade "pip==25.3"
# Only what the package is built from: tests, samples and benchmarks stay out of the image.
COPY pyproject.toml constraints.txt README.md ./
COPY events ./events
COPY streams ./streams
COPY producers ./producers
COPY uecflow ./uecflow
COPY alerts ./alerts
COPY report ./report
COPY dashboards ./dashboards
RUN python -m pip install --constraint constraints.txt . \
    && rm -rf /opt/uecflow/build

USER uecflow
WORKDIR /var/lib/uecflow
ENTRYPOINT ["uecflow"]
CMD ["--help"]
