"""The shared floor: the model passed between stages, errors, URLs, hashes, worker processes, safe YAML,
the site lock and the duplicate finder. Every room may use it; it uses nothing of the package.

Imports: nothing.
"""
