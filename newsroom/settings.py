"""Newsroom settings: one module, configured by environment variables (12-factor).

With no environment set the site runs on SQLite under ``var/``, a cache on disk
shared by all its processes (diskcache), kombu's filesystem broker under ``var/``
and a file mail backend, so a developer needs nothing installed. ``DATABASE_URL``,
``REDIS_URL`` and the ``EMAIL_*`` variables switch to PostgreSQL, Redis and a real
mail server.
"""

import ipaddress
import os
import socket
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django_prose_editor.config import html_tags
from js_asset import static_lazy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def media_url(value: str) -> tuple[str, str | None]:
    """MEDIA_URL from its variable, and the origin to allow images from when it is elsewhere.

    A path serves uploads from this site; an http(s) address from object storage
    or a CDN. Anything else is refused at start rather than breaking every image.
    """
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme in {"http", "https"} and parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}"
    elif not parts.scheme and not parts.netloc and value.startswith("/"):
        origin = None
    else:
        raise ImproperlyConfigured(
            f"MEDIA_URL must be a path such as /media/ or an http(s) address, not {value!r}."
        )
    return (value if value.endswith("/") else value + "/"), origin


EDGE_TAG_HEADER_NAMES = ("xkey", "Surrogate-Key", "Cache-Tag")


def edge_settings(
    *, urls: list[str], token: str, seconds: str, tag_headers: list[str]
) -> tuple[list[str], str, int, list[str]]:
    """The edge's settings from their variables, refused at start when they cannot work.

    A purge URL must be an http(s) address, and purges need the token the VCL checks:
    without it every purge would be refused while the edge kept pages for an hour.
    The long edge lifetime is on (3600 s) only when something is told to purge.
    """
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ImproperlyConfigured(
                f"EDGE_PURGE_URLS must list http(s) addresses of Varnish servers, not {url!r}."
            )
    if urls and not token:
        raise ImproperlyConfigured(
            "EDGE_PURGE_TOKEN must be set when EDGE_PURGE_URLS is: Varnish refuses a purge "
            "without it (docs/varnish/newsroom.vcl)."
        )
    lifetime = int(seconds) if seconds.strip() else (3600 if urls else 0)
    if lifetime and not urls:
        raise ImproperlyConfigured(
            "EDGE_CACHE_SECONDS needs EDGE_PURGE_URLS: an edge that is never told of an edit "
            "must not keep pages longer than PAGE_CACHE_PROXY_SECONDS."
        )
    by_lower = {name.lower(): name for name in EDGE_TAG_HEADER_NAMES}
    unknown = [name for name in tag_headers if name.lower() not in by_lower]
    if unknown:
        raise ImproperlyConfigured(
            f"EDGE_TAG_HEADERS may name {', '.join(EDGE_TAG_HEADER_NAMES)}, not {unknown}."
        )
    return urls, token, max(lifetime, 0), [by_lower[name.lower()] for name in tag_headers]


# Security
DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: DEBUG was asked for explicitly, so a throwaway key is acceptable.
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

# The public address of the site. Canonical URLs, feeds, sitemaps and links in
# mails are built from it, never from the request's Host header.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Behind a TLS-terminating proxy (the production set-up) Django must trust its
# X-Forwarded-Proto header to know a request was HTTPS.
if env_bool("SECURE_PROXY_SSL_HEADER", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe health over plain HTTP on the internal network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# The name /healthz and /readyz answer with (X-Node), so that behind a load balancer
# an operator sees which web node answered. Several nodes on one host need one each.
NODE_NAME = os.environ.get("NODE_NAME") or socket.gethostname()
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp): every script, style, font and image comes
# from this origin, nothing inline. NONCE adds a per-request nonce only to the pages
# that ask for one (``request.csp_nonce``): the article form, whose rich-text editor
# needs an inline import map and the base style element of its editor library.
# Public pages never ask, so their header stays the same for every visitor.
# Uploads (hero images) are under MEDIA_URL: this site, or the storage or CDN
# whose address it names, which img-src then allows too.
MEDIA_URL, MEDIA_ORIGIN = media_url(os.environ.get("MEDIA_URL", "/media/"))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # data: for Bootstrap's and the admin's inline SVG icons.
        "img-src": [SELF, "data:", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Admin login brute force (django-axes): after AXES_FAILURE_LIMIT wrong passwords
# for one username from one client address, that pair is locked out for the
# cool-off time (HTTP 429), counted in the database; other users and addresses
# are unaffected. The address is the one the contact limits use (newsroom/http.py),
# so it honours TRUSTED_PROXY_COUNT. `python manage.py axes_reset` lifts every lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "newsroom.http.client_ip"
AXES_RESET_ON_SUCCESS = True  # a correct password clears the earlier failures
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
# Its record of each successful login is personal data: a daily beat task
# (newsroom.prune_login_records) deletes those older than this.
LOGIN_RECORD_DAYS = int(os.environ.get("LOGIN_RECORD_DAYS", "30"))

# Application definition
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_prose_editor",
    "reversion",
    "reversion_compare",
    "adminsortable2",
    "csp",
    "axes",
    "articles",
    "contact",
    "newsroom.edge",
]

MIDDLEWARE = [
    # Outermost: drops a HEAD response's body once every header is final.
    "newsroom.middleware.HeadWithoutBodyMiddleware",
    # Then: request id, request log and metrics also cover the redirects of the rest.
    "newsroom.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything that may query: the statement budget of public requests, and
    # the 503 page when the database cannot answer.
    "newsroom.middleware.DatabaseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "newsroom.middleware.StaffCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "newsroom.context_processors.site",
            ],
        },
    },
]

# Database
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'newsroom.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Seconds a process waits for PostgreSQL to accept a connection: a database that hangs
# instead of refusing costs a page this long (then the 503 page), not gunicorn's
# 30 s worker timeout. A connect_timeout in DATABASE_URL's query string wins.
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
# The longest one statement of a public request may run on PostgreSQL (a query waiting
# for a lock or on a bad plan) before it is cancelled and the visitor gets the 503 page;
# 0 for no limit. The admin, management commands and Celery tasks run without it
# (newsroom/db.py).
DATABASE_STATEMENT_TIMEOUT_MS = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "5000"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": DATABASE_CONNECT_TIMEOUT,
        **DATABASES["default"].get("OPTIONS", {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes write to the embedded SQLite file (two gunicorn workers, the
    # Celery worker). A transaction that reads before it writes would otherwise fail at
    # once with "database is locked" when another holds the write lock: take the lock
    # when the transaction begins and wait for it. WAL lets readers go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache
REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds a cache call waits for Redis before the site carries on without it (pages are
# rendered, not stored): a Redis that is down or unreachable must not hold up a visitor.
CACHE_REDIS_TIMEOUT = float(os.environ.get("CACHE_REDIS_TIMEOUT", "1"))
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis rather than Django's own Redis backend: Django's builds a new
            # redis-py client for every cache call, which costs more than the loopback
            # round trip itself (a page-cache hit makes one or two calls); django-redis
            # keeps its client and pool, and hands the client to the page cache's
            # pub/sub (``get_redis_connection``).
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "newsroom"),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": CACHE_REDIS_TIMEOUT,
                "SOCKET_TIMEOUT": CACHE_REDIS_TIMEOUT,
            },
        }
    }
else:
    # Embedded: one store on disk (SQLite files, made for several processes) that every
    # process of `make run` shares, each gunicorn worker, the Celery worker, beat and
    # manage.py alike, with atomic increments: an edit invalidates the pages of all of
    # them, as on Redis. Never a per-process memory cache, which each worker would keep
    # stale on its own.
    CACHES = {
        "default": {
            "BACKEND": "diskcache.DjangoCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "newsroom"),
            # How long a call waits for another process's write before it gives up;
            # a read that gives up counts as a miss, so wait rather than miss.
            "DATABASE_TIMEOUT": 1.0,
            # Nothing is evicted before it expires: a page-cache tag lost to eviction
            # would make the pages that carry it look fresh.
            "OPTIONS": {"eviction_policy": "none"},
        }
    }

# Sessions live on the server (database), never in signed cookies.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Celery
# The embedded broker's URL names a host only because kombu warns at every connection
# of a URL without one; the filesystem transport itself ignores it.
EMBEDDED_BROKER_URL = "filesystem://localhost/"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or EMBEDDED_BROKER_URL
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_URL = EMBEDDED_BROKER_URL
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded broker: folders under var/ that a separate worker process can share.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# A task still running when its hard time limit passes is killed. A mail send is a few
# SMTP round trips of at most EMAIL_TIMEOUT each; a send cut off at the soft limit leaves
# its row queued and the outbox sweep sends it again. Enforced by the prefork pool.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "60"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "90"))
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport with a worker that survives losing Redis while it holds a
    # task unacknowledged (newsroom/broker.py).
    CELERY_BROKER_TRANSPORT = "newsroom.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Fail fast when Redis is unreachable: a visitor's request is waiting. No
        # connection retries when publishing either (kombu would spend ~6 s on them):
        # a mail that cannot be enqueued stays queued for the outbox sweep. Workers
        # reconnect on their own terms (broker_connection_max_retries).
        "socket_connect_timeout": 3,
        "max_retries": 0,
        # Redis gives a task that was delivered but not acknowledged to another worker
        # after this many seconds. It must outlast the longest task (the hard time limit)
        # and the longest retry countdown (CONTACT_MAIL_RETRY_MAX), or a task still running
        # or waiting for its retry runs twice; newsroom/celery.py refuses to start when it
        # does not. Longer waits never travel through Redis as ETAs: the outbox sweep
        # re-enqueues from the database instead.
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    }
# Acknowledge a mail task when it has run, not when it arrives, and hand it back to the
# broker when its worker process dies (acks_late + reject_on_worker_lost): a mail in
# hand when a worker is killed is sent by another one. Set per task on the two mail
# tasks (contact/tasks.py), which are idempotent; a new task opts in once it is too.
#
# Two queues, so notifications and housekeeping never hold up the code a visitor is
# waiting for. A worker serves both unless told otherwise (`-Q email,default`);
# `-Q email` on a worker of its own keeps codes fast whatever else is queued.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = {
    "email": {"exchange": "email", "routing_key": "email"},
    "default": {"exchange": "default", "routing_key": "default"},
}
CELERY_TASK_ROUTES = {
    "contact.send_verification_code": {"queue": "email"},
    "contact.notify_editors": {"queue": "default"},
    "contact.outbox_sweep": {"queue": "default"},
    "contact.purge_verifications": {"queue": "default"},
    "newsroom.prune_login_records": {"queue": "default"},
    "articles.make_picture_sizes": {"queue": "default"},
    "articles.picture_sizes_sweep": {"queue": "default"},
    "edge.purge": {"queue": "default"},
    "edge.purge_sweep": {"queue": "default"},
}
# Each worker process reserves one task at a time: with late acknowledgement a task
# waits in a busy process only while another could have sent it.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On SIGQUIT (and SIGTERM with REMAP_SIGTERM=SIGQUIT, as in the Procfile) a worker
# finishes the mail in hand for up to this many seconds, then gives unfinished tasks
# back to the broker. Keep it below the process manager's kill timeout.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = float(
    os.environ.get("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", "20")
)
# A connection lost mid-task means the task cannot be acknowledged and will be
# redelivered: cancel it rather than send twice (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A worker that starts before Redis keeps trying to connect instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How often beat runs the outbox sweep, which re-enqueues mail a broker outage left behind.
OUTBOX_SWEEP_SECONDS = float(os.environ.get("OUTBOX_SWEEP_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "contact.outbox_sweep", "schedule": OUTBOX_SWEEP_SECONDS},
    "purge-verifications": {"task": "contact.purge_verifications", "schedule": 60.0 * 60},
    "prune-login-records": {"task": "newsroom.prune_login_records", "schedule": 60.0 * 60 * 24},
    # Pictures a lost task left without their sized versions (articles/pictures.py).
    "picture-sizes-sweep": {"task": "articles.picture_sizes_sweep", "schedule": 60.0 * 5},
}
# Tasks outside the apps, which autodiscovery does not look at.
CELERY_IMPORTS = ["newsroom.tasks"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"

# Email
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    # Developers read sent mail as files under var/mail/.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Newsroom <newsroom@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
CONTACT_RECIPIENTS = env_list("CONTACT_RECIPIENTS")

# Contact flow: the rules live in contact/services.py; these numbers tune them.
CONTACT_CODE_TTL = 10 * 60  # a code works for this many seconds after it is sent
CONTACT_VERIFIED_TTL = 30 * 60  # time to write the message once verified
CONTACT_MAX_WRONG_TRIES = 5  # the 5th wrong code ends the verification
CONTACT_RESEND_COOLDOWN = 60
CONTACT_MAX_RESENDS = 3
CONTACT_CODES_PER_EMAIL_PER_HOUR = int(os.environ.get("CONTACT_CODES_PER_EMAIL_PER_HOUR", "5"))
CONTACT_VERIFICATIONS_PER_IP_PER_HOUR = int(
    os.environ.get("CONTACT_VERIFICATIONS_PER_IP_PER_HOUR", "20")
)
CONTACT_CHECKS_PER_IP_PER_HOUR = int(os.environ.get("CONTACT_CHECKS_PER_IP_PER_HOUR", "60"))
# How many reverse proxies in front of the site append to X-Forwarded-For. 0: the
# header is ignored and REMOTE_ADDR is the client, so nobody can forge their address.
CONTACT_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# Step 1 sent sooner than this after the page was served is a bot. Short enough
# for a browser that autofills the name and address and a visitor who clicks at once.
CONTACT_MIN_FORM_SECONDS = 1
# Queued longer than this (seconds): the outbox sweep (OUTBOX_SWEEP_SECONDS) re-enqueues it.
CONTACT_OUTBOX_STALE_AFTER = int(os.environ.get("CONTACT_OUTBOX_STALE_AFTER", str(2 * 60)))
# Mail tasks retry transient SMTP/connection errors with capped exponential backoff
# and jitter, then mark the row failed: the first attempt and up to MAX_RETRIES more,
# counted on the row (contact/services.py). Retry n (0-based) waits between half and
# all of min(BASE * 2**n, MAX) seconds: with the defaults the 13 attempts span 5-10
# minutes, and a mail waits at most a minute once the mail server is back.
CONTACT_MAIL_MAX_RETRIES = int(os.environ.get("CONTACT_MAIL_MAX_RETRIES", "12"))
CONTACT_MAIL_RETRY_BASE = float(os.environ.get("CONTACT_MAIL_RETRY_BASE", "10"))
CONTACT_MAIL_RETRY_MAX = float(os.environ.get("CONTACT_MAIL_RETRY_MAX", "60"))

# Passwords
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalization
LANGUAGE_CODE = "en-gb"
# The newsroom's own time zone: the admin takes and shows publish times in it.
TIME_ZONE = os.environ.get("NEWSROOM_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True
# DATETIME_FORMAT and DATE_FORMAT for the site and the admin alike (newsroom/formats/):
# a locale's own formats win over the settings of those names.
FORMAT_MODULE_PATH = ["newsroom.formats"]

# Static files and uploads
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain finders while developing.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("STATIC_NO_MANIFEST")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
WHITENOISE_USE_FINDERS = DEBUG or env_bool("STATIC_NO_MANIFEST")
# The largest picture an editor may upload (articles/pictures.py). The admin's own
# request limit in front of the site (docs/nginx/newsroom.conf: 10m) must stay above it.
PICTURE_MAX_UPLOAD_MB = int(os.environ.get("PICTURE_MAX_UPLOAD_MB", "8"))

# The body editor's own tools (articles/static/articles/admin/body-editor.js): pictures of
# the library and links to our stories, and spell-checking. What they write is what the
# sanitizer allows (articles/sanitize.py, the body's own sanitizer).
DJANGO_PROSE_EDITOR_EXTENSIONS = [
    {
        # Resolved when the form is rendered (the hashed name in production).
        "js": [static_lazy("articles/admin/body-editor.js")],
        "extensions": {
            "NewsroomPicture": html_tags(
                ["figure", "img", "figcaption", "span"],
                {"img": ["src", "alt", "width", "height", "data-picture"], "span": ["class"]},
            ),
            "StoryLink": html_tags(["a"], {"a": ["href", "title", "data-article"]}),
            "BodyEditorAttributes": html_tags([]),
        },
    }
]

# Forms
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Newsroom
# History's compare view tells a byline or other foreign key changed by its id, not by
# the whole version (which would list it as changed in every comparison).
REVERSION_COMPARE_FOREIGN_OBJECTS_AS_ID = True
SITE_NAME = os.environ.get("SITE_NAME", "Newsroom")
ARTICLES_PER_PAGE = 20
# The review step: only users with the "Can publish articles" permission (the Chief
# editors group, superusers) may publish or schedule; other editors ask for review.
# Off: whoever may change articles may publish them, as before the review step.
ARTICLE_REVIEW_REQUIRED = env_bool("ARTICLE_REVIEW_REQUIRED", default=True)
# PostgreSQL cancels a search that takes longer; the visitor is asked to refine it.
# Never longer than DATABASE_STATEMENT_TIMEOUT_MS, which also applies when this is 0.
SEARCH_TIME_LIMIT_MS = int(os.environ.get("SEARCH_TIME_LIMIT_MS", "500"))
# How long a share link (a draft or a story's unpublished changes, readable without
# an admin login) works after an editor made it. "Revoke share links" ends them sooner.
SHARE_LINK_HOURS = float(os.environ.get("SHARE_LINK_HOURS", "48"))

# Page cache (newsroom/pagecache/): public pages are stored whole in the cache and
# invalidated when an edit touches what they show. PAGE_CACHE_SECONDS bounds how long
# a stored page lives (0 turns the page cache off: every request renders);
# PAGE_CACHE_PROXY_SECONDS is the s-maxage a reverse proxy or CDN may keep a page for,
# since the site cannot invalidate those (a Varnish it purges keeps pages for
# EDGE_CACHE_SECONDS instead, below). Browsers always revalidate (ETag, 304).
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "600"))
PAGE_CACHE_PROXY_SECONDS = int(os.environ.get("PAGE_CACHE_PROXY_SECONDS", "10"))
# Each web process also keeps the pages it served lately in its own memory, up to
# this many bytes of HTML, so that a hit usually needs no Redis call at all.
PAGE_CACHE_LOCAL_BYTES = int(os.environ.get("PAGE_CACHE_LOCAL_BYTES", str(32 * 1024 * 1024)))
# Stored pages belong to the release that rendered them, so a deploy never serves the
# previous release's pages. Empty: a digest of the templates and the project's code,
# worked out as each process starts (newsroom/pagecache/release.py).
RELEASE_ID = os.environ.get("RELEASE_ID", "")
# The edge: Varnish servers in front of the site, told of every edit (newsroom/edge/).
# Every public page names what it shows in an "xkey" header (and, when EDGE_TAG_HEADERS
# says so, Fastly's Surrogate-Key and Cloudflare's Cache-Tag); each bump of the page
# cache also sends a PURGE of its tags to each EDGE_PURGE_URLS (comma-separated, e.g.
# http://10.0.0.5:6081/), carrying EDGE_PURGE_TOKEN in X-Purge-Token, through an outbox
# in the database. Only with purge configured do pages also get "Surrogate-Control:
# max-age=EDGE_CACHE_SECONDS" (default 3600, capped by the page's next scheduled
# change), which Varnish keeps them for; browsers and other proxies keep Cache-Control.
EDGE_PURGE_URLS, EDGE_PURGE_TOKEN, EDGE_CACHE_SECONDS, EDGE_TAG_HEADERS = edge_settings(
    urls=env_list("EDGE_PURGE_URLS"),
    token=os.environ.get("EDGE_PURGE_TOKEN", ""),
    seconds=os.environ.get("EDGE_CACHE_SECONDS", ""),
    tag_headers=env_list("EDGE_TAG_HEADERS", "xkey"),
)
# Seconds a PURGE waits for Varnish to connect and answer; then it is retried.
EDGE_PURGE_TIMEOUT = float(os.environ.get("EDGE_PURGE_TIMEOUT", "5"))
# How often beat sends purges a broker outage or a lost task left unsent, and how old
# an unsent purge must be before the sweep takes it (its own task may still run).
EDGE_PURGE_SWEEP_SECONDS = float(os.environ.get("EDGE_PURGE_SWEEP_SECONDS", "30"))
EDGE_PURGE_STALE_AFTER = float(os.environ.get("EDGE_PURGE_STALE_AFTER", "10"))
CELERY_BEAT_SCHEDULE["edge-purge-sweep"] = {
    "task": "edge.purge_sweep",
    "schedule": EDGE_PURGE_SWEEP_SECONDS,
}
# Set on browsers of signed-in staff while they use the admin (newsroom/middleware.py):
# their requests skip every cache, the site's and the proxy's.
STAFF_COOKIE_NAME = "newsroom_staff"

# Logging: one line per event on stderr; the process manager collects it. The
# bracket names the web request (req=, also sent back as X-Request-ID) or the
# Celery task (task=, with the request that enqueued it): see newsroom/observability.py.
# The worker and beat log the same way, at LOG_LEVEL (Celery's --loglevel is ignored).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "newsroom.observability.ContextFilter"},
        # No line holds a full email address, whoever logs it: j***@example.com.
        "mask_emails": {"()": "newsroom.observability.MaskEmailsFilter"},
    },
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["context", "mask_emails"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Every line goes through "console". Django's default handlers on its two (a
    # console with DEBUG, runserver's lines) would write lines a second time,
    # unmasked, and so would the one redis-py gives "push_response" when a pubsub
    # starts (the page cache's), unless the logger exists already.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "push_response": {"handlers": [], "propagate": True},
    },
}

# Metrics: Prometheus text format at /metrics (newsroom/metrics.py), answered only
# to requests straight from these networks (not through the proxy) or carrying
# "Authorization: Bearer <METRICS_TOKEN>"; everyone else gets a 404.
METRICS_ALLOWED_IPS = [
    str(ipaddress.ip_network(network, strict=False))
    for network in env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
]
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# With several processes (gunicorn workers, Celery pool children) set
# PROMETHEUS_MULTIPROC_DIR to an empty folder shared by the processes of one
# machine: /metrics then sums them all (prometheus-client's multiprocess mode).
