"""Scripts run by hand, not by the test suite: `make fault` and `make soak` (README: Reliability checks),
and `make bench`, the benchmark of the verification path (bench/README.md). The benchmark's own tests are in
bench/tests/ (run by `make test`); the benchmark imports what it shares with the suite from tests.support, and
nothing in the product or its tests imports bench."""
