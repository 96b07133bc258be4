"""The database: models, engine and migrations, and one module of queries per table."""
