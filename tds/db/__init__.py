"""The database: models, the engine and sessions, upserts, migrations."""
