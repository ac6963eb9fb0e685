"""The incremental layer that wraps the plain stages: the keys of every output file, the kept plan, the
article store, the cache folder and its seals, and the layer the driver calls in one place.

Imports: base, build.
"""
