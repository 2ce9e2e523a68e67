# visitorsite web image: gunicorn serving Django; Redis is a separate service (see compose).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    BIND=0.0.0.0:8000 \
    DATA_DIR=/app/var

WORKDIR /app

# A fixed numeric id, so hosts and orchestrators (runAsNonRoot) can resolve and check it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-log-init --home-dir /app \
       --shell /usr/sbin/nologin app

# Dependencies first, from the lock (pinned, hash-checked): this layer stays cached until
# requirements.txt changes.
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt

# The code (and the static files built from it) stays root's: the app user can read it and
# write nothing but its data directory, so a compromised worker cannot rewrite the service.
# What is copied is the allow-list in .dockerignore (runtime files only).
COPY . .
# Hashed, compressed static files for WhiteNoise. A throwaway key and data directory: nothing
# from the build may end up in the app's var/ (and its volume).
RUN SECRET_KEY=collectstatic-only DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-data \
    && mkdir -p /app/var && chown app:app /app/var && chmod 0700 /app/var

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# gunicorn's graceful stop (explicit: docker's default, but an orchestrator reads it here).
# `docker stop` waits 10 s before SIGKILL unless told otherwise: give it more than gunicorn's
# graceful timeout (20 s) and the embedded server's save, e.g. `docker stop -t 30`; compose
# sets stop_grace_period.
STOPSIGNAL SIGTERM

# exec form: gunicorn is PID 1 and receives SIGTERM for a graceful shutdown.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "visitorsite.wsgi"]
