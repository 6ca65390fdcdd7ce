"""PostgreSQL: a stored tsvector column, so the GIN index's rechecks and the ranking read it instead
of re-parsing the words of every candidate page."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (
        "DROP INDEX IF EXISTS dossier_pageindex_tsv",
        "ALTER TABLE dossier_pageindex ADD COLUMN tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', tokens)) STORED",
        "CREATE INDEX dossier_pageindex_tsv ON dossier_pageindex USING GIN (tsv)",
        "CREATE INDEX dossier_pageindex_case_page ON dossier_pageindex (case_id, page_id)",
    ):
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (
        "DROP INDEX IF EXISTS dossier_pageindex_case_page",
        "DROP INDEX IF EXISTS dossier_pageindex_tsv",
        "ALTER TABLE dossier_pageindex DROP COLUMN IF EXISTS tsv",
        "CREATE INDEX dossier_pageindex_tsv ON dossier_pageindex USING GIN (to_tsvector('simple', tokens))",
    ):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("dossier", "0002_fulltext")]
    operations = [migrations.RunPython(forwards, backwards)]
