"""One settings module for every environment, configured by environment variables.

Defaults are safe for a laptop demo: SQLite under `var/`, a generated secret key
kept in `var/secret_key`, the payment sandbox off unless asked for.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KINSHOP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "kinshop.admin_site.KinshopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "ninja",  # its Swagger UI files, served by Kinshop (no CDN)
    "kinshop.core",
    "kinshop.accounts",
    "kinshop.catalog",
    "kinshop.shops",
    "kinshop.sharing",
    "kinshop.orders",
    "kinshop.wholesale",
    "kinshop.payments",
    "kinshop.ledger",
    "kinshop.campaigns",
    "kinshop.trust",
    "kinshop.idempotency",
    "kinshop.live",
    "kinshop.insight",
    "kinshop.ops",
    "kinshop.demo",
    "kinshop.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kinshop.core.device.DeviceIdMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "kinshop.core.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kinshop.urls"
WSGI_APPLICATION = "kinshop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kinshop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kinshop.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers
    # queue instead of deadlocking on a lock upgrade; WAL lets readers go on.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif (pool_size := env_int("KINSHOP_DB_POOL_SIZE", 4)) > 0 and not os.environ.get(
    "KINSHOP_TEST_DB"
):
    # PostgreSQL through psycopg's pool, one per process (README, "Connections"):
    # a process never holds more than KINSHOP_DB_POOL_SIZE connections, so the
    # server sees at most processes × that many, whatever the number of clients;
    # a request that finds the pool busy waits up to KINSHOP_DB_POOL_TIMEOUT
    # seconds for one instead of opening another. The suite runs without a pool
    # (KINSHOP_TEST_DB), as its threads each hold a connection for a whole test.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections, not Django
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": pool_size,
        "timeout": env_int("KINSHOP_DB_POOL_TIMEOUT", 10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The server binds the parameters, and psycopg prepares a statement the
    # second time a connection runs it: PostgreSQL then parses and plans it
    # once per connection, not per request (README, "Connections"). "off" keeps
    # server-side binding without prepared statements, for a pooler that
    # cannot keep them (PgBouncer in transaction mode before 1.21).
    _prepare = os.environ.get("KINSHOP_DB_PREPARE_THRESHOLD", "2")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=None if _prepare in ("", "off") else int(_prepare),
    )
# Each test process gets its own test database, so parallel runs never collide.
_test_suffix = os.environ.get("KINSHOP_TEST_WORKER") or str(os.getpid())
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_test_suffix}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_kinshop_{_test_suffix}"}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # entry points open their own transaction
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in attempt past the failure limit (see below).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes; kinshop.accounts.auth.sign_in): after
# KINSHOP_SIGN_IN_FAILURES failures for one username, or from one client
# address, within KINSHOP_SIGN_IN_WINDOW_MINUTES, every attempt is refused (429
# too_many_attempts) until the window has passed. Failures are kept in the
# database, so every process and both databases see the same counts.
AXES_ENABLED = env_bool("KINSHOP_SIGN_IN_THROTTLE", True)
AXES_FAILURE_LIMIT = env_int("KINSHOP_SIGN_IN_FAILURES", 10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("KINSHOP_SIGN_IN_WINDOW_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the window does not grow
AXES_DISABLE_ACCESS_LOG = True  # failures only: no row per successful sign-in
AXES_USERNAME_CALLABLE = "kinshop.accounts.auth.throttled_username"
AXES_LOCKOUT_CALLABLE = "kinshop.accounts.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "kinshop.accounts.auth.client_address"
# How many proxies in front append to X-Forwarded-For (0: clients connect directly).
KINSHOP_PROXY_COUNT = env_int("KINSHOP_PROXY_COUNT", 0)
AXES_VERBOSE = False
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kinshop" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "kinshop" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("KINSHOP_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Production is served over HTTPS (behind a proxy that sets X-Forwarded-Proto):
# cookies only travel encrypted and browsers are told to stay on HTTPS (HSTS).
# A plain-HTTP deployment (a laptop, a test server) says KINSHOP_HTTPS=0; DEBUG
# (the demo) is plain HTTP too. The device cookie follows SESSION_COOKIE_SECURE.
KINSHOP_HTTPS = not DEBUG and env_bool("KINSHOP_HTTPS", True)
if KINSHOP_HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("KINSHOP_HSTS_SECONDS", 365 * 24 * 3600)

# Live rooms embed a stream (video is not Kinshop's) only from these https hosts.
KINSHOP_LIVE_STREAM_HOSTS = [
    host.strip().lower()
    for host in os.environ.get(
        "KINSHOP_LIVE_STREAM_HOSTS", "player.bilibili.com,live.bilibili.com,www.youtube.com"
    ).split(",")
    if host.strip()
]
# A viewer's event stream is closed after this many seconds (the browser comes
# back at once with Last-Event-ID and misses nothing), so that proxies and
# process restarts never leave a stream half-open; a comment line keeps it alive.
KINSHOP_LIVE_STREAM_SECONDS = env_int("KINSHOP_LIVE_STREAM_SECONDS", 300)
KINSHOP_LIVE_PING_SECONDS = env_int("KINSHOP_LIVE_PING_SECONDS", 15)
# Viewer counts go out at most once per this many seconds per room.
KINSHOP_LIVE_VIEWERS_INTERVAL = float(os.environ.get("KINSHOP_LIVE_VIEWERS_INTERVAL", "1"))
# Tests that stream in-process read through the test's own connection.
KINSHOP_LIVE_STREAM_SHARED_CONNECTION = False

# Content-Security-Policy (django-csp): scripts, styles, fonts and images come
# from Kinshop itself; no inline script, inline style or event handler runs, so
# injected markup cannot. Nothing may frame the pages or post forms elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # A live room embeds its stream from the allowed hosts only (below).
        "frame-src": [f"https://{host}" for host in KINSHOP_LIVE_STREAM_HOSTS] or [NONE],
    }
}

# The API's interactive docs (/api/v1/docs) are for signed-in operators unless
# this is on; /api/v1/openapi.json, the contract, is public either way.
KINSHOP_PUBLIC_API_DOCS = env_bool("KINSHOP_PUBLIC_API_DOCS", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# ---- Kinshop business settings (operator settings; see DESIGN.md section 3) ----
KINSHOP_CURRENCY = os.environ.get("KINSHOP_CURRENCY", "CNY")
KINSHOP_PLATFORM_FEE_BP = env_int("KINSHOP_PLATFORM_FEE_BP", 0)
KINSHOP_MAX_COMMISSION_BP = env_int("KINSHOP_MAX_COMMISSION_BP", 3000)
KINSHOP_ATTRIBUTION = os.environ.get("KINSHOP_ATTRIBUTION", "last_click")
KINSHOP_ATTRIBUTION_DAYS = env_int(
    "KINSHOP_ATTRIBUTION_DAYS", 30 if KINSHOP_ATTRIBUTION == "binding" else 7
)
# A visitor's clicks on one share link count once per window of this many minutes.
KINSHOP_CLICK_WINDOW_MINUTES = env_int("KINSHOP_CLICK_WINDOW_MINUTES", 30)
KINSHOP_AUTO_CONFIRM_DAYS = env_int("KINSHOP_AUTO_CONFIRM_DAYS", 10)
KINSHOP_AFTER_SALES_DAYS = env_int("KINSHOP_AFTER_SALES_DAYS", 7)
KINSHOP_PAYMENT_TIMEOUT_MINUTES = env_int("KINSHOP_PAYMENT_TIMEOUT_MINUTES", 30)
# A buyer (with their linked identities) holds at most this many unpaid units of one
# SKU across their orders: stock cannot be locked up by orders never paid.
KINSHOP_MAX_UNPAID_UNITS = env_int("KINSHOP_MAX_UNPAID_UNITS", 10)
KINSHOP_MIN_WITHDRAWAL = env_int("KINSHOP_MIN_WITHDRAWAL", 1000)
# The fewest unsold units of one SKU a shop may hold from wholesale, whatever it
# sold offline (the cap is max(floor, 2 × offline sales of the last 30 days)).
KINSHOP_HOLDING_FLOOR = env_int("KINSHOP_HOLDING_FLOOR", 50)

# A bearer token unused this many days stops working (API.md, revoke_token).
KINSHOP_TOKEN_IDLE_DAYS = env_int("KINSHOP_TOKEN_IDLE_DAYS", 90)
KINSHOP_PAYMENT_SANDBOX = env_bool("KINSHOP_PAYMENT_SANDBOX", False)
# Insight: raw view and cart events are kept this many days (the daily rollups
# keep their numbers for ever); each rollup run recomputes at least the last
# KINSHOP_INSIGHT_RECOMPUTE_DAYS days.
KINSHOP_INSIGHT_EVENT_RETENTION_DAYS = env_int("KINSHOP_INSIGHT_EVENT_RETENTION_DAYS", 400)
KINSHOP_INSIGHT_RECOMPUTE_DAYS = env_int("KINSHOP_INSIGHT_RECOMPUTE_DAYS", 3)
# The sandbox provider signs its webhooks like a real provider would.
KINSHOP_SANDBOX_WEBHOOK_SECRET = os.environ.get(
    "KINSHOP_SANDBOX_WEBHOOK_SECRET", SECRET_KEY + ":sandbox-webhook"
)
KINSHOP_WECHATPAY = {
    "MCH_ID": os.environ.get("WECHATPAY_MCH_ID", ""),
    "APP_ID": os.environ.get("WECHATPAY_APP_ID", ""),
    "API_BASE": os.environ.get("WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com"),
    "PRIVATE_KEY_PATH": os.environ.get("WECHATPAY_PRIVATE_KEY_PATH", ""),
    "CERT_SERIAL_NO": os.environ.get("WECHATPAY_CERT_SERIAL_NO", ""),
    "API_V3_KEY": os.environ.get("WECHATPAY_API_V3_KEY", ""),
    "PLATFORM_PUBLIC_KEY_PATH": os.environ.get("WECHATPAY_PLATFORM_PUBLIC_KEY_PATH", ""),
    "PLATFORM_SERIAL_NO": os.environ.get("WECHATPAY_PLATFORM_SERIAL_NO", ""),
    "NOTIFY_URL": os.environ.get("WECHATPAY_NOTIFY_URL", ""),
}
KINSHOP_REDIS_URL = os.environ.get("REDIS_URL", "")
# The running code's release (a deploy may name it, e.g. its git commit; else a
# digest of the package's files, read once at start when a shared cache needs it).
KINSHOP_RELEASE = os.environ.get("KINSHOP_RELEASE", "")
if KINSHOP_REDIS_URL and not KINSHOP_RELEASE:
    from kinshop.core.release import code_digest

    KINSHOP_RELEASE = code_digest(BASE_DIR / "kinshop")
# What does not change per viewer (the storefront's product grid, a product's
# details) is kept rendered here, under keys versioned by the services that
# change it: on Redis, shared by every process, when REDIS_URL is set; else in
# each process's memory.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": KINSHOP_REDIS_URL,
            # Shared across deploys: each release keeps its own (core.release).
            "KEY_PREFIX": f"kinshop:{KINSHOP_RELEASE}",
            "TIMEOUT": 3600,
        }
        if KINSHOP_REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "kinshop",
            "TIMEOUT": 3600,
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    )
}
# A storefront's versions (what its kept page is keyed on) are read from the
# database at most once per this many seconds per shop (per process with the
# local-memory cache): a change shows on storefronts at most this late, at once
# in the process that made it; 0 reads them on every request.
KINSHOP_STOREFRONT_RECHECK_SECONDS = env_int("KINSHOP_STOREFRONT_RECHECK_SECONDS", 1)
KINSHOP_PUBLIC_URL = os.environ.get("KINSHOP_PUBLIC_URL", "http://127.0.0.1:8000")
# Uploaded files are served by Kinshop itself unless a front server does it.
KINSHOP_SERVE_MEDIA = env_bool("KINSHOP_SERVE_MEDIA", True)

# The outbox (kinshop/core/tasks.py): money calls at a provider are recorded as
# tasks in the transaction that decides them and run after commit, by the
# process that recorded them when KINSHOP_TASKS_EAGER is on and by `kinshop
# worker` processes (retries, and whatever a dead process left).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
KINSHOP_TASKS_EAGER = env_bool("KINSHOP_TASKS_EAGER", True)
KINSHOP_REFUND_ATTEMPTS = env_int("KINSHOP_REFUND_ATTEMPTS", 8)

# Trust (kinshop/trust): complaints, penalties and the fraud rules of DESIGN.md §6.
# Each fraud rule has a switch (false positives must be cheap: a rule can be
# turned off) and its thresholds.
KINSHOP_COMPLAINT_RESPONSE_HOURS = env_int("KINSHOP_COMPLAINT_RESPONSE_HOURS", 48)
KINSHOP_SUSPEND_POINTS = env_int("KINSHOP_SUSPEND_POINTS", 12)
KINSHOP_REVIEW_MAX_IMAGES = 6
KINSHOP_FRAUD_WINDOW_DAYS = env_int("KINSHOP_FRAUD_WINDOW_DAYS", 30)
KINSHOP_FRAUD_LINKED_IDENTITY = env_bool("KINSHOP_FRAUD_LINKED_IDENTITY", True)
KINSHOP_FRAUD_ORDER_RING = env_bool("KINSHOP_FRAUD_ORDER_RING", True)
KINSHOP_FRAUD_REFUND_ABUSE = env_bool("KINSHOP_FRAUD_REFUND_ABUSE", True)
KINSHOP_FRAUD_GROUP_SELF_FILL = env_bool("KINSHOP_FRAUD_GROUP_SELF_FILL", True)
KINSHOP_RING_MIN_ACCOUNTS = env_int("KINSHOP_RING_MIN_ACCOUNTS", 3)
KINSHOP_REFUND_ABUSE_BUYER_REFUNDS = env_int("KINSHOP_REFUND_ABUSE_BUYER_REFUNDS", 3)
KINSHOP_REFUND_ABUSE_SHARER_MIN_ORDERS = env_int("KINSHOP_REFUND_ABUSE_SHARER_MIN_ORDERS", 5)
KINSHOP_REFUND_ABUSE_SHARER_RATE_BP = env_int("KINSHOP_REFUND_ABUSE_SHARER_RATE_BP", 5000)
KINSHOP_GROUP_SELF_FILL_SHARE_BP = env_int("KINSHOP_GROUP_SELF_FILL_SHARE_BP", 5000)
# The screening job looks only at orders paid this many days back: enough to
# catch any a crash left unscreened before its commission could settle, not the
# whole history on a first run.
KINSHOP_TRUST_SCREEN_LOOKBACK_DAYS = env_int("KINSHOP_TRUST_SCREEN_LOOKBACK_DAYS", 30)
# A shipment within this many hours of payment counts as on time for trust.
KINSHOP_SHIP_WITHIN_HOURS = env_int("KINSHOP_SHIP_WITHIN_HOURS", 48)
# Documents only the operator reads (suppliers' licences): outside MEDIA_ROOT,
# never served. Empty: a `private` folder beside MEDIA_ROOT.
KINSHOP_PRIVATE_ROOT = os.environ.get("KINSHOP_PRIVATE_ROOT", "")
