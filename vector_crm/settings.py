"""Django settings for VECTOR CRM, all from environment variables (see README.md).

Embedded mode (the default) needs no servers: SQLite and a Celery filesystem broker under
``var/``. Production sets DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VECTOR_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("VECTOR_REQUIRE_SECRET_KEY", False):
        raise RuntimeError("DJANGO_SECRET_KEY must be set in production")
    # Development/demo only: a stable key so sessions survive restarts of the demo.
    SECRET_KEY = "insecure-dev-key-set-DJANGO_SECRET_KEY-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "vector_crm",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "axes",
    "phonenumber_field",
    "customers",
    "segmentation",
    "campaigns",
    "cases",
    "tasks",
    "opportunities",
    "results",
    "collections_mgmt",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vector_crm.middleware.TenantMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vector_crm.urls"
WSGI_APPLICATION = "vector_crm.wsgi.application"
AUTH_USER_MODEL = "vector_crm.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vector_crm.context_processors.tenancy",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL is what the application connects with. On PostgreSQL it should be a role
# that owns nothing (row-level security applies to it); DATABASE_OWNER_URL, when set, is
# the schema owner used only by `migrate` and the test database set-up.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'vector_crm.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not :memory:, so that a real Celery worker process can share the test DB.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_vector_crm.sqlite3")}

DATABASE_OWNER = None
DATABASE_APP_ROLE = None
if os.environ.get("DATABASE_OWNER_URL"):
    DATABASE_OWNER = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])
    if DATABASE_OWNER["USER"] != DATABASES["default"].get("USER"):
        DATABASE_APP_ROLE = DATABASES["default"].get("USER")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport under var/broker, so a real worker and
# beat run with no server. With REDIS_URL (or CELERY_BROKER_URL) they use Redis.
BROKER_DIR = Path(os.environ.get("VECTOR_BROKER_DIR", VAR_DIR / "broker"))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Exchange tables for broadcasts (remote control, `celery inspect`); kombu's
        # default is a "control" folder in the current directory.
        "control_folder": str(BROKER_DIR / "control"),
    }
# Deployments sharing one Redis (and the real-worker tests) keep their messages apart.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True  # progress and outcome live in vector_crm.Job rows
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and bool(os.environ.get("DJANGO_SECRET_KEY")))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- I18N -----------------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "vector_crm.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["vector_crm.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "vector_crm.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["vector_crm.api.throttling.CredentialRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "vector_crm.api.exceptions.problem_details_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests a minute per API credential (or signed-in user); a tenant may override it
# with settings["api_rate_per_minute"].
# A bulk request carries up to 10,000 records (about 3 MB of JSON); Django's default cap
# (2.5 MB) would refuse the largest ones before validation.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
VECTOR_API_RATE_PER_MINUTE = int(os.environ.get("VECTOR_API_RATE_PER_MINUTE", "1200"))
# Webhook URLs must be https; plain http is accepted for localhost / 127.0.0.1 / [::1]
# receivers only when this is on (development, the tests' local receivers).
VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = env_bool("VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP", DEBUG)
# Webhooks never reach internal addresses (private, loopback, link-local: see
# vector_crm/netguard.py) except these CIDRs, e.g. "10.20.0.0/16,fd00:1::/64" for a bank's
# integration network.
VECTOR_WEBHOOKS_ALLOWED_NETWORKS = env_list("VECTOR_WEBHOOKS_ALLOWED_NETWORKS", "")
# Seconds a delivery run holds the deliveries it claimed; after that the minute sweep
# sends them again (a worker killed mid-POST). Keep it above the 10 s POST timeout.
VECTOR_WEBHOOK_LEASE_SECONDS = int(os.environ.get("VECTOR_WEBHOOK_LEASE_SECONDS", "120"))
SPECTACULAR_SETTINGS = {
    "TITLE": "VECTOR CRM API",
    "DESCRIPTION": "Multi-tenant CRM for financial institutions. Authenticate with "
    "`Authorization: Api-Key <prefix>.<secret>` (per-tenant credential) or a browser session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for a choice set that several fields share (channel, preferred_channel...).
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "customers.choices.Channel",
        "CaseKindEnum": "cases.choices.CaseKind",
        "CaseEventKindEnum": "cases.choices.EventKind",
        "CaseStatusEnum": "cases.choices.Status",
        "CasePriorityEnum": "cases.choices.Priority",
        "CaseChannelEnum": "cases.choices.CaseChannel",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    },
}

# --- Audit ----------------------------------------------------------------------------
AUDITLOG_LOGENTRY_MODEL = "vector_crm.AuditLogEntry"
AUDITLOG_INCLUDE_ALL_MODELS = False

PHONENUMBER_DEFAULT_REGION = os.environ.get("PHONENUMBER_DEFAULT_REGION", "CO")
PHONENUMBER_DB_FORMAT = "E164"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "VECTOR CRM <no-reply@localhost>")
# Absolute links in e-mails (notifications) start with this.
VECTOR_BASE_URL = os.environ.get("VECTOR_BASE_URL", "http://localhost:8000").rstrip("/")

# CASOS: the SLA sweep (cases.jobs.sweep_sla_deadlines), scheduled by beat.
CASES_SLA_SWEEP_BATCH_SIZE = int(os.environ.get("VECTOR_SLA_SWEEP_BATCH_SIZE", "500"))
# Seconds to wait between two batches of one sweep, to spare a loaded database.
CASES_SLA_SWEEP_BATCH_PAUSE = float(os.environ.get("VECTOR_SLA_SWEEP_BATCH_PAUSE", "0"))
