"""The engine's memory: a persistent timeline, stats history and crash reports (Qt-free).

One SQLite file in the user data folder. Writes go through one writer thread in batches; reads
run in a reader thread; nothing here ever runs a query on the caller's (UI) thread.
"""
