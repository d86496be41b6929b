"""Alembic migrations of derivkit's database (run by :meth:`derivkit.storage.Storage.open`)."""
