"""Settings of the registry, read from the environment (DESIGN §8).

The file fails closed: DEBUG is off unless the environment turns it on, there is
no production SECRET_KEY, and a value that does not parse raises
ImproperlyConfigured naming the variable.
"""

import os
import re
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_seconds(name: str, default: float, *, minimum: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value >= minimum or value == float("inf"):
        raise ImproperlyConfigured(f"{name} must be at least {minimum} seconds and finite, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

# The registry's own commands (`run_witness` too, DESIGN §11) serve no request
# and sign nothing with SECRET_KEY (only with key files), so with DEBUG off they
# get a throwaway one when it is unset (README "Try it" in a fresh shell). The
# server and Django's commands still require it. tests/config/test_settings.py
# keeps the list equal to the commands the apps ship.
KEYLESS_COMMANDS = frozenset(
    """
    add_witness compromise_key create_agreement create_api_key create_authority create_authority_key
    create_country_admin create_credential_type create_regulator import_jwks integrate_audit_log
    issue_credential load_demo proposals register_merchant reinstate_credential retire_key
    retire_witness revoke_credential rotate_audit_log_key rotate_registry_key run_demo_witnesses
    run_witness set_agreement_status set_authority_status set_merchant_status suspend_credential
    verify_audit_log verify_evidence
    """.split()  # noqa: SIM905 (one line per command would take the module over its 400-line cap)
)
_COMMAND = sys.argv[1] if len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py" else None

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and _COMMAND in KEYLESS_COMMANDS:
    SECRET_KEY = secrets.token_urlsafe(50)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Its widget templates, for FORM_RENDERER below.
    "django.forms",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "simple_history",
    "axes",
    # The registry's apps, each depending only on those above it (README, Layout).
    "accounts",
    "identity",
    "recognition",
    "witness",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    # Before anything reads the body; after the two above, so that its 413
    # carries the security headers too.
    "config.middleware.BodySizeLimitMiddleware",
    "config.middleware.ApiNotFoundMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "recognition" / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Widgets render through TEMPLATES, so that templates/ can override one of the
# admin's (admin/widgets/split_datetime.html: labelled date and time inputs).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"


def _database() -> dict:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured("DATABASE_URL names no supported database engine")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # SQLite: persistent connections are per thread; a busy timeout avoids
        # "database is locked" under the development server's threads.
        # BEGIN IMMEDIATE takes SQLite's single write lock at the start of each
        # transaction, which serializes audit appends (and avoids the deadlock
        # of two readers both upgrading to writers). Write-ahead logging: a
        # commit is one append and one fsync of the log (still durable), not a
        # rollback journal's several, and readers never wait for the writer.
        config.setdefault("OPTIONS", {}).update(
            {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL"}
        )
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL: no JIT compilation. The registry runs short indexed
        # queries; when the planner overestimates one (a small table not yet
        # analyzed), compiling it costs hundreds of milliseconds for nothing.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Admin logins are limited by django-axes (the API uses API keys, never a
# password): AXES_FAILURE_LIMIT failures for one username from one address
# lock that pair out for AXES_COOLOFF_MINUTES, with HTTP 429 and a page that
# says so (config/middleware.py); a successful login clears the count.
# Attempts are kept in the database, so every worker sees the same count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "config.middleware.lockout_response"
# Behind TRUSTED_PROXY_COUNT reverse proxies the address is taken from
# X-Forwarded-For, that many entries from the right (config.middleware.client_ip);
# 0: REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"
# Unlock with `manage.py axes_reset_username USERNAME` (or axes_reset); the
# attempt tables stay out of the role-scoped admin. No start-up banner: the
# management commands' output stays theirs.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Instants with seconds and zone on every page (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The project's own: the admin's accessibility fixes (static/registry/).
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Request bodies over 1 MiB are refused (DESIGN §10), and so is a form or
# query string of more than 500 fields (Django answers 400): the admin's
# largest form, a changelist page of 100 selected rows, is far below it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500

# Security: secure cookies and HSTS in production (behind TLS).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Preload is what `check --deploy` asks for (security.W021); a deployment that
# cannot commit every subdomain to HTTPS sets SECURE_HSTS_PRELOAD=0.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# The registry's own rules (DESIGN §4, §5, §8).
REGISTRY = {
    "VERIFY_LEEWAY_SECONDS": env_int("VERIFY_LEEWAY_SECONDS", 60),
    "MAX_TOKEN_BYTES": env_int("MAX_TOKEN_BYTES", 8192, minimum=64),
    "MAX_CREDENTIAL_LIFETIME_DAYS": env_int("MAX_CREDENTIAL_LIFETIME_DAYS", 400, minimum=1),
    "SIGNING_KEY_PATH": os.environ.get("REGISTRY_SIGNING_KEY", str(BASE_DIR / "var" / "registry-signing-key.pem")),
    # The `iss` of the trust lists the registry signs, and how long one is valid.
    "ISSUER": os.environ.get("REGISTRY_ISSUER", "https://registry.example"),
    "TRUST_LIST_TTL_SECONDS": env_int("TRUST_LIST_TTL_SECONDS", 86400, minimum=60),
}

# Token Status Lists (draft-ietf-oauth-status-list-20): entries per list (2
# bits each: 1,048,576 entries = 262,144 bytes), the `ttl` readers may cache
# one for, and its lifetime (`exp` - `iat`), which is at least the ttl.
STATUS_LIST_SIZE = env_int("STATUS_LIST_SIZE", 1_048_576, minimum=4)
if STATUS_LIST_SIZE % 4:
    raise ImproperlyConfigured(f"STATUS_LIST_SIZE must be a multiple of 4, not {STATUS_LIST_SIZE}")
STATUS_LIST_TTL_SECONDS = env_int("STATUS_LIST_TTL_SECONDS", 300, minimum=1)
STATUS_LIST_LIFETIME_SECONDS = env_int("STATUS_LIST_LIFETIME_SECONDS", 86400, minimum=1)
if STATUS_LIST_LIFETIME_SECONDS < STATUS_LIST_TTL_SECONDS:
    raise ImproperlyConfigured(
        f"STATUS_LIST_LIFETIME_SECONDS ({STATUS_LIST_LIFETIME_SECONDS}) must be at least "
        f"STATUS_LIST_TTL_SECONDS ({STATUS_LIST_TTL_SECONDS})"
    )


# The audit log, a transparency log (DESIGN §6). Its key signs checkpoints and
# receipts; the origin is the checkpoints' first line and the key's name.
def _log_origin() -> str:
    origin = os.environ.get("AUDIT_LOG_ORIGIN", "").strip()
    if not origin:
        host = urlsplit(REGISTRY["ISSUER"]).hostname
        if not host:
            raise ImproperlyConfigured("REGISTRY_ISSUER has no host to name the audit log by; set AUDIT_LOG_ORIGIN")
        origin = f"{host}/audit"
    if any(char.isspace() or char == "+" for char in origin) or not origin.isprintable():
        raise ImproperlyConfigured(f"AUDIT_LOG_ORIGIN must have no spaces and no '+', not {origin!r}")
    return origin


AUDIT_LOG = {
    "KEY_PATH": os.environ.get("AUDIT_LOG_KEY", str(BASE_DIR / "var" / "audit-log-key.pem")),
    "ORIGIN": _log_origin(),
    # A new checkpoint at most this often, whenever the tree has grown.
    "CHECKPOINT_SECONDS": env_seconds("AUDIT_CHECKPOINT_SECONDS", 1.0, minimum=0.05),
    # The maximum merge delay: /healthz answers 503 while an entry older than
    # this is in no signed checkpoint.
    "MAX_MERGE_SECONDS": env_seconds("AUDIT_MAX_MERGE_SECONDS", 10.0, minimum=1.0),
    # "thread": each web process runs the integrator in a thread (one at a
    # time integrates: the log's lock); "off": `manage.py integrate_audit_log`
    # runs it apart.
    "INTEGRATOR": os.environ.get("AUDIT_INTEGRATOR", "thread"),
    # GET checkpoint serves the latest checkpoint cosigned by at least this
    # many distinct active witnesses (DESIGN §11); 0 serves the latest one.
    "WITNESS_QUORUM": env_int("AUDIT_WITNESS_QUORUM", 0),
    # Each add-checkpoint request to a witness gives up after this long.
    "WITNESS_TIMEOUT": env_seconds("AUDIT_WITNESS_TIMEOUT", 5.0, minimum=0.1),
}
if AUDIT_LOG["INTEGRATOR"] not in ("thread", "off"):
    raise ImproperlyConfigured(f"AUDIT_INTEGRATOR must be thread or off, not {AUDIT_LOG['INTEGRATOR']!r}")

# Throttling of the API: one budget per API key (or staff user). With
# THROTTLE_REDIS_URL the budget is shared by every worker process (Redis);
# without it, or while Redis is unreachable, it is counted in the default
# cache, in memory and per process: N worker processes give a key N times
# the rate (accounts/throttling.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "registry"}}
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "6000/min")
if not re.fullmatch(r"\d+/(s|sec|m|min|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(f"API_THROTTLE_RATE must look like 6000/min, not {API_THROTTLE_RATE!r}")
THROTTLE_REDIS_URL = os.environ.get("THROTTLE_REDIS_URL", "").strip()
if THROTTLE_REDIS_URL and not re.fullmatch(r"(rediss?|unix)://\S+", THROTTLE_REDIS_URL):
    raise ImproperlyConfigured(
        "THROTTLE_REDIS_URL must be a redis://, rediss:// or unix:// URL"  # the value may hold a password
        f" (it starts {THROTTLE_REDIS_URL.partition(':')[0][:20]!r})"
    )
# Keeps apart the budgets of registries (or test runs) sharing one Redis.
THROTTLE_REDIS_PREFIX = os.environ.get("THROTTLE_REDIS_PREFIX", "registry:")

REST_FRAMEWORK = {
    # Deny by default: every view names who may call it.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": ["recognition.api.parsers.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": (
        ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
        if DEBUG
        else ["rest_framework.renderers.JSONRenderer"]
    ),
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "recognition.api.negotiation.SingleRendererNegotiation",
    "EXCEPTION_HANDLER": "recognition.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Merchant identity mutual-recognition registry",
    "DESCRIPTION": "Verify merchant identity credentials across borders; read the trust rules.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ReasonCode": "identity.reasons.Reason"},
    # The country codes' enum, one component every country parameter refers
    # to; compact JWS answers documented by their media type, not as JSON.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "recognition.api.schema.add_shared_components",
        "recognition.api.schema.describe_compact_jws_without_schema",
    ],
    # Swagger UI from the installed package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Country codes: ISO 3166-1 alpha-2 only; no user-defined codes.
COUNTRIES_FIRST = ["CN"]
