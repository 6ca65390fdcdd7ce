"""The head of each case's ledger chain (seq and hash of its last entry) kept on the case row, so that
an append reads it with the case's row lock instead of searching the ledger. Existing cases get the
head of the chain they already have (0 and GENESIS when none)."""

from django.db import migrations, models

GENESIS = "0" * 64

# Portable (PostgreSQL and SQLite): correlated subqueries over the ledger's unique (case_id, seq).
BACKFILL = """
UPDATE cases_case SET
    ledger_seq = COALESCE(
        (SELECT MAX(e.seq) FROM ledger_ledgerentry e WHERE e.case_id = cases_case.id), 0
    ),
    ledger_head = COALESCE(
        (SELECT e.entry_hash FROM ledger_ledgerentry e WHERE e.case_id = cases_case.id
         ORDER BY e.seq DESC LIMIT 1),
        %s
    )
"""


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    schema_editor.execute(BACKFILL, params=[GENESIS])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_instrument_moves_to_instruments_app"),
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="ledger_head",
            field=models.CharField(default=GENESIS, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="case",
            name="ledger_seq",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
