"""`digest migrate`: read another generator's site (Jekyll, Hugo, Zola, Pelican) by its own
configuration, read as data and never run; say how its URLs map to newsdigest's; copy its content and
files as they are into a new site, with a config.yaml that keeps its URLs; report what could not be
honoured.

Imports: base, build.
"""
