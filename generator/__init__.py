"""newsdigest: a static site generator for themed news digests."""

__version__ = "0.1.0"
