//===- Reorder.cpp - SSR column reordering --------------------------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Reorder.h"
#include "passes/solvers/Internal.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace terminator::solvers {

Result<std::vector<int64_t>> ssrOrder(MatrixView w, const SsrOptions &options) {
  if (options.blockSize < 1)
    return detail::makeError("ssr block size must be >= 1, but is ",
                             options.blockSize);
  const int64_t n = w.rows, k = w.cols;
  std::vector<int64_t> perm(static_cast<size_t>(k));
  std::iota(perm.begin(), perm.end(), 0);
  if (k <= options.blockSize)
    return perm;

  // |W| column norms (the norms of the magnitude profiles equal those of
  // the columns).
  std::vector<double> norm(static_cast<size_t>(k), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      double v = w.at(r, c);
      norm[size_t(c)] += v * v;
    }
  for (double &v : norm)
    v = std::sqrt(v);

  std::vector<char> taken(static_cast<size_t>(k), 0);
  std::vector<double> dot(static_cast<size_t>(k));
  std::vector<int64_t> candidates;
  perm.clear();
  while (int64_t(perm.size()) < k) {
    int64_t seed = -1;
    for (int64_t c = 0; c < k; ++c)
      if (!taken[size_t(c)] &&
          (seed < 0 || norm[size_t(c)] > norm[size_t(seed)]))
        seed = c;
    taken[size_t(seed)] = 1;
    perm.push_back(seed);
    // ⟨|w_seed|, |w_c|⟩ for every remaining column, row by row.
    std::fill(dot.begin(), dot.end(), 0.0);
    for (int64_t r = 0; r < n; ++r) {
      double a = std::fabs(w.at(r, seed));
      if (a == 0.0)
        continue;
      const float *row = w.data + r * k;
      for (int64_t c = 0; c < k; ++c)
        dot[size_t(c)] += a * std::fabs(row[c]);
    }
    candidates.clear();
    for (int64_t c = 0; c < k; ++c)
      if (!taken[size_t(c)])
        candidates.push_back(c);
    double ns = norm[size_t(seed)];
    auto similarity = [&](int64_t c) {
      double nc = norm[size_t(c)], squares = ns * ns + nc * nc;
      // cos · 2 ns nc / (ns² + nc²) = 2 ⟨a, b⟩ / (ns² + nc²).
      return squares > 0.0 ? 2.0 * dot[size_t(c)] / squares : 0.0;
    };
    size_t take = std::min(candidates.size(), size_t(options.blockSize - 1));
    std::partial_sort(candidates.begin(), candidates.begin() + take,
                      candidates.end(), [&](int64_t a, int64_t b) {
                        double sa = similarity(a), sb = similarity(b);
                        return sa != sb ? sa > sb : a < b;
                      });
    for (size_t i = 0; i < take; ++i) {
      taken[size_t(candidates[i])] = 1;
      perm.push_back(candidates[i]);
    }
  }
  return perm;
}

std::vector<float> permuteColumns(MatrixView w,
                                  const std::vector<int64_t> &perm) {
  std::vector<float> out(static_cast<size_t>(w.rows * w.cols));
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c = 0; c < w.cols; ++c)
      out[size_t(r * w.cols + c)] = w.at(r, perm[size_t(c)]);
  return out;
}

std::vector<float> permuteRows(MatrixView w, const std::vector<int64_t> &perm) {
  std::vector<float> out(static_cast<size_t>(w.rows * w.cols));
  for (int64_t r = 0; r < w.rows; ++r)
    std::copy_n(w.data + perm[size_t(r)] * w.cols, w.cols,
                out.begin() + r * w.cols);
  return out;
}

std::vector<float> permuteGram(MatrixView h, const std::vector<int64_t> &perm) {
  std::vector<float> out(static_cast<size_t>(h.rows * h.cols));
  for (int64_t i = 0; i < h.rows; ++i)
    for (int64_t j = 0; j < h.cols; ++j)
      out[size_t(i * h.cols + j)] = h.at(perm[size_t(i)], perm[size_t(j)]);
  return out;
}

} // namespace terminator::solvers
