"""Production settings: the base settings with the transport and cookie protections that
``check --deploy`` asks for switched on. Everything still comes from the environment, so a site
behind a TLS-terminating proxy (nginx) sets ``XIETONG_PROXY_SSL_HEADER`` and nothing else.

``DJANGO_SETTINGS_MODULE=xietong.settings.prod``. A SECRET_KEY (or SECRET_KEY_FILE) from the
environment is required: the embedded demo key is refused here.
"""

from django.core.exceptions import ImproperlyConfigured

from xietong.settings.base import *  # noqa: F403
from xietong.settings.base import DATABASES, SECRET_KEY, use_connection_pool
from xietong.settings.env import env_bool, env_int, env_str

DEBUG = False
if SECRET_KEY.startswith("xietong-embedded-demo-key"):
    raise ImproperlyConfigured("生产环境须通过 SECRET_KEY 或 SECRET_KEY_FILE 设置密钥")

# HTTPS only: redirect plain HTTP, tell browsers to stay on HTTPS for a year (HSTS), and send the
# session and CSRF cookies over HTTPS only.
SECURE_SSL_REDIRECT = env_bool("XIETONG_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("XIETONG_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("XIETONG_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("XIETONG_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
# Behind a proxy that terminates TLS: the header it sets, e.g. "HTTP_X_FORWARDED_PROTO=https".
# Trust it only when the proxy strips the header from clients' requests.
_proxy = env_str("XIETONG_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO=https")
if _proxy:
    _name, _, _value = _proxy.partition("=")
    SECURE_PROXY_SSL_HEADER = (_name, _value or "https")
# /healthz is probed by the load balancer over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# PostgreSQL through a bounded pool of connections per process (base.use_connection_pool).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("XIETONG_DB_POOL", True):
    use_connection_pool(DATABASES["default"])
# The ledger's signing key is copied to each machine, never made by the first process that misses it.
XIETONG_LEDGER_KEY_CREATE = env_bool("XIETONG_LEDGER_KEY_CREATE", False)
# Two-factor sign-in for sealing and leadership duties (xietong.security): on in production.
XIETONG_2FA_ENFORCED = env_bool("XIETONG_2FA_ENFORCED", True)
