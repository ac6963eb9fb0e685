"""The one build driver: prepare (the stages) -> keys -> write the changes into a sink, with the
incremental layer around it; and `check`, which builds in memory and checks every link.

Imports: base, build, incremental.
"""
