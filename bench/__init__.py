"""Performance benchmarks. Run with `relasi bench customers --rows N` (or `make bench`); see docs/benchmarks.md.

Not part of the installed package: the `bench` management command puts the repository root on the path.
"""
