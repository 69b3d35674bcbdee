"""Relasi settings, read from the environment (see README › Configuration and .env.example).

Defaults give a working development platform with no set-up: SQLite under var/, tasks run
in-process, emails written under var/mail/. Production (DEBUG off) refuses to start without a
SECRET_KEY from the environment.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from relasi.core.rates import rate_parse
from relasi.web.vendor_assets import VENDOR_ASSETS

BASE_DIR = Path(__file__).resolve().parent.parent

# .env first, so that every setting below, RELASI_VAR_DIR included, can come from it; a variable already
# in the environment wins over the file. The .env of the folder Relasi starts in (an installed Relasi's code lives
# in site-packages), then the checkout's, for what the first leaves unset.
env = environ.Env()
for env_file in dict.fromkeys((Path.cwd() / ".env", BASE_DIR / ".env")):
    if env_file.exists():
        environ.Env.read_env(str(env_file))

# Relasi's state on disk (the development database, secret key and emails, collected static files, beat's
# schedule) lives in RELASI_VAR_DIR, by default var/ of the folder Relasi starts in: the repository root in a
# checkout; never the installed package's folder.
VAR_DIR = Path(env.str("RELASI_VAR_DIR", default="var")).absolute()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG: bool = env.bool("DEBUG", default=True)
# Production as the operator configured it (test runners turn DEBUG off for every test, so it cannot say).
RELASI_PRODUCTION: bool = not DEBUG
TESTING: bool = env.bool("RELASI_TESTING", default=False)


def _development_secret_key() -> str:
    # A stable key per checkout, so sessions survive restarts without anyone choosing a key.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY: str = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "relasi.accounts",
    "relasi.core",
    "relasi.tenancy",
    "relasi.partners",
    "relasi.customers",
    "relasi.interactions",
    "relasi.billing",
    "relasi.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    # Serves the API docs' Swagger UI from our own static files (without it, from a CDN).
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "relasi.accounts.middleware.MustChangePasswordMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "relasi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASE_URL: str = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'relasi.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the in-process jobs write without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # No JIT compilation: Relasi's queries are short, and a large table's cost estimate (a phone's last digits at
    # ten million customers) crosses jit_above_cost, which then spends ~25 ms compiling a query that runs in 5.
    # An `options` given in DATABASE_URL replaces this.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; the suite hashes hundreds of passwords. A test checks Argon2 itself.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "relasi.accounts.validators.PasswordPolicyValidator"}]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3

# Sign-in throttling (docs/decisions.md). Per email and address: this many failures lock that pair for a
# while; only that address is refused.
SIGN_IN_FAILURE_LIMIT: int = env.int("SIGN_IN_FAILURE_LIMIT", default=5)
SIGN_IN_LOCKOUT: timedelta = timedelta(seconds=env.int("SIGN_IN_LOCKOUT_SECONDS", default=15 * 60))
# Per email, across every address: in a window from the first failure, each address adds at most
# SIGN_IN_FAILURE_LIMIT failures; at this many the email is locked for every address, and until the window
# ends each further failure locks it again. The owner's new password (emailed reset, or a change while signed
# in) lifts every lock of the email.
SIGN_IN_ACCOUNT_FAILURE_LIMIT: int = env.int("SIGN_IN_ACCOUNT_FAILURE_LIMIT", default=50)
SIGN_IN_ACCOUNT_WINDOW: timedelta = timedelta(
    seconds=env.int("SIGN_IN_ACCOUNT_WINDOW_SECONDS", default=24 * 60 * 60)
)
SIGN_IN_ACCOUNT_LOCKOUT: timedelta = timedelta(
    seconds=env.int("SIGN_IN_ACCOUNT_LOCKOUT_SECONDS", default=60 * 60)
)
# The client's address for those counts: REMOTE_ADDR, unless this many proxies in front each append the
# address they were connected from to the header below (nginx: `X-Forwarded-For $proxy_add_x_forwarded_for`);
# then the N-th entry from the right. Never more than there are: the entries further left are the client's.
SIGN_IN_TRUSTED_PROXIES: int = env.int("SIGN_IN_TRUSTED_PROXIES", default=0)
SIGN_IN_CLIENT_IP_HEADER: str = env.str("SIGN_IN_CLIENT_IP_HEADER", default="HTTP_X_FORWARDED_FOR")
if SIGN_IN_TRUSTED_PROXIES < 0 or SIGN_IN_ACCOUNT_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured(
        "SIGN_IN_TRUSTED_PROXIES must be 0 or more and SIGN_IN_ACCOUNT_FAILURE_LIMIT 1 or more."
    )

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("id", _("Bahasa Indonesia"))]
LOCALE_PATHS = [BASE_DIR / "relasi" / "locale"]
# Relasi's own date and number formats per language (minutes always shown), over Django's.
FORMAT_MODULE_PATH = ["relasi.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE: str = env.str("TIME_ZONE", default="Asia/Jakarta")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# The front-end libraries: a checkout serves them from node_modules (npm ci); an installed wheel carries its own
# copy in relasi/web/static/vendor/ (setup.py copies it at build time), found like any app's static files.
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    (prefix, _NODE / folder) for prefix, folder in VENDOR_ASSETS.items() if (_NODE / folder).exists()
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploads, import files and exports. Web and worker machines must see the same files: a shared MEDIA_ROOT, or
# another storage class (e.g. django-storages' S3Storage) with its options as a JSON object in the environment.
FILE_STORAGE_OPTIONS: dict[str, object] = env.json("FILE_STORAGE_OPTIONS", default={})
if not isinstance(FILE_STORAGE_OPTIONS, dict):
    raise ImproperlyConfigured('FILE_STORAGE_OPTIONS must be a JSON object, e.g. {"bucket_name": "relasi"}.')
STORAGES = {
    "default": {
        "BACKEND": env.str("DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": FILE_STORAGE_OPTIONS,
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Email: EMAIL_URL picks the backend (smtp://, smtp+tls://, consolemail://, filemail://...).
# Without it, each message is written under var/mail/ and echoed to the console.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
    if EMAIL_URL.startswith("filemail:"):
        # django-environ drops the leading "/" of filemail:///var/mail/relasi; keep the path absolute.
        EMAIL_FILE_PATH = urlparse(EMAIL_URL).path
else:
    EMAIL_BACKEND = "relasi.core.mail.FileAndConsoleEmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="Relasi <no-reply@relasi.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background jobs (config/celery.py). JOBS_RUNNER: "celery" (the default with REDIS_URL) sends them through Redis
# to `relasi worker`; "threads" (the default without it: `make run`) runs them on JOBS_THREADS threads of the web
# process once the request's transaction commits, and that process also runs CELERY_BEAT_SCHEDULE below
# (relasi/core/background.py); "eager" runs them in the call that queued them, the default of the test suite
# (RELASI_TESTING without REDIS_URL), so that a test sees a job's effect as soon as the request returns.
REDIS_URL: str = env.str("REDIS_URL", default="")
JOBS_RUNNER: str = env.str(
    "JOBS_RUNNER", default="celery" if REDIS_URL else "eager" if TESTING else "threads"
)
if JOBS_RUNNER not in ("celery", "threads", "eager"):
    raise ImproperlyConfigured('JOBS_RUNNER must be "celery", "threads" or "eager".')
if JOBS_RUNNER == "celery" and not REDIS_URL:
    raise ImproperlyConfigured("JOBS_RUNNER=celery needs REDIS_URL: the workers take their jobs from Redis.")
# One import and an email or export side by side; SQLite takes one writer at a time anyway.
JOBS_THREADS: int = env.int("JOBS_THREADS", default=2)
# How long a stopping process (a reload of `make run`, Ctrl-C) waits for its running jobs. An import or export
# still running then is continued by the next process's recovery (CUSTOMER_IMPORT_STALLED_SECONDS).
JOBS_SHUTDOWN_GRACE_SECONDS: int = env.int("JOBS_SHUTDOWN_GRACE_SECONDS", default=5)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# The threads run each job through Celery's in-process path too (its signals and retries as in a worker).
CELERY_TASK_ALWAYS_EAGER = JOBS_RUNNER != "celery"
CELERY_TASK_DEFAULT_QUEUE: str = env.str("CELERY_QUEUE", default="relasi")
# Inbound events (the WhatsApp webhook's jobs) have their own queue, so a burst of messages never waits behind an
# import, and workers can be added for it alone (`relasi worker --queues relasi-ingestion`). A plain
# `relasi worker` listens on both.
CELERY_INGESTION_QUEUE: str = env.str("CELERY_INGESTION_QUEUE", default="relasi-ingestion")
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(CELERY_INGESTION_QUEUE))
CELERY_TASK_ROUTES = {"relasi.interactions.tasks.*": {"queue": CELERY_INGESTION_QUEUE}}
CELERY_TASK_EAGER_PROPAGATES = True
# A job is acknowledged when it ends, so a worker that dies hands it back. Redis hands an unacknowledged job
# back after the visibility timeout: longer than any job runs, or a slow one would run twice (imports and exports
# notice and stop, but the work is wasted). A dead worker's import or export comes back sooner, through the
# scheduled recovery below.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60)
}
CELERY_TIMEZONE = TIME_ZONE
# Workers and beat log through LOGGING below, like the web processes: one format everywhere.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat's state (last run times) lives with the other local state, never in the working folder.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often the recovery looks for imports and exports whose worker is gone (beat, or the web process's own
# schedule without REDIS_URL).
JOBS_RECOVERY_INTERVAL_SECONDS: int = env.int("JOBS_RECOVERY_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "purge-deleted-customers": {
        "task": "relasi.customers.tasks.customers_purge_deleted_task",
        "schedule": 60 * 60,
    },
    "purge-idempotency-keys": {
        "task": "relasi.core.tasks.idempotent_requests_purge_task",
        "schedule": 60 * 60,
    },
    "recover-stalled-jobs": {
        "task": "relasi.customers.tasks.customer_jobs_recover_task",
        "schedule": JOBS_RECOVERY_INTERVAL_SECONDS,
    },
    "recover-waiting-webhook-events": {
        "task": "relasi.interactions.tasks.webhook_events_recover_task",
        "schedule": JOBS_RECOVERY_INTERVAL_SECONDS,
    },
    # Hourly: each workspace's month starts at its own midnight; a period opens once however often this runs.
    "open-billing-periods": {
        "task": "relasi.billing.tasks.periods_open_due_task",
        "schedule": 60 * 60,
    },
    # An invoice past its deadline can no longer be paid: expired within a minute.
    "expire-invoices": {
        "task": "relasi.billing.tasks.invoices_expire_due_task",
        "schedule": JOBS_RECOVERY_INTERVAL_SECONDS,
    },
}
# A WhatsApp webhook event still waiting after this long gets a job from the recovery (its own was lost).
WEBHOOK_EVENTS_STALLED_SECONDS: int = env.int("WEBHOOK_EVENTS_STALLED_SECONDS", default=300)
# How long a WhatsApp webhook's job waits before it applies the events stored meanwhile, all together
# (relasi/interactions/webhook_jobs.py): a message shows in the app this much later, and a burst costs one job.
WEBHOOK_DRAIN_DELAY_SECONDS: float = env.float("WEBHOOK_DRAIN_DELAY_SECONDS", default=0.2)

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health probes of a load balancer or Kubernetes reach gunicorn directly, over plain HTTP: answer them.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HSTS for an hour by default: browsers insist on HTTPS, yet a site that must drop it is not locked out for a
    # year. Subdomains and the browsers' preload list reach beyond Relasi, so they are the operator's choice.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SILENCED_SYSTEM_CHECKS = [
        check
        for check, chosen in (
            ("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("security.W021", SECURE_HSTS_PRELOAD),
        )
        if not chosen
    ]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Every line says when (in TIME_ZONE, with its offset), how serious and from where.
        "relasi": {
            "format": "[{asctime}] {levelname} {name}: {message}",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
            "style": "{",
        },
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "relasi"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own defaults give "django" a console handler (when DEBUG is on) and let it propagate to
        # the root's as well, so runserver printed each of its lines twice. Named here, it keeps no handler
        # of its own and every line reaches the root's console once (under gunicorn and Celery too).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # Naming "django" resets its children, so runserver's request lines get Django's handler back.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # fpdf2 subsets the invoice PDF's font with fontTools, which tells every step at INFO.
        "fontTools": {"level": "WARNING"},
    },
}

RELASI_SITE_URL: str = env.str("RELASI_SITE_URL", default="http://127.0.0.1:8000")

# Partner referrals (docs/partners.md): how long a referral link's cookie attributes a lead to its partner, and how
# many leads one address may send through the public form in an hour.
PARTNER_ATTRIBUTION_DAYS: int = env.int("PARTNER_ATTRIBUTION_DAYS", default=90)
PARTNER_LEAD_FORM_PER_HOUR: int = env.int("PARTNER_LEAD_FORM_PER_HOUR", default=10)
# Where a program's "Discover more" leads: the operator's page about the program.
PARTNER_PROGRAM_DISCOVER_URL: str = env.str(
    "PARTNER_PROGRAM_DISCOVER_URL", default="https://relasi.dev/partners"
)

# Payment gateways (docs/billing.md). "sandbox" is Relasi's own hosted-style payment page, so that a clone pays
# its invoices with no account anywhere; "xendit" and "midtrans" need their keys from the environment.
PAYMENT_GATEWAY: str = env.str("PAYMENT_GATEWAY", default="sandbox")
if PAYMENT_GATEWAY not in ("sandbox", "xendit", "midtrans"):
    raise ImproperlyConfigured('PAYMENT_GATEWAY must be "sandbox", "xendit" or "midtrans".')
# The seller on invoices and their PDF (the operator of this Relasi).
BILLING_SELLER_NAME: str = env.str("BILLING_SELLER_NAME", default="Relasi")
BILLING_SELLER_ADDRESS: str = env.str("BILLING_SELLER_ADDRESS", default="Jakarta, Indonesia")
BILLING_SELLER_NPWP: str = env.str("BILLING_SELLER_NPWP", default="")
BILLING_SUPPORT_EMAIL: str = env.str("BILLING_SUPPORT_EMAIL", default="support@relasi.test")
# The sandbox signs its callbacks with this; empty: a key derived from SECRET_KEY.
SANDBOX_GATEWAY_SECRET: str = env.str("SANDBOX_GATEWAY_SECRET", default="")
XENDIT_SECRET_KEY: str = env.str("XENDIT_SECRET_KEY", default="")
XENDIT_CALLBACK_TOKEN: str = env.str("XENDIT_CALLBACK_TOKEN", default="")
XENDIT_API_URL: str = env.str("XENDIT_API_URL", default="https://api.xendit.co")
MIDTRANS_SERVER_KEY: str = env.str("MIDTRANS_SERVER_KEY", default="")
# Snap (the payment page) and the Core API (the status a notification is checked against) are two hosts.
MIDTRANS_SNAP_URL: str = env.str("MIDTRANS_SNAP_URL", default="https://app.midtrans.com/snap")
MIDTRANS_API_URL: str = env.str("MIDTRANS_API_URL", default="https://api.midtrans.com")
if PAYMENT_GATEWAY == "xendit" and not (XENDIT_SECRET_KEY and XENDIT_CALLBACK_TOKEN):
    raise ImproperlyConfigured("PAYMENT_GATEWAY=xendit needs XENDIT_SECRET_KEY and XENDIT_CALLBACK_TOKEN.")
if PAYMENT_GATEWAY == "midtrans" and not MIDTRANS_SERVER_KEY:
    raise ImproperlyConfigured("PAYMENT_GATEWAY=midtrans needs MIDTRANS_SERVER_KEY.")
# Customer imports: files above these limits are refused before any work starts.
CUSTOMER_IMPORT_MAX_ROWS: int = env.int("CUSTOMER_IMPORT_MAX_ROWS", default=1_048_576)
CUSTOMER_IMPORT_MAX_BYTES: int = env.int("CUSTOMER_IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
CUSTOMER_IMPORT_BATCH_SIZE: int = env.int("CUSTOMER_IMPORT_BATCH_SIZE", default=2000)
# A queued or running import or export without progress for this long is taken as stopped: the scheduled
# recovery continues it, and the page offers to.
CUSTOMER_IMPORT_STALLED_SECONDS: int = env.int("CUSTOMER_IMPORT_STALLED_SECONDS", default=180)
CUSTOMER_EXPORT_SYNC_LIMIT: int = env.int("CUSTOMER_EXPORT_SYNC_LIMIT", default=50_000)
CUSTOMER_DELETED_RETENTION_DAYS = 30

# API rate limits (requests per period: "600/min", "20/s", "10000/h"), counted in the cache (Redis when set).
API_RATE_LIMITS_ENABLED: bool = env.bool("API_RATE_LIMITS_ENABLED", default=True)
API_RATE_LIMIT_PER_KEY: str = env.str("API_RATE_LIMIT_PER_KEY", default="1200/min")
API_RATE_LIMIT_PER_USER: str = env.str("API_RATE_LIMIT_PER_USER", default="600/min")
for _rate in (API_RATE_LIMIT_PER_KEY, API_RATE_LIMIT_PER_USER):
    try:
        rate_parse(_rate)
    except ValueError:
        raise ImproperlyConfigured(
            f"API rate limits look like 600/min, 20/s or 10000/h; got {_rate!r}."
        ) from None
