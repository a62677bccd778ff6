"""Setrum's benchmark suite (not part of the test run): ``python -m bench --help``; see bench/README.md."""
