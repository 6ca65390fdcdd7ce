"""Security controls that belong to no one app: response headers (CSP and friends), the idle
session timeout, API rate limits, and (later) two-factor sign-in. See ``docs/security.md``."""
