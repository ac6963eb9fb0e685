"""`digest serve`: the preview server, the file watcher, and the session that rebuilds through the
driver into memory on every change.

Imports: base, build, incremental, driver.
"""
