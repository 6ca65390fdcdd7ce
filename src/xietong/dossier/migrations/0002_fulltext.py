"""Full-text index over ``dossier_pageindex.tokens`` (jieba words joined by spaces):
SQLite FTS5 external-content table kept in step by triggers; PostgreSQL GIN over a 'simple' tsvector."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE dossier_pageindex_fts USING fts5("
    "tokens, content='dossier_pageindex', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER dossier_pageindex_ai AFTER INSERT ON dossier_pageindex BEGIN "
    "INSERT INTO dossier_pageindex_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER dossier_pageindex_ad AFTER DELETE ON dossier_pageindex BEGIN "
    "INSERT INTO dossier_pageindex_fts(dossier_pageindex_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER dossier_pageindex_au AFTER UPDATE ON dossier_pageindex BEGIN "
    "INSERT INTO dossier_pageindex_fts(dossier_pageindex_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO dossier_pageindex_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS dossier_pageindex_au",
    "DROP TRIGGER IF EXISTS dossier_pageindex_ad",
    "DROP TRIGGER IF EXISTS dossier_pageindex_ai",
    "DROP TABLE IF EXISTS dossier_pageindex_fts",
]
POSTGRES = [
    "CREATE INDEX dossier_pageindex_tsv ON dossier_pageindex USING GIN (to_tsvector('simple', tokens))"
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS dossier_pageindex_tsv"]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("dossier", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
