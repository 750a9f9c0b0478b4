//===- ScaleSearch.cpp - per-row scales by a calibrated grid --------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/ScaleSearch.h"
#include "passes/solvers/Internal.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace terminator::solvers {

namespace {

/// The per-row multipliers to try, ascending, with 1 among them.
struct Grid {
  std::vector<double> multipliers;
  size_t one = 0;
};

Grid makeGrid(const ScaleSearchOptions &options) {
  Grid grid;
  for (int i = 0; i < options.steps; ++i)
    grid.multipliers.push_back(
        options.steps == 1
            ? options.minMultiplier
            : options.minMultiplier +
                  double(i) * (options.maxMultiplier - options.minMultiplier) /
                      double(options.steps - 1));
  grid.multipliers.push_back(1.0);
  std::sort(grid.multipliers.begin(), grid.multipliers.end());
  grid.multipliers.erase(
      std::unique(grid.multipliers.begin(), grid.multipliers.end()),
      grid.multipliers.end());
  grid.one =
      size_t(std::find(grid.multipliers.begin(), grid.multipliers.end(), 1.0) -
             grid.multipliers.begin());
  return grid;
}

float rowStatistic(const float *w, int64_t n, ScaleStatistic statistic) {
  double acc = 0.0;
  for (int64_t c = 0; c < n; ++c) {
    double x = std::fabs(double(w[c]));
    acc = statistic == ScaleStatistic::Absmax ? std::max(acc, x) : acc + x;
  }
  if (statistic == ScaleStatistic::Absmean)
    acc = n == 0 ? 0.0 : acc / double(n);
  return float(acc);
}

/// The index of the smallest objective; ties keep `preferred`.
size_t argmin(const std::vector<double> &objective, size_t preferred) {
  size_t best = preferred;
  for (size_t k = 0; k < objective.size(); ++k)
    if (objective[k] < objective[best])
      best = k;
  return best;
}

} // namespace

Result<TernaryMatrix>
scaleSearch(MatrixView w, const ScaleSearchOptions &options, MatrixView h) {
  if (options.steps < 1 || options.steps > 256)
    return detail::makeError("scale search needs 1 <= steps <= 256, but has ",
                             options.steps);
  if (!(options.minMultiplier > 0.0) ||
      !(options.minMultiplier <= options.maxMultiplier) ||
      !std::isfinite(options.maxMultiplier))
    return detail::makeError(
        "scale search needs finite multipliers 0 < min <= max, but has ",
        options.minMultiplier, " and ", options.maxMultiplier);
  if (auto error = detail::checkMatrix(w, "w"))
    return *error;
  if (!h.isNull())
    if (auto error = detail::checkGram(h, w.cols))
      return *error;

  const int64_t n = w.rows, k = w.cols;
  Grid grid = makeGrid(options);
  const size_t steps = grid.multipliers.size();
  TernaryMatrix q = TernaryMatrix::zeros(n, k, k, /*withOffsets=*/false);
  std::vector<float> stat(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r)
    stat[size_t(r)] = rowStatistic(w.data + r * k, k, options.statistic);
  auto scaleOf = [&](int64_t r, size_t step) {
    return float(grid.multipliers[step] * double(stat[size_t(r)]));
  };
  auto writeRow = [&](int64_t r, size_t step) {
    float s = scaleOf(r, step);
    q.scales[size_t(r)] = s;
    for (int64_t c = 0; c < k; ++c)
      q.codes[size_t(r * k + c)] = detail::roundTernary(w.at(r, c), s);
  };
  std::vector<double> objective(steps);

  if (h.isNull()) {
    for (int64_t r = 0; r < n; ++r) {
      if (stat[size_t(r)] == 0.0f)
        continue;
      for (size_t step = 0; step < steps; ++step) {
        float s = scaleOf(r, step);
        double sum = 0.0;
        for (int64_t c = 0; c < k; ++c) {
          double e = double(w.at(r, c)) -
                     double(s) * double(detail::roundTernary(w.at(r, c), s));
          sum += e * e;
        }
        objective[step] = sum;
      }
      writeRow(r, argmin(objective, grid.one));
    }
    return q;
  }

  // With H. Per row, s_j = sign(w) ∘ [b = j] are disjoint and t(s_k) =
  // Σ_{j>k} s_j, so with Y_j = H s_j (K-vectors):
  //   t(s_k)ᵀ H t(s_k) = Σ_{j,j'>k} M_jj',  M_jj' = s_jᵀ Y_j',
  //   t(s_k)ᵀ H w      = Σ_{j>k} P_j,       P_j = wᵀ Y_j.
  // Y is one signed add of a row of H per weight: rows·cols² adds in all.
  // Rows in tiles and output columns in tiles, so that a tile of H is read
  // once per row tile and the Y tiles stay in cache; float partial sums over
  // chunks of H rows are flushed to double.
  constexpr int64_t tileRows = 16, tileI = 512, chunkC = 512;
  const size_t buckets = steps + 1; // b ∈ [0, steps]; b = 0 keeps no code.
  std::vector<uint16_t> bucket(size_t(tileRows * k));
  std::vector<float> yf(size_t(tileRows) * buckets * tileI);
  std::vector<double> yd(yf.size());
  std::vector<uint8_t> touched(size_t(tileRows) * buckets);
  std::vector<double> m(size_t(tileRows) * buckets * buckets),
      p(size_t(tileRows) * buckets);
  for (int64_t r0 = 0; r0 < n; r0 += tileRows) {
    int64_t rows = std::min(tileRows, n - r0);
    // b_c = the number of steps that keep code c (a prefix of the grid).
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < k; ++c) {
        float x = w.at(r0 + i, c);
        size_t kept = 0;
        while (kept < steps && detail::roundTernary(x, scaleOf(r0 + i, kept)))
          ++kept;
        bucket[size_t(i * k + c)] = uint16_t(kept);
      }
    std::fill(m.begin(), m.end(), 0.0);
    std::fill(p.begin(), p.end(), 0.0);
    for (int64_t i0 = 0; i0 < k; i0 += tileI) {
      const int64_t ib = std::min(tileI, k - i0);
      std::fill(yd.begin(), yd.end(), 0.0);
      for (int64_t c0 = 0; c0 < k; c0 += chunkC) {
        std::fill(touched.begin(), touched.end(), 0);
        for (int64_t c = c0; c < std::min(k, c0 + chunkC); ++c) {
          const float *hc = h.data + c * k + i0;
          for (int64_t i = 0; i < rows; ++i) {
            size_t b = bucket[size_t(i * k + c)];
            if (b == 0)
              continue;
            size_t slot = size_t(i) * buckets + b;
            float *y = yf.data() + slot * tileI;
            if (!touched[slot]) {
              touched[slot] = 1;
              std::fill(y, y + ib, 0.0f);
            }
            if (w.at(r0 + i, c) > 0.0f)
              for (int64_t l = 0; l < ib; ++l)
                y[l] += hc[l];
            else
              for (int64_t l = 0; l < ib; ++l)
                y[l] -= hc[l];
          }
        }
        for (size_t slot = 0; slot < touched.size(); ++slot)
          if (touched[slot])
            for (int64_t l = 0; l < ib; ++l)
              yd[slot * tileI + size_t(l)] +=
                  double(yf[slot * tileI + size_t(l)]);
      }
      // M_{b_c, j'} += sign(w_c) Y_j'[c] and P_j' += w_c Y_j'[c] over this
      // tile of c.
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t l = 0; l < ib; ++l) {
          int64_t c = i0 + l;
          double x = double(w.at(r0 + i, c));
          size_t bc = bucket[size_t(i * k + c)];
          double *mRow = m.data() + (size_t(i) * buckets + bc) * buckets;
          double *pRow = p.data() + size_t(i) * buckets;
          double sign = x > 0.0 ? 1.0 : -1.0;
          for (size_t j = 1; j < buckets; ++j) {
            double y = yd[(size_t(i) * buckets + j) * tileI + size_t(l)];
            pRow[j] += x * y;
            if (bc != 0)
              mRow[j] += sign * y;
          }
        }
    }
    for (int64_t i = 0; i < rows; ++i) {
      int64_t r = r0 + i;
      if (stat[size_t(r)] == 0.0f)
        continue;
      const double *mi = m.data() + size_t(i) * buckets * buckets;
      const double *pi = p.data() + size_t(i) * buckets;
      // Step k keeps buckets j > k: add bucket j = k + 1 going down.
      double tHt = 0.0, tHw = 0.0;
      for (size_t step = steps; step-- > 0;) {
        size_t j = step + 1;
        tHt += mi[j * buckets + j];
        for (size_t j2 = j + 1; j2 < buckets; ++j2)
          tHt += mi[j * buckets + j2] + mi[j2 * buckets + j];
        tHw += pi[j];
        double s = double(scaleOf(r, step));
        objective[step] = s * s * tHt - 2.0 * s * tHw;
      }
      writeRow(r, argmin(objective, grid.one));
    }
  }
  return q;
}

} // namespace terminator::solvers
