"""The ledger's signing key: made on first use in the embedded default, never made in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from xietong.ledger import keys


def test_production_refuses_to_make_a_key_a_machine_lacks(tmp_path: Path, settings: Any) -> None:
    """A second machine making its own key would sign tree heads no one can verify."""
    settings.XIETONG_LEDGER_KEY_FILE = tmp_path / "ledger.pem"
    settings.XIETONG_LEDGER_KEY_CREATE = False
    keys.signing_key.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="账本签名密钥"):
            keys.signing_key()
        assert not (tmp_path / "ledger.pem").exists()
        settings.XIETONG_LEDGER_KEY_CREATE = True
        made = keys.public_key_b64()
        keys.signing_key.cache_clear()
        settings.XIETONG_LEDGER_KEY_CREATE = False  # once there, production loads it
        assert keys.public_key_b64() == made
    finally:
        keys.signing_key.cache_clear()
