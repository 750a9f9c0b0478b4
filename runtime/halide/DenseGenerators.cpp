//===- DenseGenerators.cpp - Halide generators of the dense operators -----===//
//
// Part of TerMinator. The dense operators of a Llama decoder written in
// Halide 14, compiled ahead of time per target at build time (GenGen, see
// CMakeLists.txt), and timed against the MLIR path by
// `terminator-bench dense`. Buffers are row-major [rows, cols]: Halide's
// dimension 0 is the column. Single-threaded, like the compiled program's
// dense code (the thread pool is for the ternary kernels).
//
//===----------------------------------------------------------------------===//

#include "Halide.h"

using namespace Halide;

namespace {

constexpr int kVector = 16; // f32 lanes of AVX-512; two AVX2 registers

/// Schedules the row reduction `reduction(t)` (one update over `r`: a sum
/// or a max) inside `consumer`'s row `t`, vectorized through an rfactor
/// over `kVector` columns at a time.
void vectorizeRowReduction(Func reduction, RDom r, Func consumer, Var t) {
  RVar ro("ro"), ri("ri");
  Var u("u");
  Func partial = reduction.update().split(r, ro, ri, kVector).rfactor(ri, u);
  reduction.compute_at(consumer, t);
  partial.compute_at(reduction, Var::outermost()).vectorize(u);
  partial.update().vectorize(u);
}

/// y = x / sqrt(mean(x²) + eps) · weight, per row.
class RmsNorm : public Generator<RmsNorm> {
public:
  Input<Buffer<float>> x{"x", 2};
  Input<Buffer<float>> weight{"weight", 1};
  Input<float> eps{"eps"};
  Output<Buffer<float>> y{"y", 2};

  void generate() {
    Var i("i"), t("t");
    Expr cols = x.dim(0).extent();
    RDom r(0, cols);
    Func squares("squares");
    squares(t) += x(r, t) * x(r, t);
    Func scale("scale");
    scale(t) = 1.0f / sqrt(squares(t) / cast<float>(cols) + eps);
    y(i, t) = x(i, t) * scale(t) * weight(i);

    vectorizeRowReduction(squares, r, y, t);
    scale.compute_at(y, t);
    y.vectorize(i, kVector, TailStrategy::GuardWithIf);
  }
};

/// y = exp(x − max x) / Σ exp(x − max x), per row.
class Softmax : public Generator<Softmax> {
public:
  Input<Buffer<float>> x{"x", 2};
  Output<Buffer<float>> y{"y", 2};

  void generate() {
    Var i("i"), t("t");
    RDom r(0, x.dim(0).extent());
    Func peak("peak");
    peak(t) = Float(32).min();
    peak(t) = max(peak(t), x(r, t));
    Func e("e");
    e(i, t) = exp(x(i, t) - peak(t));
    Func total("total");
    total(t) += e(r, t);
    y(i, t) = e(i, t) / total(t);

    vectorizeRowReduction(peak, r, y, t);
    e.compute_at(y, t).vectorize(i, kVector, TailStrategy::GuardWithIf);
    vectorizeRowReduction(total, r, y, t);
    y.vectorize(i, kVector, TailStrategy::GuardWithIf);
  }
};

/// SwiGLU's gate: y = silu(a) · b = a / (1 + exp(−a)) · b.
class SwiGlu : public Generator<SwiGlu> {
public:
  Input<Buffer<float>> a{"a", 2};
  Input<Buffer<float>> b{"b", 2};
  Output<Buffer<float>> y{"y", 2};

  void generate() {
    Var i("i"), t("t");
    y(i, t) = a(i, t) / (1.0f + exp(-a(i, t))) * b(i, t);
    y.vectorize(i, kVector, TailStrategy::GuardWithIf);
  }
};

} // namespace

HALIDE_REGISTER_GENERATOR(RmsNorm, rms_norm)
HALIDE_REGISTER_GENERATOR(Softmax, softmax)
HALIDE_REGISTER_GENERATOR(SwiGlu, swiglu)
