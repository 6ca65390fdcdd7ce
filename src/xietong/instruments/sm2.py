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
``secrets`` and the point multiplication below.

Verification is written here too, in affine coordinates straight from GB/T 32918.2 §7.1: gmssl
3.2.2's ``verify`` (Jacobian point addition) rejects about one valid signature in 400 (measured:
4 of 1,283 signatures gmssl made itself, each accepted by the textbook check and by OpenSSL), which
made a sealed document read "SM2 签名验证失败" at random. The signing side was checked against the
same textbook arithmetic and is correct."""

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
    t = _table()
    prime, a, n = int(t["p"], 16), int(t["a"], 16), int(t["n"], 16)
    d = secrets.randbelow(n - 2) + 1
    point = _multiply(d, (int(t["g"][:64], 16), int(t["g"][64:], 16)), prime, a)
    if point is None:  # cannot happen for 0 < d < n; kept so the type is a point
        raise ValueError("degenerate key")
    return f"{d:064x}", f"{point[0]:064x}{point[1]:064x}"


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
    while True:
        # gmssl returns None for a degenerate k, and its point doubling can fail with a TypeError
        # for some k (the bug described above): draw another k; the signature is as standard.
        try:
            signature = signer.sign(e, f"{secrets.randbelow(int(_table()['n'], 16) - 1) + 1:064x}")
        except TypeError:
            continue
        if signature:
            return str(signature)


Point = tuple[int, int] | None  # affine (x, y); None is the point at infinity


def _add(p: Point, q: Point, prime: int, a: int) -> Point:
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % prime == 0:
        return None
    if p == q:
        slope = (3 * p[0] * p[0] + a) * pow(2 * p[1], -1, prime) % prime
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, prime) % prime
    x = (slope * slope - p[0] - q[0]) % prime
    return x, (slope * (p[0] - x) - p[1]) % prime


def _multiply(k: int, point: Point, prime: int, a: int) -> Point:
    result: Point = None
    while k:
        if k & 1:
            result = _add(result, point, prime, a)
        point = _add(point, point, prime, a)
        k >>= 1
    return result


def verify(public: str, message: bytes, signature: str) -> bool:
    """GB/T 32918.2 §7.1: with t = r + s, accept when r = e + x(s·G + t·P_A) (mod n)."""
    if len(signature) != 128 or len(public) != 128:
        return False
    try:
        r, s = int(signature[:64], 16), int(signature[64:], 16)
        key = (int(public[:64], 16), int(public[64:], 16))
    except ValueError:
        return False
    t = _table()
    prime, a, n = int(t["p"], 16), int(t["a"], 16), int(t["n"], 16)
    g = (int(t["g"][:64], 16), int(t["g"][64:], 16))
    if not (1 <= r < n and 1 <= s < n) or (key[1] ** 2 - key[0] ** 3 - a * key[0] - int(t["b"], 16)) % prime:
        return False  # out of range, or the key is not a point of the curve
    total = (r + s) % n
    if total == 0:
        return False
    e = int.from_bytes(sm3(_z(public) + message), "big")
    point = _add(_multiply(s, g, prime, a), _multiply(total, key, prime, a), prime, a)
    return point is not None and r == (e + point[0]) % n


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
