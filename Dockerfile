# The uecflow image: one image for `uecflow worker`, `uecflow gateway` and `uecflow simulate`
# (docker-compose.yml picks the command). Built from the same exact pins as scripts/bootstrap.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid, so that files the containers write into named volumes keep one owner across
# rebuilds. The worker's data directory exists in the image, owned by it: a named volume mounted
# on a missing path would be created root-owned, and the worker could not write its state.
RUN groupadd --system --gid 10001 uecflow \
    && useradd --system --uid 10001 --gid uecflow --home-dir /var/lib/uecflow --create-home \
        --shell /usr/sbin/nologin uecflow \
    && install -d -o uecflow -g uecflow /var/lib/uecflow/worker

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
COPY sitrep ./sitrep
COPY dashboards ./dashboards
RUN python -m pip install --constraint constraints.txt . \
    && rm -rf /opt/uecflow/build

USER uecflow
WORKDIR /var/lib/uecflow
ENTRYPOINT ["uecflow"]
CMD ["--help"]
