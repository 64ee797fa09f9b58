"""Scripts run by hand, not by the test suite: `make fault` and `make soak` (README: Reliability checks),
and `make bench`, the benchmark of the verification path (bench/README.md)."""
