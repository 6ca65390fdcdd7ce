"""Tests for xietong.ledger.merkle against a naive RFC 6962 §2.1 reference.

The reference below is written straight from the RFC text (recursion on lists, no
stores, no bit tricks) and uses hashlib directly, so a bug in the module's hashing or
indexing cannot hide by being shared with the oracle.
"""

from __future__ import annotations

import ast
import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from xietong.ledger import merkle
from xietong.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryNodeStore,
    NodeStore,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    new_nodes_for_append,
    node_hash,
    subtree_root,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------- reference (RFC 6962 §2.1)


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """Largest power of two strictly less than n (n > 1), by plain iteration."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(entries: Sequence[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 §2.1 defines it."""
    n = len(entries)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + entries[0])
    k = _k(n)
    return _sha(b"\x01" + ref_mth(entries[:k]) + ref_mth(entries[k:]))


def ref_path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 6962 §2.1.1."""
    n = len(entries)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, entries[:k]), ref_mth(entries[k:])]
    return [*ref_path(m - k, entries[k:]), ref_mth(entries[:k])]


def ref_subproof(m: int, entries: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 6962 §2.1.2."""
    n = len(entries)
    if m == n:
        return [] if b else [ref_mth(entries)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, entries[:k], b), ref_mth(entries[k:])]
    return [*ref_subproof(m - k, entries[k:], False), ref_mth(entries[:k])]


def ref_proof(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true), defined for 0 < m <= n."""
    return ref_subproof(m, entries, True)


def ref_root_from_path(leaf: bytes, m: int, n: int, proof: Sequence[bytes]) -> bytes | None:
    """Recompute the root by walking PATH's recursion backwards (None if lengths disagree).

    An independent verifier: the module uses RFC 9162's bit-twiddling loop instead.
    """
    if n == 1:
        return leaf if not proof else None
    if not proof:
        return None
    k = _k(n)
    if m < k:
        inner = ref_root_from_path(leaf, m, k, proof[:-1])
        return None if inner is None else _sha(b"\x01" + inner + proof[-1])
    inner = ref_root_from_path(leaf, m - k, n - k, proof[:-1])
    return None if inner is None else _sha(b"\x01" + proof[-1] + inner)


def ref_verify_inclusion(leaf: bytes, m: int, n: int, proof: Sequence[bytes], root: bytes) -> bool:
    if not 0 <= m < n:
        return False
    return ref_root_from_path(leaf, m, n, proof) == root


def _ref_roots_from_subproof(
    m: int, n: int, b: bool, proof: Sequence[bytes], old_root: bytes
) -> tuple[bytes, bytes] | None:
    """(old subtree hash, new subtree hash) rebuilt from a SUBPROOF, or None."""
    if m == n:
        if b:
            return (old_root, old_root) if not proof else None
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    k = _k(n)
    if m <= k:
        inner = _ref_roots_from_subproof(m, k, b, proof[:-1], old_root)
        if inner is None:
            return None
        return inner[0], _sha(b"\x01" + inner[1] + proof[-1])
    inner = _ref_roots_from_subproof(m - k, n - k, False, proof[:-1], old_root)
    if inner is None:
        return None
    left = proof[-1]
    return _sha(b"\x01" + left + inner[0]), _sha(b"\x01" + left + inner[1])


def ref_verify_consistency(m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    if not 0 < m <= n:
        return False
    rebuilt = _ref_roots_from_subproof(m, n, True, proof, old_root)
    return rebuilt == (old_root, new_root)


def ref_root_level_by_level(leaf_hashes: Sequence[bytes]) -> bytes:
    """Bottom-up build that promotes an unpaired last node unchanged; equals MTH."""
    level = list(leaf_hashes)
    if not level:
        return _sha(b"")
    while len(level) > 1:
        paired = [_sha(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# ------------------------------------------------------------------------------- fixtures

ENTRIES = [f"entry-{i}".encode() for i in range(100)]
UNEVEN_BATCHES = (1, 3, 7, 2, 5, 1, 1, 8, 4, 13, 6, 2, 9, 16, 3)  # sums to 81


def build_store(n: int, batches: Sequence[int] = UNEVEN_BATCHES) -> MemoryNodeStore:
    """A store for ENTRIES[:n], appended in the given (cycled) batch sizes."""
    store = MemoryNodeStore()
    size = 0
    i = 0
    while size < n:
        take = min(batches[i % len(batches)], n - size)
        i += 1
        store.put_many(new_nodes_for_append(store, size, [leaf_hash(e) for e in ENTRIES[size : size + take]]))
        size += take
    return store


STORE_40 = build_store(40)
STORE_70 = build_store(70)


def _flip(value: bytes, position: int = 0) -> bytes:
    out = bytearray(value)
    out[position % len(out)] ^= 0x01
    return bytes(out)


class CountingStore:
    """Wraps a store and records every read, to check the O(log n) batched-read promise."""

    def __init__(self, inner: MemoryNodeStore) -> None:
        self.inner = inner
        self.get_calls = 0
        self.batches: list[list[tuple[int, int]]] = []

    def get(self, level: int, index: int) -> bytes:
        self.get_calls += 1
        return self.inner.get(level, index)

    def get_many(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.batches.append(list(keys))
        return self.inner.get_many(keys)


# ------------------------------------------------------------------------------ constants


def test_module_is_pure_python_without_django() -> None:
    """The offline verifier must run without the web stack: only stdlib imports allowed."""
    tree = ast.parse(Path(merkle.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_constants_and_domain_separated_hashes() -> None:
    assert HASH_SIZE == 32
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"abc") == _sha(b"\x00abc")
    a, b = _sha(b"a"), _sha(b"b")
    assert node_hash(a, b) == _sha(b"\x01" + a + b)
    assert node_hash(a, b) != node_hash(b, a)
    # A leaf whose data looks like two children must not hash like their parent.
    assert leaf_hash(a + b) != node_hash(a, b)


def test_memory_store_satisfies_protocol_and_rejects_rewrites() -> None:
    store = MemoryNodeStore()
    assert isinstance(store, NodeStore)
    h = leaf_hash(b"x")
    store.put_many([(0, 0, h)])
    store.put_many([(0, 0, h)])  # idempotent re-put of the same hash is fine
    assert store.get(0, 0) == h
    assert store.get_many([(0, 0), (0, 1), (3, 7)]) == {(0, 0): h}
    with pytest.raises(KeyError):
        store.get(0, 1)
    with pytest.raises(ValueError, match="different hash"):
        store.put_many([(0, 1, h), (0, 0, leaf_hash(b"y"))])
    assert store.get_many([(0, 1)]) == {}, "a rejected batch must not be partially written"
    with pytest.raises(ValueError, match="different hash"):
        store.put_many([(0, 5, h), (0, 5, leaf_hash(b"y"))])
    with pytest.raises(ValueError, match="32 bytes"):
        store.put_many([(0, 1, b"short")])
    with pytest.raises(ValueError, match="invalid node key"):
        store.put_many([(-1, 0, h)])
    assert len(store) == 1
    assert store.leaf_count == 1
    assert STORE_70.leaf_count == 70


def test_memory_store_constructor_accepts_nodes() -> None:
    nodes = [(level, index, digest) for (level, index), digest in STORE_40.as_dict().items()]
    copy = MemoryNodeStore(nodes)
    assert copy.as_dict() == STORE_40.as_dict()
    assert copy.leaf_count == 40


# ---------------------------------------------------------------------- known-answer tests

CT_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
# Roots of the trees of the first 1..8 inputs (certificate-transparency merkle_tree_test).
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
_H_01 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
_H_23 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
_H_4 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
_H_67 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
_H_4567 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
_H_45 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
# (0-based leaf index, tree size, audit path)
CT_PATHS: list[tuple[int, int, list[str]]] = [
    (0, 1, []),
    (0, 8, [_H_01, _H_23, _H_4567]),
    (5, 8, [_H_4, _H_67, CT_ROOTS[3]]),
    (2, 3, [CT_ROOTS[1]]),
    (1, 5, [CT_ROOTS[0], _H_23, _H_4]),
]
CT_CONSISTENCY: list[tuple[int, int, list[str]]] = [
    (1, 1, []),
    (1, 8, [_H_01, _H_23, _H_4567]),
    (6, 8, [_H_45, _H_67, CT_ROOTS[3]]),
    (2, 5, [_H_23, _H_4]),
]
CT_STORE = MemoryNodeStore(new_nodes_for_append(MemoryNodeStore(), 0, [leaf_hash(d) for d in CT_INPUTS]))


def test_known_answer_roots() -> None:
    """The published 8-leaf root (5dc9da79...) agrees with the RFC reference and the store."""
    for n in range(1, 9):
        assert ref_mth(CT_INPUTS[:n]).hex() == CT_ROOTS[n - 1], n
        assert tree_root(CT_STORE, n).hex() == CT_ROOTS[n - 1], n
    assert tree_root(CT_STORE, 8).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


@pytest.mark.parametrize(("index", "size", "path"), CT_PATHS)
def test_known_answer_inclusion_paths(index: int, size: int, path: list[str]) -> None:
    assert [h.hex() for h in ref_path(index, CT_INPUTS[:size])] == path
    proof = inclusion_proof(CT_STORE, index, size)
    assert [h.hex() for h in proof] == path
    root = bytes.fromhex(CT_ROOTS[size - 1])
    assert verify_inclusion(leaf_hash(CT_INPUTS[index]), index, size, proof, root)


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_known_answer_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    assert [h.hex() for h in ref_proof(old, CT_INPUTS[:new])] == path
    proof = consistency_proof(CT_STORE, old, new)
    assert [h.hex() for h in proof] == path
    old_root, new_root = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)


# ------------------------------------------------------------------- append and the store


def _expected_keys(old: int, new: int) -> set[tuple[int, int]]:
    """Every complete-subtree key that exists at size `new` but not at size `old`."""
    keys: set[tuple[int, int]] = set()
    level = 0
    while (1 << level) <= new:
        width = 1 << level
        keys.update((level, i) for i in range(new // width) if (i + 1) * width > old)
        level += 1
    return keys


def test_append_returns_exactly_the_new_complete_nodes() -> None:
    """Each append yields precisely the newly completed subtrees, each once, all correct."""
    store = MemoryNodeStore()
    size = 0
    for take in UNEVEN_BATCHES:
        new = new_nodes_for_append(store, size, [leaf_hash(e) for e in ENTRIES[size : size + take]])
        keys = [(level, index) for level, index, _ in new]
        assert len(keys) == len(set(keys))
        assert set(keys) == _expected_keys(size, size + take)
        for level, index, digest in new:
            width = 1 << level
            assert digest == ref_mth(ENTRIES[index * width : (index + 1) * width])
        store.put_many(new)
        size += take
    assert set(store.as_dict()) == _expected_keys(0, size)


@pytest.mark.parametrize(
    "batches",
    [(1,), (2,), (3, 1), (1, 3, 7, 2), (7, 7, 7), (64, 1, 1, 2), (5, 11, 16, 32, 1), (70,)],
)
def test_batch_appends_give_identical_nodes_to_single_appends(batches: tuple[int, ...]) -> None:
    assert build_store(70, batches).as_dict() == build_store(70, (1,)).as_dict()


def test_append_reads_only_the_frontier_in_one_batch() -> None:
    """Appending to a big tree reads O(log n) nodes in one get_many and never calls get."""
    base = MemoryNodeStore()
    size = 0b1011_0110_1101  # 2925: many set bits, so many frontier nodes
    base.put_many(new_nodes_for_append(base, 0, [_sha(i.to_bytes(4, "big")) for i in range(size)]))
    counting = CountingStore(base)
    leaves = [_sha(b"new" + i.to_bytes(4, "big")) for i in range(1000)]
    new = new_nodes_for_append(counting, size, leaves)
    assert counting.get_calls == 0
    assert len(counting.batches) == 1
    assert len(counting.batches[0]) <= size.bit_count() + 2
    base.put_many(new)
    expected = ref_root_level_by_level([_sha(i.to_bytes(4, "big")) for i in range(size)] + leaves)
    assert tree_root(base, size + 1000) == expected


def test_append_of_nothing_reads_nothing() -> None:
    counting = CountingStore(STORE_40)
    assert new_nodes_for_append(counting, 40, []) == []
    assert counting.batches == []


def test_append_refuses_a_wrong_size_or_bad_leaf() -> None:
    leaf = leaf_hash(b"x")
    with pytest.raises(ProofError, match="already holds leaf"):
        new_nodes_for_append(STORE_40, 39, [leaf])  # stale size: would fork the tree
    with pytest.raises(ProofError, match="fewer than"):
        new_nodes_for_append(STORE_40, 41, [leaf])  # would leave a gap
    with pytest.raises(ProofError, match="fewer than"):
        new_nodes_for_append(MemoryNodeStore(), 3, [leaf])
    with pytest.raises(ProofError):
        new_nodes_for_append(STORE_40, -1, [leaf])
    with pytest.raises(ProofError, match="32 bytes"):
        new_nodes_for_append(STORE_40, 40, [leaf, b"short"])


# ------------------------------------------------------------------------- roots vs oracle


def test_empty_tree_root() -> None:
    assert tree_root(MemoryNodeStore(), 0) == EMPTY_ROOT == ref_mth([])


def test_roots_match_reference_for_every_size_up_to_70() -> None:
    for n in range(71):
        assert tree_root(STORE_70, n) == ref_mth(ENTRIES[:n]), n


def test_subtree_root_matches_reference_for_every_range_up_to_40() -> None:
    """Every range, aligned or not, is MTH of that slice (unaligned ones via the fallback)."""
    for start in range(41):
        for end in range(start, 41):
            assert subtree_root(STORE_40, start, end) == ref_mth(ENTRIES[start:end]), (start, end)


def test_roots_read_popcount_nodes_in_one_batch() -> None:
    counting = CountingStore(STORE_70)
    for n in range(1, 71):
        counting.batches.clear()
        tree_root(counting, n)
        assert len(counting.batches) == 1
        assert len(counting.batches[0]) == n.bit_count()
    assert counting.get_calls == 0


# ------------------------------------------------------------------------ proofs vs oracle


def test_inclusion_proofs_match_reference_and_verify() -> None:
    for size in range(1, 41):
        root = ref_mth(ENTRIES[:size])
        for index in range(size):
            proof = inclusion_proof(STORE_40, index, size)
            assert proof == ref_path(index, ENTRIES[:size]), (index, size)
            assert verify_inclusion(leaf_hash(ENTRIES[index]), index, size, proof, root), (index, size)


def test_consistency_proofs_match_reference_and_verify() -> None:
    for new in range(1, 41):
        new_root = ref_mth(ENTRIES[:new])
        for old in range(1, new + 1):
            proof = consistency_proof(STORE_40, old, new)
            assert proof == ref_proof(old, ENTRIES[:new]), (old, new)
            old_root = ref_mth(ENTRIES[:old])
            assert verify_consistency(old, new, old_root, new_root, proof), (old, new)


def test_consistency_from_empty_tree() -> None:
    """RFC 6962 leaves m = 0 undefined; we return an empty proof that needs EMPTY_ROOT."""
    for new in range(41):
        assert consistency_proof(STORE_40, 0, new) == []
        new_root = ref_mth(ENTRIES[:new])
        assert verify_consistency(0, new, EMPTY_ROOT, new_root, [])
        assert not verify_consistency(0, new, _flip(EMPTY_ROOT), new_root, [])
        assert not verify_consistency(0, new, EMPTY_ROOT, new_root, [EMPTY_ROOT])


def test_proofs_read_log_n_nodes_in_one_batch() -> None:
    """A proof on a large tree is one get_many of O(log n) keys, whatever the index."""
    size = 5000
    store = MemoryNodeStore(
        new_nodes_for_append(MemoryNodeStore(), 0, [_sha(i.to_bytes(4, "big")) for i in range(size)])
    )
    counting = CountingStore(store)
    bound = 2 * size.bit_length() + 1
    for index in (0, 1, 2047, 2048, 4095, 4096, 4999):
        counting.batches.clear()
        inclusion_proof(counting, index, size)
        assert len(counting.batches) == 1
        assert len(counting.batches[0]) <= bound
    for old in (1, 3, 1024, 3000, 4097, 4999, 5000):
        counting.batches.clear()
        consistency_proof(counting, old, size)
        assert len(counting.batches) == 1
        assert len(counting.batches[0]) <= bound
    assert counting.get_calls == 0


# ------------------------------------------------------------------------ verifier rejects


def test_verify_inclusion_rejects_flipped_bytes() -> None:
    for size in range(1, 41):
        root = ref_mth(ENTRIES[:size])
        for index in range(size):
            leaf = leaf_hash(ENTRIES[index])
            proof = inclusion_proof(STORE_40, index, size)
            assert not verify_inclusion(_flip(leaf, index), index, size, proof, root)
            assert not verify_inclusion(leaf, index, size, proof, _flip(root, size))
            for j in range(len(proof)):
                for position in (0, 17, 31):
                    bad = [*proof]
                    bad[j] = _flip(bad[j], position)
                    assert not verify_inclusion(leaf, index, size, bad, root), (index, size, j)


def test_verify_inclusion_rejects_wrong_index_and_truncated_or_extended_proofs() -> None:
    for size in range(1, 41):
        root = ref_mth(ENTRIES[:size])
        for index in range(size):
            leaf = leaf_hash(ENTRIES[index])
            proof = inclusion_proof(STORE_40, index, size)
            for other in (index - 1, index + 1, size, -1, index + size):
                assert not verify_inclusion(leaf, other, size, proof, root), (index, other, size)
            assert not verify_inclusion(leaf, index, size, [*proof, proof[0] if proof else root], root)
            assert not verify_inclusion(leaf, index, size, [*proof, EMPTY_ROOT], root)
            if proof:
                assert not verify_inclusion(leaf, index, size, proof[:-1], root)
                assert not verify_inclusion(leaf, index, size, proof[1:], root)


def test_verify_inclusion_wrong_size() -> None:
    """A wrong tree size is rejected whenever it changes the shape of the path.

    An inclusion proof commits to the tree size only through the root (which a signed
    tree head binds to its size): leaf 0's path has the same shape in trees of 3 and 4
    leaves, so RFC 9162 accepts either claimed size for the same root.  So: every claimed
    size whose path length differs must be rejected, and in all cases the module must
    decide exactly like the independent recursive reference.
    """
    rejected = 0
    for size in range(1, 41):
        root = ref_mth(ENTRIES[:size])
        for index in range(size):
            leaf = leaf_hash(ENTRIES[index])
            proof = inclusion_proof(STORE_40, index, size)
            for other in (size - 1, size + 1, size * 2, size + 7):
                got = verify_inclusion(leaf, index, other, proof, root)
                assert got == ref_verify_inclusion(leaf, index, other, proof, root), (index, size, other)
                if index >= other or len(ref_path(index, ENTRIES[:other])) != len(proof):
                    assert not got, (index, size, other)
                rejected += not got
    assert rejected > 1000
    proof = inclusion_proof(STORE_40, 0, 3)
    assert verify_inclusion(leaf_hash(ENTRIES[0]), 0, 4, proof, ref_mth(ENTRIES[:3]))
    assert not verify_inclusion(
        leaf_hash(ENTRIES[2]), 2, 4, inclusion_proof(STORE_40, 2, 3), ref_mth(ENTRIES[:3])
    )


def test_verify_consistency_rejects_flipped_bytes() -> None:
    for new in range(1, 41):
        new_root = ref_mth(ENTRIES[:new])
        for old in range(1, new + 1):
            old_root = ref_mth(ENTRIES[:old])
            proof = consistency_proof(STORE_40, old, new)
            assert not verify_consistency(old, new, _flip(old_root, old), new_root, proof), (old, new)
            assert not verify_consistency(old, new, old_root, _flip(new_root, new), proof), (old, new)
            for j in range(len(proof)):
                for position in (0, 13, 31):
                    bad = [*proof]
                    bad[j] = _flip(bad[j], position)
                    assert not verify_consistency(old, new, old_root, new_root, bad), (old, new, j)


def test_verify_consistency_rejects_truncated_or_extended_proofs() -> None:
    for new in range(1, 41):
        new_root = ref_mth(ENTRIES[:new])
        for old in range(1, new + 1):
            old_root = ref_mth(ENTRIES[:old])
            proof = consistency_proof(STORE_40, old, new)
            for extra in (EMPTY_ROOT, new_root, old_root, *proof[:1]):
                assert not verify_consistency(old, new, old_root, new_root, [*proof, extra]), (old, new)
                assert not verify_consistency(old, new, old_root, new_root, [extra, *proof]), (old, new)
            if proof:
                assert not verify_consistency(old, new, old_root, new_root, proof[:-1]), (old, new)
                assert not verify_consistency(old, new, old_root, new_root, proof[1:]), (old, new)


def test_verify_consistency_wrong_sizes() -> None:
    """Claimed sizes that differ from the real ones.

    As with inclusion, the sizes are bound only through the roots, so a claimed size
    pair with the same proof shape is accepted.  Every pair whose proof length differs
    must be rejected, and every decision must match the RFC 6962 recursion.
    """
    rejected = 0
    for new in range(1, 41):
        new_root = ref_mth(ENTRIES[:new])
        for old in range(1, new + 1):
            old_root = ref_mth(ENTRIES[:old])
            proof = consistency_proof(STORE_40, old, new)
            for claimed_old, claimed_new in (
                (old - 1, new),
                (old + 1, new),
                (old, new - 1),
                (old, new + 1),
                (old, new + 5),
                (old + 1, new + 1),
            ):
                got = verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)
                if claimed_old <= 0 or claimed_new < claimed_old:
                    assert not got, (old, new, claimed_old, claimed_new)
                    continue
                want = ref_verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)
                assert got == want, (old, new, claimed_old, claimed_new)
                if len(ref_proof(claimed_old, ENTRIES[:claimed_new])) != len(proof):
                    assert not got, (old, new, claimed_old, claimed_new)
                rejected += not got
    assert rejected > 1000


def test_verify_consistency_equal_sizes() -> None:
    root = ref_mth(ENTRIES[:5])
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, _flip(root), [])
    assert not verify_consistency(5, 5, root, root, [root])


def test_verifiers_reject_malformed_input_without_raising() -> None:
    root = ref_mth(ENTRIES[:4])
    leaf = leaf_hash(ENTRIES[1])
    proof = inclusion_proof(STORE_40, 1, 4)
    assert verify_inclusion(leaf, 1, 4, proof, root)
    assert not verify_inclusion(leaf[:-1], 1, 4, proof, root)
    assert not verify_inclusion(leaf, 1, 4, proof, root + b"\x00")
    assert not verify_inclusion(leaf, 1, 4, [proof[0][:31], proof[1]], root)
    assert not verify_inclusion(leaf, 1, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 0, 0, [], leaf)
    old_root = ref_mth(ENTRIES[:3])
    cproof = consistency_proof(STORE_40, 3, 4)
    assert verify_consistency(3, 4, old_root, root, cproof)
    assert not verify_consistency(3, 4, old_root[:16], root, cproof)
    assert not verify_consistency(3, 4, old_root, root, [p + b"\x00" for p in cproof])
    assert not verify_consistency(4, 3, old_root, root, cproof)
    assert not verify_consistency(-1, 4, old_root, root, cproof)
    assert not verify_consistency(3, 4, old_root, root, [])


# ---------------------------------------------------------------------- argument checking


def test_out_of_range_arguments_raise_proof_error() -> None:
    assert issubclass(ProofError, ValueError)
    cases: list[Callable[[], object]] = [
        lambda: inclusion_proof(STORE_40, 5, 5),
        lambda: inclusion_proof(STORE_40, -1, 5),
        lambda: inclusion_proof(STORE_40, 0, 0),
        lambda: inclusion_proof(STORE_40, 0, 41),  # beyond the stored tree
        lambda: inclusion_proof(STORE_40, 40, 41),
        lambda: consistency_proof(STORE_40, 6, 5),
        lambda: consistency_proof(STORE_40, -1, 5),
        lambda: consistency_proof(STORE_40, 5, 41),
        lambda: consistency_proof(STORE_40, 41, 41),
        lambda: consistency_proof(STORE_40, 0, 41),
        lambda: tree_root(STORE_40, 41),
        lambda: tree_root(STORE_40, 64),
        lambda: tree_root(STORE_40, -1),
        lambda: tree_root(MemoryNodeStore(), 1),
        lambda: subtree_root(STORE_40, 5, 4),
        lambda: subtree_root(STORE_40, -1, 4),
        lambda: subtree_root(STORE_40, 32, 41),
        lambda: subtree_root(STORE_40, 41, 41),
        lambda: inclusion_proof(MemoryNodeStore(), 0, 1),
    ]
    for case in cases:
        with pytest.raises(ProofError):
            case()


def test_exact_stored_size_is_in_range() -> None:
    assert tree_root(STORE_40, 40) == ref_mth(ENTRIES[:40])
    assert subtree_root(STORE_40, 40, 40) == EMPTY_ROOT
    assert consistency_proof(STORE_40, 40, 40) == []
    assert inclusion_proof(STORE_40, 39, 40) == ref_path(39, ENTRIES[:40])


# ------------------------------------------------------------------------------------ scale


def test_hundred_thousand_leaves_in_batches_of_ten_thousand() -> None:
    """The production shape: big tree, 10k-leaf batches, root equals a bottom-up build."""
    total, batch = 100_000, 10_000
    leaves = [_sha(b"\x00" + i.to_bytes(4, "big")) for i in range(total)]
    store = MemoryNodeStore()
    started = time.perf_counter()
    for size in range(0, total, batch):
        store.put_many(new_nodes_for_append(store, size, leaves[size : size + batch]))
    elapsed = time.perf_counter() - started
    assert store.leaf_count == total
    assert len(store) == 2 * total - total.bit_count()  # every complete subtree, once
    assert tree_root(store, total) == ref_root_level_by_level(leaves)
    assert tree_root(store, 65_537) == ref_root_level_by_level(leaves[:65_537])
    for index in (0, 12_345, 65_536, 99_999):
        proof = inclusion_proof(store, index, total)
        assert verify_inclusion(leaves[index], index, total, proof, tree_root(store, total))
    proof = consistency_proof(store, 70_001, total)
    assert verify_consistency(70_001, total, tree_root(store, 70_001), tree_root(store, total), proof)
    assert elapsed < 10, f"appending 100k leaves took {elapsed:.2f}s"
