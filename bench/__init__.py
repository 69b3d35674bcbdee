"""Performance benchmarks: `relasi bench customers --rows N` (or `make bench`), and how fast hostile input is
refused, `python -m bench.hostile` (or `make bench-hostile`); see docs/benchmarks.md.

Not part of the installed package: the `bench` management command puts the repository root on the path.
"""
