"""Keys and certificates of the electronic seals (F5).

The platform runs its own small certification authority: one ECDSA P-256 root that issues each
unit's seal certificate. Private keys are stored only encrypted (AES-256-GCM) with the
key-encryption key from the environment (``XIETONG_SEAL_KEK``); the production path for the keys is
an HSM over PKCS#11 (pyHanko's ``PKCS11Signer``), see docs/instruments.md. Built on ``cryptography``;
nothing here is hand-rolled cryptography, only the choice of parameters."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from xietong.keywrap import KeyWrap

CA_NAME = "协同平台电子印章根证书"


_WRAP = KeyWrap("XIETONG_SEAL_KEK", salt=b"xietong-seal-kek", aad=b"xietong-seal-key")


def encrypt_bytes(secret: bytes) -> bytes:
    return _WRAP.seal(secret)


def decrypt_bytes(blob: bytes) -> bytes:
    return _WRAP.open(blob)


def encrypt_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return encrypt_bytes(der)


def decrypt_key(blob: bytes) -> ec.EllipticCurvePrivateKey:
    der = decrypt_bytes(blob)
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("seal key is not an EC key")
    return key


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def _name(common_name: str, org: str = "协同政法协同办案平台") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _fit(text: str, limit: int = 64) -> str:
    """X.520 caps a name attribute at 64 (counted in UTF-8 bytes by ``cryptography``: 21 Chinese
    characters); a longer unit name is cut, whole characters only."""
    while len(text.encode()) > limit:
        text = text[:-1]
    return text


def ca_create(now: dt.datetime) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(CA_NAME)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def seal_issue(*, ca: Issued, unit_name: str, unit_code: str, now: dt.datetime, years: int = 5) -> Issued:
    """A unit's seal certificate: subject = the unit's name, for document signing (non-repudiation)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(unit_name)),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _fit(unit_code)),
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(unit_name)),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, key)


def certificate_serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "x")


def fingerprint(cert_der: bytes) -> str:
    return hashlib.sha256(cert_der).hexdigest()


def load_certificate(der_or_pem: bytes) -> x509.Certificate:
    if der_or_pem.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(der_or_pem)
    return x509.load_der_x509_certificate(der_or_pem)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
