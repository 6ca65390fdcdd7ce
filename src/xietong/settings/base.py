"""Base settings. Every value comes from an environment variable with an embedded default, so that
the same code runs embedded (SQLite, local files, in-process work) and in production (PostgreSQL, S3,
a queue) without a settings module per site."""

from pathlib import Path

import dj_database_url

from xietong.settings.env import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
XIETONG_HOME = Path(env_str("XIETONG_HOME", str(Path.cwd() / "var"))).resolve()
XIETONG_HOME.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("XIETONG_DEBUG", False)
# The embedded default key is only for the demo; production sets SECRET_KEY or SECRET_KEY_FILE.
SECRET_KEY = env_str("SECRET_KEY", "xietong-embedded-demo-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: the platform runs offline
    "django_htmx",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "xietong.orgs",
    "xietong.ledger",
    "xietong.cases",
    "xietong.dossier",
    "xietong.review",
    "xietong.instruments",
    "xietong.supervision",
    "xietong.execution",
    "xietong.library",
    "xietong.analytics",
    "xietong.courtroom",
    "xietong.board",
    "xietong.quality",
    "xietong.web",
    "xietong.demo",
    "xietong.bench",
    "xietong.exchange",
    "xietong.clients",
    "xietong.feeds",
    "xietong.ops",
    "xietong.security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "xietong.urlbounds.BoundedIdMiddleware",
    "xietong.security.headers.SecurityHeadersMiddleware",
    "xietong.security.middleware.TwoFactorMiddleware",
]

ROOT_URLCONF = "xietong.urls"
ASGI_APPLICATION = "xietong.asgi.application"
WSGI_APPLICATION = "xietong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def use_connection_pool(db: dj_database_url.DBConfig) -> None:
    """A bounded pool of PostgreSQL connections per process (psycopg_pool, Django's "pool" option).

    Under ASGI every concurrent request runs its synchronous part on a thread of its own, and with
    kept connections each such thread holds one: a few hundred users exhausted PostgreSQL's
    max_connections ("too many clients", found by `xietong bench load`). With the pool a process
    never holds more than XIETONG_DB_POOL_MAX connections; a request waits for one (up to
    XIETONG_DB_POOL_TIMEOUT seconds, then 503) instead of failing, and each connection is checked
    as it is taken, so a restarted database costs no request. Django requires CONN_MAX_AGE = 0."""
    db["CONN_MAX_AGE"] = 0
    db["CONN_HEALTH_CHECKS"] = True  # with a pool: Django makes it check each connection as it is taken
    db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("XIETONG_DB_POOL_MIN", 2),
        "max_size": env_int("XIETONG_DB_POOL_MAX", 10),
        "timeout": env_int("XIETONG_DB_POOL_TIMEOUT", 20),
    }


_default_db = f"sqlite:///{XIETONG_HOME / 'xietong.sqlite3'}"
# Kept connections are checked before each request reuses them (CONN_HEALTH_CHECKS), so after the
# database restarts or fails over the next request reconnects instead of failing on a dead socket.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_db), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on busy_timeout instead of failing half-way through a transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("XIETONG_TEST_SQLITE", "") or None}
elif env_bool("XIETONG_DB_POOL", False):  # on by default in settings.prod
    use_connection_pool(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Password policy (MLPS 身份鉴别: complexity; ASVS V2.1): at least 12 characters, not a common
# password, not all digits, not like the user's own name.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("XIETONG_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["username", "full_name", "email"]},
    },
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:workbench"
LOGOUT_REDIRECT_URL = "web:login"

# Lock-out after repeated failures (django-axes): per username and address.
AXES_FAILURE_LIMIT = env_int("XIETONG_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("XIETONG_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = XIETONG_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = XIETONG_HOME / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: agency systems' OAuth tokens and signed requests; it passes on anything else.
        "xietong.clients.authentication.SystemClientAuthentication",
        "xietong.orgs.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "xietong.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Rates come from XIETONG_API_RATES below, read per request (xietong.security.throttling).
    "DEFAULT_THROTTLE_CLASSES": [
        "xietong.security.throttling.AuthEndpointThrottle",
        "xietong.security.throttling.UserRateThrottle",
        "xietong.security.throttling.AnonRateThrottle",
    ],
}
# API rate limits (a 429 with code "rate_limited"); an empty value switches a limit off.
XIETONG_API_RATES: dict[str, str | None] = {
    "user": env_str("XIETONG_API_RATE_USER", "1200/min") or None,
    "anon": env_str("XIETONG_API_RATE_ANON", "120/min") or None,
    "auth": env_str("XIETONG_API_RATE_AUTH", "30/min") or None,
}
XIETONG_AUTH_THROTTLE_PATHS = ["/api/v1/auth/token", "/api/v1/oauth/token"]
# The throttles' counters: per process by default; shared by every node with Redis.
XIETONG_CACHE_REDIS = env_str("XIETONG_CACHE_REDIS", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": XIETONG_CACHE_REDIS}
        if XIETONG_CACHE_REDIS
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "xietong"}
    )
}

# The leaders' statistics are reused for this long even when the facts changed meanwhile
# (xietong.analytics.memo); 0: recomputed on every change of the facts.
XIETONG_FACTS_MEMO_SECONDS = env_int("XIETONG_FACTS_MEMO_SECONDS", 30)

# Sessions end after XIETONG_SESSION_IDLE_HOURS without a request (the expiry slides forward at
# most every XIETONG_SESSION_TOUCH_SECONDS, see xietong.security.headers).
SESSION_COOKIE_AGE = env_int("XIETONG_SESSION_IDLE_HOURS", 8) * 3600
XIETONG_SESSION_TOUCH_SECONDS = env_int("XIETONG_SESSION_TOUCH_SECONDS", 300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Content-Security-Policy (xietong.security.headers). Scripts from the platform's static files only:
# no inline script or handler (behaviours are data attributes read by web/app.js). Style sheets and
# <style> elements from the static files only; style *attributes* stay allowed (style-src-attr: the
# templates' and ECharts' tooltips), which cannot load anything img-src and font-src do not allow.
XIETONG_CSP = env_str(
    "XIETONG_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'",
)
XIETONG_CSP_REPORT_ONLY = env_bool("XIETONG_CSP_REPORT_ONLY", False)
XIETONG_PERMISSIONS_POLICY = env_str(
    "XIETONG_PERMISSIONS_POLICY", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
)
# Two-factor sign-in (TOTP) for the duties that may seal instruments or lead (xietong.security).
# Off by default so that the demo's and the tests' logins stay one step; on in settings.prod.
XIETONG_2FA_ENFORCED = env_bool("XIETONG_2FA_ENFORCED", False)
XIETONG_2FA_DUTIES = env_list(
    "XIETONG_2FA_DUTIES", ["handler", "clerk", "corrections_officer", "dept_head", "leader", "admin"]
)
# Key that encrypts the authenticator secrets (32 bytes, base64); unset: derived from SECRET_KEY.
XIETONG_2FA_KEK = env_str("XIETONG_2FA_KEK", "")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SPECTACULAR_SETTINGS = {
    "TITLE": "协同 xietong API",
    "DESCRIPTION": "跨部门刑事案件协同办案平台 REST API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Background jobs: a queue table in the platform database (django-tasks-db). Embedded: a worker
# thread in the server process; production: `xietong job-worker` on any number of machines.
TASK_QUEUES = ["default", "dossier"]  # dossier: rendering and OCR, which may get workers of their own
TASKS = {
    "default": {
        "BACKEND": env_str("XIETONG_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": TASK_QUEUES,
    }
}
XIETONG_TASK_LEASE_SECONDS = env_int("XIETONG_TASK_LEASE_SECONDS", 3600)
XIETONG_BLOB_ROOT = Path(env_str("XIETONG_BLOB_ROOT", str(XIETONG_HOME / "blobs")))
# Empty: files under XIETONG_BLOB_ROOT. Production: s3://bucket/prefix?endpoint_url=https://…&region=…
# (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or their *_FILE variants).
XIETONG_STORAGE_URL = env_str("XIETONG_STORAGE_URL", "")
# Files encrypted at rest (dossier.blobs.EncryptedBlobs), each under its own data key wrapped with
# XIETONG_FILES_KEK (32 bytes, base64; demo: derived from SECRET_KEY). Off by default: most sites
# encrypt the volume or use the object store's server-side encryption.
XIETONG_FILES_ENCRYPTED = env_bool("XIETONG_FILES_ENCRYPTED", False)
XIETONG_FILES_KEK = env_str("XIETONG_FILES_KEK", "")

# The channel layer of the courtroom's screens and the live alerts: in-memory (one ASGI process) by
# default; Redis for several ASGI nodes and for workers that push alerts from other machines
# (XIETONG_CHANNEL_REDIS=redis://host:6379/0). The prefix keeps two platforms on one Redis apart.
XIETONG_CHANNEL_REDIS = env_str("XIETONG_CHANNEL_REDIS", "")
XIETONG_CHANNEL_PREFIX = env_str("XIETONG_CHANNEL_PREFIX", "xietong")
CHANNEL_LAYERS = (
    {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [XIETONG_CHANNEL_REDIS], "prefix": XIETONG_CHANNEL_PREFIX},
        }
    }
    if XIETONG_CHANNEL_REDIS
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)
# `bench courtroom` only: a bare echo socket on the same stack, its baseline.
XIETONG_WS_ECHO = env_bool("XIETONG_WS_ECHO", False)

# The ledger's signing key for Merkle tree heads (Ed25519, PEM). Made on first use if absent in the
# embedded default; production (settings.prod) refuses to make one.
XIETONG_LEDGER_KEY_CREATE = env_bool("XIETONG_LEDGER_KEY_CREATE", True)
XIETONG_LEDGER_KEY_FILE = Path(
    env_str("XIETONG_LEDGER_KEY_FILE", str(XIETONG_HOME / "keys" / "ledger_ed25519.pem"))
)
# Switch for `bench transitions`' baseline only; never off in production.
XIETONG_LEDGER_ENABLED = env_bool("XIETONG_LEDGER_ENABLED", True)
# Run background work (ledger integration) in-process after commit; production runs `xietong worker`.
XIETONG_INPROCESS_TASKS = env_bool("XIETONG_INPROCESS_TASKS", True)
XIETONG_DEMO_PASSWORD = env_str("XIETONG_DEMO_PASSWORD", "xietong-demo-2026")
XIETONG_TOKEN_TTL_HOURS = env_int("XIETONG_TOKEN_TTL_HOURS", 12)
# Agency systems (docs/clients.md): access-token lifetime, how long an old secret keeps working after
# a rotation, the allowed clock skew of a signed request, and the key that seals their secrets
# (32 bytes, base64; unset: derived from SECRET_KEY, demo only).
XIETONG_CLIENT_TOKEN_TTL_SECONDS = env_int("XIETONG_CLIENT_TOKEN_TTL_SECONDS", 3600)
XIETONG_CLIENT_ROTATION_OVERLAP_HOURS = env_int("XIETONG_CLIENT_ROTATION_OVERLAP_HOURS", 24)
XIETONG_SIGNATURE_WINDOW_SECONDS = env_int("XIETONG_SIGNATURE_WINDOW_SECONDS", 300)
XIETONG_CLIENT_KEK = env_str("XIETONG_CLIENT_KEK", "")
# Key-encryption key for the seal CA's and the units' private keys (32 bytes, base64). Unset: one is
# derived from SECRET_KEY (demo only). Production: a secret from the environment, or keys in an HSM.
XIETONG_SEAL_KEK = env_str("XIETONG_SEAL_KEK", "")
# How many days the 成文日期 written on an instrument may lie before its sealing (later: refused).
XIETONG_BACKDATE_DAYS = env_int("XIETONG_BACKDATE_DAYS", 3)
# Public address printed in QR codes on served instruments (the /verify page).
XIETONG_PUBLIC_URL = env_str("XIETONG_PUBLIC_URL", "http://127.0.0.1:8000")

# The event feed's delivery (docs/feeds.md): events per webhook POST, retries before a batch goes to
# the dead letters (or after how many seconds of failing), the backoff cap, the HTTP timeout.
XIETONG_FEEDS_BATCH = env_int("XIETONG_FEEDS_BATCH", 500)
XIETONG_FEEDS_MAX_ATTEMPTS = env_int("XIETONG_FEEDS_MAX_ATTEMPTS", 10)
XIETONG_FEEDS_MAX_AGE_SECONDS = env_int("XIETONG_FEEDS_MAX_AGE_SECONDS", 6 * 3600)
XIETONG_FEEDS_BACKOFF_CAP_SECONDS = env_int("XIETONG_FEEDS_BACKOFF_CAP_SECONDS", 600)
XIETONG_FEEDS_TIMEOUT_SECONDS = env_int("XIETONG_FEEDS_TIMEOUT_SECONDS", 10)
# Hosts a subscription may send to (a name matches itself and its subdomains). Empty: any host, for
# the demo and tests; production names the agencies' receivers, so that no user can make the
# platform call an address of its own network (SSRF).
XIETONG_FEEDS_ALLOWED_HOSTS = env_list("XIETONG_FEEDS_ALLOWED_HOSTS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("XIETONG_LOG_LEVEL", "WARNING")},
}
