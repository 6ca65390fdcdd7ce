"""RFC 6962 / RFC 9162 Merkle tree over a store of complete-subtree hashes.

Why this shape
--------------
The ledger must prove two things to an outside auditor: that an entry is in the log
(inclusion proof) and that today's log extends yesterday's without rewriting it
(consistency proof).  Both proofs, and the tree head itself, are made of hashes of
*complete* (perfect, power-of-two sized, aligned) subtrees plus a few hashes computed on
the fly.  A complete subtree never changes once its last leaf exists, so it can be written
once to an append-only table keyed by ``(level, index)`` and never updated; the table
grows by about two rows per leaf, and any proof needs only ``O(log n)`` of its rows.

This module is deliberately pure Python with no Django import: the same code runs inside
the web process (against a database-backed :class:`NodeStore`) and in the offline
verifier tool (against :class:`MemoryNodeStore`), so an auditor can check proofs with code
that does not depend on the system being audited being honest.

Conventions
-----------
* Node ``(level, index)`` is ``MTH(D[index * 2**level : (index + 1) * 2**level])``;
  level 0 holds the leaf hashes ``leaf_hash(entry)``.
* "Leaf" arguments to the verifiers are leaf *hashes*, not entry bytes, as in RFC 9162.
* Functions that read the store do exactly one :meth:`NodeStore.get_many` call, so a
  database-backed store answers each proof, root or append with a single query.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryNodeStore",
    "NodeStore",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "new_nodes_for_append",
    "node_hash",
    "subtree_root",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""SHA-256 digest length; every node, leaf hash and root is exactly this long."""

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH({}) -- RFC 6962 §2.1 defines the empty tree's hash as the hash of the empty string."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

Key = tuple[int, int]
"""``(level, index)`` of a complete subtree."""


class ProofError(ValueError):
    """An argument is out of range for the tree, or the store lacks a node it must hold.

    A subclass of ``ValueError`` so callers that validate user input (API views asking for
    ``?index=...&size=...``) can turn it into a 400 without special-casing this module.
    """


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry.  The ``0x00`` prefix (RFC 6962 §2.1) makes a leaf hash
    impossible to confuse with an interior node, which blocks second-preimage attacks
    where a forger presents an interior node as if it were an entry."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children into their parent, with the ``0x01`` interior-node prefix."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


@runtime_checkable
class NodeStore(Protocol):
    """Hashes of COMPLETE subtrees only: (level, index) covers leaves
    [index * 2**level, (index + 1) * 2**level).  Level 0 = leaf hashes.

    Only complete subtrees are stored because they are immutable: the row for a node is
    written once, when its last leaf arrives, and is never updated, which suits an
    append-only (trigger-protected) table.  Incomplete right-edge subtrees are cheap to
    recompute from at most ``log2(n)`` complete ones, so they are never stored.
    """

    def get(self, level: int, index: int) -> bytes:
        """Return one node; raise ``KeyError`` if it is not stored."""
        ...

    def get_many(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Return the stored nodes among ``keys``; missing keys are simply absent.

        Batch read: a database-backed store answers this with one query.  This module
        only ever calls ``get_many`` so that every operation costs a single round trip.
        """
        ...


class MemoryNodeStore:
    """Dict-backed :class:`NodeStore`, used by the tests and the offline verifier tool.

    ``put_many`` refuses to overwrite a node with a different hash: in a tamper-evident
    ledger a conflicting rewrite of history is always a bug or an attack, never an update.
    """

    def __init__(self, nodes: Iterable[tuple[int, int, bytes]] = ()) -> None:
        self._nodes: dict[Key, bytes] = {}
        self._leaf_count = 0
        self.put_many(nodes)

    def get(self, level: int, index: int) -> bytes:
        """Return node ``(level, index)``; ``KeyError`` if absent."""
        return self._nodes[(level, index)]

    def get_many(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Return the present nodes among ``keys`` (absent keys are omitted)."""
        nodes = self._nodes
        return {key: nodes[key] for key in keys if key in nodes}

    def put_many(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        """Store ``(level, index, hash)`` triples, e.g. the output of
        :func:`new_nodes_for_append`.

        All-or-nothing: every triple is validated before any is written, so a rejected
        batch leaves the store unchanged (like a rolled-back database transaction).
        """
        batch: dict[Key, bytes] = {}
        for level, index, digest in nodes:
            if level < 0 or index < 0:
                raise ValueError(f"invalid node key ({level}, {index})")
            if len(digest) != HASH_SIZE:
                raise ValueError(f"node ({level}, {index}) hash must be {HASH_SIZE} bytes")
            key = (level, index)
            existing = self._nodes.get(key, batch.get(key))
            if existing is not None and existing != digest:
                raise ValueError(f"node ({level}, {index}) already stored with a different hash")
            batch[key] = bytes(digest)
        for key, digest in batch.items():
            if key[0] == 0 and key not in self._nodes:
                self._leaf_count += 1
            self._nodes[key] = digest

    @property
    def leaf_count(self) -> int:
        """Number of stored leaves (equals the tree size when appends were contiguous)."""
        return self._leaf_count

    def as_dict(self) -> dict[tuple[int, int], bytes]:
        """A copy of every stored node, for comparisons and export."""
        return dict(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


# --------------------------------------------------------------------------- helpers


def _split(n: int) -> int:
    """RFC 6962's k: the largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _range_keys(start: int, end: int, out: set[Key]) -> None:
    """Collect the stored nodes needed to compute ``MTH(D[start:end])`` (``end > start``).

    Follows the RFC's own recursion (split at the largest power of two below the length)
    and stops as soon as a piece is a complete, aligned subtree -- i.e. a stored node.  For
    the ranges that proofs and roots use, ``start`` is a multiple of that split, so every
    left piece is stored and only ``popcount(end - start)`` nodes are needed.
    """
    while True:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            level = n.bit_length() - 1
            out.add((level, start >> level))
            return
        k = _split(n)
        _range_keys(start, start + k, out)
        start += k


def _range_hash(start: int, end: int, nodes: dict[Key, bytes]) -> bytes:
    """Compute ``MTH(D[start:end])`` from nodes gathered by :func:`_range_keys`."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return nodes[(level, start >> level)]
    k = _split(n)
    return node_hash(_range_hash(start, start + k, nodes), _range_hash(start + k, end, nodes))


def _fetch(store: NodeStore, keys: set[Key], end: int) -> dict[Key, bytes]:
    """One batched read of ``keys``, also proving the store holds at least ``end`` leaves.

    Any key set that ends at leaf ``end`` already proves that (the node exists only once
    its last leaf does); otherwise leaf ``end - 1`` is added to the same query, so a
    request beyond the stored tree fails loudly instead of producing a bogus proof.
    """
    if end > 0 and not any(((index + 1) << level) == end for level, index in keys):
        keys.add((0, end - 1))
    if not keys:
        return {}
    ordered = sorted(keys)
    got = store.get_many(ordered)
    for key in ordered:
        if key not in got:
            raise ProofError(f"node {key} is not stored: the tree has fewer than {end} leaves")
    return got


def _hashes_for_ranges(store: NodeStore, ranges: Sequence[Key], end: int) -> list[bytes]:
    """``MTH`` of each ``(start, stop)`` range, with all reads in one ``get_many``."""
    keys: set[Key] = set()
    for start, stop in ranges:
        _range_keys(start, stop, keys)
    nodes = _fetch(store, keys, end)
    return [_range_hash(start, stop, nodes) for start, stop in ranges]


# ------------------------------------------------------------------------------ append


def new_nodes_for_append(
    store: NodeStore, size: int, leaf_hashes: Sequence[bytes]
) -> list[tuple[int, int, bytes]]:
    """Every ``(level, index, hash)`` complete-subtree node created by appending
    ``leaf_hashes`` to a tree that currently has ``size`` leaves, level 0 included.

    The caller persists the result (bulk insert) in the same transaction as the entries.
    Node ``(L, i)`` exists exactly when ``(i + 1) * 2**L <= size``, so the new nodes at
    level ``L`` are indices ``size >> L`` .. ``(size + k) >> L`` (exclusive).  Building them
    bottom-up only ever needs, from the store, the old left sibling of the first new node at
    each level -- the old tree's "frontier", at most ``log2(size)`` nodes, read in one
    ``get_many``.  Everything else is hashed in memory, so a 10k-leaf batch costs ~10k
    SHA-256 calls regardless of how large the tree already is.

    The same query also checks that leaf ``size - 1`` is stored and leaf ``size`` is not, so
    a caller with a stale or wrong ``size`` gets :class:`ProofError` instead of silently
    writing a forked tree.  (Concurrent appenders must still be serialised by the caller,
    e.g. with a row lock on the ledger head.)
    """
    if size < 0:
        raise ProofError(f"tree size must be >= 0, got {size}")
    for position, digest in enumerate(leaf_hashes):
        if not _is_hash(digest):
            raise ProofError(f"leaf hash #{position} must be {HASH_SIZE} bytes")
    count = len(leaf_hashes)
    if count == 0:
        return []
    new_size = size + count

    frontier = [
        (level, (size >> level) - 1)
        for level in range(size.bit_length())
        if (size >> level) & 1 and (new_size >> (level + 1)) > (size >> (level + 1))
    ]
    probes = [(0, size)] + ([(0, size - 1)] if size else [])
    got = store.get_many(sorted(set(frontier + probes)))
    if (0, size) in got:
        raise ProofError(f"the store already holds leaf {size}: the tree is larger than {size}")
    for key in frontier + probes[1:]:
        if key not in got:
            raise ProofError(f"node {key} is not stored: the tree has fewer than {size} leaves")

    result: list[tuple[int, int, bytes]] = [
        (0, size + offset, bytes(h)) for offset, h in enumerate(leaf_hashes)
    ]
    sha256 = hashlib.sha256
    prefix = _NODE_PREFIX
    current: list[bytes] = [bytes(h) for h in leaf_hashes]  # new nodes at `level`
    first = size  # index of current[0] at `level`
    level = 0
    while True:
        lo = size >> (level + 1)
        hi = new_size >> (level + 1)
        if hi == lo:  # no new parent here means none on any level above either
            break
        row = [got[(level, first - 1)], *current] if first & 1 else current
        parents = [sha256(prefix + row[2 * j] + row[2 * j + 1]).digest() for j in range(hi - lo)]
        level += 1
        result.extend((level, lo + j, digest) for j, digest in enumerate(parents))
        current = parents
        first = lo
    return result


# ------------------------------------------------------------------------------- roots


def subtree_root(store: NodeStore, start: int, end: int) -> bytes:
    """``MTH(D[start:end])`` for a range inside the stored tree (``EMPTY_ROOT`` if empty).

    For the ranges RFC 6962 itself produces -- ``start`` a multiple of the largest power of
    two below ``end - start``, which covers every tree head and every proof element -- this
    reads at most ``log2(n) + 1`` nodes in a single ``get_many``.  Other ("unaligned")
    ranges are still answered correctly, but their inner nodes are not complete subtrees of
    the global tree, so the cost grows with ``(end - start) / 2**t`` where ``2**t`` is the
    largest power of two dividing ``start``; avoid them on big ranges.
    """
    if start < 0 or end < start:
        raise ProofError(f"invalid range [{start}, {end})")
    if start == end:
        _fetch(store, set(), end)
        return EMPTY_ROOT
    return _hashes_for_ranges(store, [(start, end)], end)[0]


def tree_root(store: NodeStore, size: int) -> bytes:
    """``MTH(D[0:size])``, the tree head for ``size`` leaves; ``EMPTY_ROOT`` for 0.

    Reads the ``popcount(size)`` complete subtrees that tile ``[0, size)`` and folds them
    right to left, exactly as the RFC recursion would.
    """
    if size < 0:
        raise ProofError(f"tree size must be >= 0, got {size}")
    return subtree_root(store, 0, size)


# ------------------------------------------------------------------------------ proofs


def _inclusion_ranges(index: int, size: int) -> list[Key]:
    """Ranges whose hashes form ``PATH(index, D[0:size])``, leaf-adjacent first."""
    ranges: list[Key] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[Key]:
    """Ranges whose hashes form ``PROOF(old_size, D[0:new_size])`` (RFC 6962 §2.1.2)."""
    ranges: list[Key] = []
    lo, hi = 0, new_size
    m = old_size  # relative to lo
    complete = True  # the RFC's flag b: is D[lo:lo+m] the whole old tree?
    while m < hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def inclusion_proof(store: NodeStore, index: int, size: int) -> list[bytes]:
    """RFC 6962 §2.1.1 ``PATH(index, D[0:size])``: the audit path for leaf ``index`` in
    the tree head of ``size`` leaves, sibling of the leaf first.

    One ``get_many`` of at most ``~2 log2(size)`` nodes (each path element is one stored
    node, except the right-edge one which folds ``popcount`` of them).
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    return _hashes_for_ranges(store, _inclusion_ranges(index, size), size)


def consistency_proof(store: NodeStore, old_size: int, new_size: int) -> list[bytes]:
    """RFC 6962 §2.1.2 ``PROOF(old_size, D[0:new_size])``: proves the ``old_size`` tree
    head is a prefix of the ``new_size`` one.

    Empty when ``old_size == new_size`` (RFC 9162) or ``old_size == 0`` (every tree extends
    the empty tree; the RFC leaves this case undefined and empty is the only sensible
    answer).  The sizes are still checked against the store so a request for a tree head
    that does not exist yet is refused.
    """
    if old_size < 0 or old_size > new_size:
        raise ProofError(f"invalid consistency range {old_size} -> {new_size}")
    if old_size == 0 or old_size == new_size:
        _fetch(store, set(), new_size)
        return []
    return _hashes_for_ranges(store, _consistency_ranges(old_size, new_size), new_size)


# ------------------------------------------------------------------------ verification


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree
    of ``size`` leaves whose head is ``root``?

    Never raises on bad input: a verifier is fed untrusted data, so anything malformed
    (wrong lengths, index out of range, too long or too short a proof) is just ``False``.
    """
    if not 0 <= index < size:
        return False
    if not _is_hash(leaf) or not _is_hash(root) or not all(_is_hash(p) for p in proof):
        return False
    fn, sn = index, size - 1
    r = bytes(leaf)
    for p in proof:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the ``old_size`` tree with head ``old_root``
    is a prefix of the ``new_size`` tree with head ``new_root``?

    Edge cases (outside the RFC's ``0 < old_size < new_size``): equal sizes need an empty
    proof and equal roots; ``old_size == 0`` needs an empty proof and ``old_root`` equal
    to :data:`EMPTY_ROOT` (stricter than some libraries, which accept any old root, because
    an auditor holding a non-empty root for size 0 has been lied to).  Never raises.
    """
    if old_size < 0 or new_size < old_size:
        return False
    if not _is_hash(old_root) or not _is_hash(new_root) or not all(_is_hash(p) for p in proof):
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if old_size == 0:
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if old_size & (old_size - 1) == 0:
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False  # proof longer than needed
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)
