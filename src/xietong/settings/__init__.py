"""Settings: environment variables only, each with an embedded default (see ``env.py``)."""

from xietong.settings.base import *  # noqa: F403
