"""The shared floor: the model passed between stages, errors, URLs, hashes, worker processes, safe YAML,
the site lock, the duplicate finder and durable writes. Every room may use it; it uses nothing of the package.

Imports: nothing.
"""
