"""SQLite persistence: connection, migrations, repositories, the outbox; no Qt."""
