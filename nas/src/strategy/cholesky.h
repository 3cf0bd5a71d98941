// A small dense Cholesky factorisation and its triangular solves, for the Gaussian process.
//
// Hand-written rather than LAPACK's dpotrf: the matrices have at most a few hundred rows (one per
// trial), so the O(n^3 / 6) loop costs milliseconds, and a fixed loop order gives bit-identical
// results on every machine, which a resumed search needs to ask what the uninterrupted one asked
// (OpenBLAS picks its blocking and kernels by CPU and thread count).
#pragma once

#include <cstdint>
#include <vector>

namespace fusenas::nas::strategy {

// The row-major n x n lower-triangular L with L L^T = A + jitter I, for the symmetric `a`
// (row-major; only its lower triangle is read). When that is not positive definite (duplicate
// points, round-off), retries with the jitter multiplied by 100, up to `max_jitter`, and throws
// fusenas::Error naming `what` after that. `jitter_used` receives the jitter that worked.
std::vector<double> cholesky_with_jitter(const std::vector<double>& a, int64_t n, double jitter,
                                         double max_jitter, const char* what,
                                         double* jitter_used = nullptr);

// x with L x = b (forward substitution), in place.
void solve_lower(const std::vector<double>& l, int64_t n, double* b);
// x with L^T x = b (back substitution), in place.
void solve_upper(const std::vector<double>& l, int64_t n, double* b);

}  // namespace fusenas::nas::strategy
