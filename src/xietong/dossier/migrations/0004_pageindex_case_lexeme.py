"""PostgreSQL: the page's case goes into its tsvector as the lexeme ``'case <id>'``, so a search for a
user who sees few cases can AND the words with ``('case 3' | 'case 17' | …)`` and let GIN intersect
words and cases inside the index (``dossier.search``). The lexeme holds a space, which the text
parser never leaves in a word, so no page text can forge it.

The table also gets ``toast_tuple_target = 128``: ``tokens`` (≈ 1 KB compressed) then goes out of
line like ``tsv`` already did, and a heap row is ~100 bytes instead of ~1.3 KB. The heap of a million
pages (≈ 100 MB instead of 1.3 GB) then stays in shared buffers, which is what a bitmap scan over the
GIN matches reads. Rewrites the table (the column is re-added). SQLite: nothing to do."""

from django.db import migrations

TSV_0003 = "to_tsvector('simple', tokens)"
TSV_0004 = "to_tsvector('simple', tokens) || array_to_tsvector(ARRAY['case ' || case_id::text])"


def _rebuild(schema_editor, expression: str, toast_target: str) -> None:
    for sql in (
        "DROP INDEX IF EXISTS dossier_pageindex_tsv",
        "ALTER TABLE dossier_pageindex DROP COLUMN IF EXISTS tsv",
        f"ALTER TABLE dossier_pageindex {toast_target}",
        f"ALTER TABLE dossier_pageindex ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expression}) STORED",
        "CREATE INDEX dossier_pageindex_tsv ON dossier_pageindex USING GIN (tsv)",
        "ANALYZE dossier_pageindex",
    ):
        schema_editor.execute(sql, params=None)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, TSV_0004, "SET (toast_tuple_target = 128)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, TSV_0003, "RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("dossier", "0003_pageindex_tsv_column")]
    operations = [migrations.RunPython(forwards, backwards)]
