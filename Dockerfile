# callwatch: one image for the collector, the dashboard and the weekly report.
#   docker build -t callwatch .
#   docker compose up -d            (see docker-compose.yml and .env.example)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Build from a throwaway folder so the sources do not stay in the image.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY callwatch ./callwatch
RUN pip install . && cd / && rm -rf /src

# Never run as root: the collector talks to the PBX and the dashboard to browsers.
# Relative paths in the settings (data/, reports/) land in the volume below.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/callwatch callwatch
COPY config/callwatch.example.yaml /etc/callwatch/callwatch.example.yaml
WORKDIR /var/lib/callwatch
USER callwatch
VOLUME ["/var/lib/callwatch"]

# The dashboard's port (dashboard.port in callwatch.yaml, default 8050).
EXPOSE 8050

# The dashboard's login page answers; docker-compose.yml gives the collector its own check.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "callwatch.healthcheck", "dashboard"]

CMD ["callwatch", "dashboard", "--host", "0.0.0.0"]
