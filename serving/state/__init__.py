"""The service's state: one store and one transaction for all of it.

Audit log, suggestions, decisions, queue and linkage live in one database behind
``serving.state.store.StateStore``, the only way the service, the CLI and the benchmarks
read or write them. ``backend`` holds what differs between database engines (SQLite
today), ``sql`` every statement, ``migrate`` the copy of older state folders' separate
files into the one database.
"""
