"""The editor's scaffolding: a new site (`digest init`) and its CI workflow (`--ci`), a new
article or page bundle (`digest new`), written as the content stage reads them.

Imports: base, build.
"""
