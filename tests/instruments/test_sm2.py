"""SM2 verification (GB/T 32918.2 §7.1), on a signature gmssl 3.2.2's own ``verify`` cannot check."""

from __future__ import annotations

from xietong.instruments import sm2

# Made by gmssl's ``sign`` with a seeded key and nonce; gmssl's ``verify`` raises on it (its Jacobian
# doubling meets a None), one of the ~1 in 400 valid signatures it fails on.
PUBLIC = (
    "0440b7babb8e051c798a4e6dd9b2625fcfa7daf2ae38da4dda67581b82179168"
    "e3c70ec08979d62ef924ef3b68d7fe72fa19f8b66b8c146fb2df3575516cb34d"
)
SIGNATURE = (
    "78c7b67aef33fc9fa801013e5f82dbd5a8b2e21bfbda542357fee425371f9498"
    "d4386a66d89b882a3f18554f26323165a96267e5a61f9e6a32dbf4e9804f5b52"
)


def test_a_valid_signature_gmssl_rejects_verifies() -> None:
    assert sm2.verify(PUBLIC, b"message 195", SIGNATURE)


def test_a_changed_message_signature_or_key_does_not_verify() -> None:
    assert not sm2.verify(PUBLIC, b"message 196", SIGNATURE)
    assert not sm2.verify(PUBLIC, b"message 195", SIGNATURE[:-1] + "3")
    assert not sm2.verify(PUBLIC[:-1] + "e", b"message 195", SIGNATURE)  # not on the curve
    assert not sm2.verify(PUBLIC, b"message 195", "0" * 128)
    assert not sm2.verify(PUBLIC, b"message 195", "zz" * 64)


def test_signatures_made_here_verify() -> None:
    private, public = sm2.keypair()
    for i in range(20):
        message = f"文书 {i}".encode()
        assert sm2.verify(public, message, sm2.sign(private, public, message))
