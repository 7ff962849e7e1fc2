"""SQLite persistence: connection, migrations, repositories, the outbox; no Qt.

`Database` owns the file and hands each thread its own connection; each aggregate has its own
repository (items, inventory, orders, stream checkpoints, activity, settings, outbox).
"""
