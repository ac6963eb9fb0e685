"""The incremental layer that wraps the plain stages: the keys of every output file, the kept plan, the
article store, the cache folder and its seals, the snapshot of the last site, and the layer the
driver calls in one place.

Imports: base, build.
"""
