"""SM2/SM3 electronic seal data beside the PAdES signature (GB/T 38540 in spirit).

Each sealed instrument also carries a *seal data* record: what was sealed (the SM3 digest of the
final PDF), by which seal, when, under which 文号 — signed with the unit's SM2 key (GB/T 32918:
e = SM3(Z_A ‖ M) with the default ID 1234567812345678). The record is JSON rather than GB/T
38540's ASN.1 ``SES_Signature`` (no maintained Python library builds that structure); its fields
follow the standard's ``TBS_Sign`` (version, eseal, timeInfo, dataHash, propertyInfo) and the
algorithm is named by its OID, 1.2.156.10197.1.501 (SM2-with-SM3).

SM2 arithmetic is ``gmssl`` (pure Python, ≈ 22 ms a signature; it interoperates with OpenSSL —
DEPENDENCIES.md); SM3 is ``cryptography``'s (OpenSSL, fast), because gmssl's own SM3 takes seconds
a megabyte. Key generation is written here because gmssl offers none: a random scalar from
``secrets`` and gmssl's point multiplication."""

from __future__ import annotations

import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes

SM2_WITH_SM3 = "1.2.156.10197.1.501"
DEFAULT_ID = b"1234567812345678"


def _table() -> dict[str, str]:
    from gmssl import sm2

    return dict(sm2.default_ecc_table)


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def keypair() -> tuple[str, str]:
    """(private key, public key) as hex: d in [1, n-2], P = d·G (x ‖ y, 128 hex digits)."""
    from gmssl import sm2

    n = int(_table()["n"], 16)
    d = secrets.randbelow(n - 2) + 1
    private = f"{d:064x}"
    public = sm2.CryptSM2(private_key=private, public_key="")._kg(d, _table()["g"])
    return private, public


def _z(public: str) -> bytes:
    """Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2 §5.5)."""
    t = _table()
    entl = (len(DEFAULT_ID) * 8).to_bytes(2, "big")
    parts = [t["a"], t["b"], t["g"][:64], t["g"][64:], public[:64], public[64:]]
    return sm3(entl + DEFAULT_ID + b"".join(bytes.fromhex(p) for p in parts))


def sign(private: str, public: str, message: bytes) -> str:
    from gmssl import sm2

    e = sm3(_z(public) + message)
    signer = sm2.CryptSM2(private_key=private, public_key=public)
    while True:  # gmssl returns None for the (negligible) degenerate k; draw another
        signature = signer.sign(e, f"{secrets.randbelow(int(_table()['n'], 16) - 1) + 1:064x}")
        if signature:
            return str(signature)


def verify(public: str, message: bytes, signature: str) -> bool:
    from gmssl import sm2

    if len(signature) != 128 or len(public) != 128:
        return False
    try:
        e = sm3(_z(public) + message)
        return bool(sm2.CryptSM2(private_key="", public_key=public).verify(signature, e))
    except (ValueError, TypeError):
        return False


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def seal_data(
    *, pdf: bytes, private: str, public: str, seal_serial: str, unit: str, number: str, kind: str, at: str
) -> dict[str, Any]:
    to_sign = {
        "version": 4,
        "eseal": {"esID": seal_serial, "unit": unit, "publicKey": public},
        "timeInfo": at,
        "dataHash": sm3(pdf).hex(),
        "propertyInfo": f"文号：{number}；文书：{kind}",
    }
    return {
        "toSign": to_sign,
        "signatureAlgID": SM2_WITH_SM3,
        "signature": sign(private, public, canonical(to_sign)),
    }


def check(record: dict[str, Any], pdf: bytes, public: str) -> tuple[bool, str]:
    """(valid, why not). ``public`` is the seal's key as the platform registered it."""
    try:
        to_sign = record["toSign"]
        if record.get("signatureAlgID") != SM2_WITH_SM3:
            return False, "签章算法不是 SM2-with-SM3"
        if to_sign["dataHash"] != sm3(pdf).hex():
            return False, "文件的 SM3 摘要与国密签章数据不符"
        if to_sign["eseal"]["publicKey"] != public:
            return False, "国密签章数据中的公钥不是该印章登记的公钥"
        if not verify(public, canonical(to_sign), str(record["signature"])):
            return False, "SM2 签名验证失败"
    except (KeyError, TypeError):
        return False, "国密签章数据格式错误"
    return True, ""
