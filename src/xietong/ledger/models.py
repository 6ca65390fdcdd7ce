"""The append-only ledger (F13). No row here is ever updated or deleted: on both databases a
trigger rejects it (migration 0002), and ``ledger verify`` detects it if the trigger was bypassed."""

from __future__ import annotations

from django.db import models


class LedgerEntry(models.Model):
    """One act. ``entry_hash`` = SHA-256 over the canonical form (``ledger.chain``) which includes
    ``prev_hash``, the hash of the same case's previous entry: one chain per case, so cases never
    queue behind one another."""

    case_id = models.BigIntegerField(db_index=False)
    seq = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True)
    actor_name = models.CharField(max_length=50)
    actor_duty = models.CharField(max_length=30)
    unit_id = models.BigIntegerField(null=True)
    unit_name = models.CharField(max_length=100)
    action = models.CharField(max_length=40)
    payload = models.TextField()  # canonical JSON text, hashed as stored
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case_id", "seq"], name="uniq_ledger_case_seq")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"


class MerkleLeaf(models.Model):
    """The entry's position in the global Merkle tree, assigned in batches by the integrator."""

    index = models.BigIntegerField(primary_key=True)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="leaf")

    def __str__(self) -> str:
        return f"leaf {self.index}"


class MerkleNode(models.Model):
    """Hash of a complete subtree (level, index): leaves [index·2^level, (index+1)·2^level)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="uniq_merkle_node")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class TreeHead(models.Model):
    """A signed tree head: the root over the first ``size`` leaves, signed with the ledger key."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    signed_at = models.CharField(max_length=32)  # the exact text that was signed (UTC)
    signature = models.CharField(max_length=128)
    key_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"tree head {self.size} {self.root_hash[:12]}"
