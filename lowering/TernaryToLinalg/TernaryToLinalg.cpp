//===- TernaryToLinalg.cpp - reference lowering to linalg -----------------===//
//
// Part of TerMinator. Exact f32 semantics of the ternary ops, for checking
// numerics and measuring quality; the fast path is the per-ISA kernels.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "lowering/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#define DEBUG_TYPE "convert-ternary-to-linalg"

namespace mlir::terminator {
#define GEN_PASS_DEF_CONVERTTERNARYTOLINALGPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;
using namespace mlir::ternary;

namespace {

/// A zero-filled tensor of `shape`.
Value zeros(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
            Type elementType) {
  Value init = tensor::EmptyOp::create(b, loc, shape, elementType);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
  return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{init})
      .getResult(0);
}

/// y[..., n] = Σ_k x[..., k]·w[n, k] (+ bias[n]), all of x's element type.
Value buildLinear(OpBuilder &b, Location loc, Value x, Value w, Value bias,
                  RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  int64_t tokens = resultType.getRank() - 1;
  int64_t rank = tokens + 2; // tokens..., n, k
  SmallVector<AffineExpr> xExprs, yExprs;
  for (int64_t d = 0; d < tokens; ++d) {
    xExprs.push_back(b.getAffineDimExpr(d));
    yExprs.push_back(b.getAffineDimExpr(d));
  }
  AffineExpr n = b.getAffineDimExpr(tokens), k = b.getAffineDimExpr(tokens + 1);
  xExprs.push_back(k);
  yExprs.push_back(n);
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, xExprs, ctx),
                                 AffineMap::get(rank, 0, {n, k}, ctx),
                                 AffineMap::get(rank, 0, yExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(rank - 1,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Type elem = resultType.getElementType();
  Value init = zeros(b, loc, resultType.getShape(), elem);
  Value y = linalg::GenericOp::create(
                b, loc, TypeRange{resultType}, ValueRange{x, w},
                ValueRange{init}, maps, iterators,
                [](OpBuilder &ob, Location l, ValueRange a) {
                  Value p = arith::MulFOp::create(ob, l, a[0], a[1]);
                  linalg::YieldOp::create(
                      ob, l, ValueRange{arith::AddFOp::create(ob, l, a[2], p)});
                })
                .getResult(0);
  if (!bias)
    return y;
  return mlir::terminator::buildBiasAdd(b, loc, y, bias, resultType);
}

} // namespace

Value mlir::terminator::buildBiasAdd(OpBuilder &b, Location loc, Value y,
                                     Value bias, RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  Type elem = resultType.getElementType();
  int64_t outRank = resultType.getRank();
  SmallVector<AffineMap> biasMaps = {
      b.getMultiDimIdentityMap(outRank),
      AffineMap::get(outRank, 0, {b.getAffineDimExpr(outRank - 1)}, ctx),
      b.getMultiDimIdentityMap(outRank)};
  Value out = tensor::EmptyOp::create(b, loc, resultType.getShape(), elem);
  return linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, ValueRange{y, bias},
             ValueRange{out}, biasMaps,
             SmallVector<utils::IteratorType>(outRank,
                                              utils::IteratorType::parallel),
             [](OpBuilder &ob, Location l, ValueRange a) {
               linalg::YieldOp::create(
                   ob, l, ValueRange{arith::AddFOp::create(ob, l, a[0], a[1])});
             })
      .getResult(0);
}

namespace {

struct WeightToConstant : OpConversionPattern<WeightOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(WeightOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<ElementsAttr>(op.getValue()))
      return op.emitOpError("refers to the parameter archive; run "
                            "ternary-inline-params before "
                            "convert-ternary-to-linalg");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, op.getValue());
    return success();
  }
};

struct LinearToLinalg : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildLinear(rewriter, op.getLoc(),
                                       adaptor.getInput(), adaptor.getWeight(),
                                       adaptor.getBias(), op.getType()));
    return success();
  }
};

struct QLinearToLinalg : OpConversionPattern<QLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto codesType = cast<RankedTensorType>(adaptor.getCodes().getType());
    int64_t n = codesType.getDimSize(0), k = codesType.getDimSize(1);
    auto elem = cast<FloatType>(op.getType().getElementType());
    WeightEncodingAttrInterface encoding = op.getEncoding();
    int64_t group = encoding.getGroupSize(k);

    // Decode W[n, k] = scale[n, k / G]·code[n, k] + offset[n, k / G].
    SmallVector<Value> inputs = {adaptor.getCodes()};
    AffineExpr dn = rewriter.getAffineDimExpr(0),
               dk = rewriter.getAffineDimExpr(1);
    SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {dn, dk}, ctx)};
    AffineMap groupMap =
        AffineMap::get(2, 0, {dn, group > 0 ? dk.floorDiv(group) : dk}, ctx);
    if (adaptor.getScales()) {
      inputs.push_back(adaptor.getScales());
      maps.push_back(groupMap);
    }
    if (adaptor.getOffsets()) {
      inputs.push_back(adaptor.getOffsets());
      maps.push_back(groupMap);
    }
    maps.push_back(AffineMap::get(2, 0, {dn, dk}, ctx));
    bool hasScales = bool(adaptor.getScales());
    bool hasOffsets = bool(adaptor.getOffsets());
    Value init = tensor::EmptyOp::create(rewriter, loc, {n, k}, elem);
    Value w =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
            maps,
            SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange a) {
              auto toElem = [&](Value v) -> Value {
                if (v.getType() == elem)
                  return v;
                if (isa<IntegerType>(v.getType()))
                  return arith::SIToFPOp::create(b, l, elem, v);
                if (cast<FloatType>(v.getType()).getWidth() < elem.getWidth())
                  return arith::ExtFOp::create(b, l, elem, v);
                return arith::TruncFOp::create(b, l, elem, v);
              };
              Value v = toElem(a[0]);
              if (hasScales)
                v = arith::MulFOp::create(b, l, v, toElem(a[1]));
              if (hasOffsets)
                v = arith::AddFOp::create(b, l, v, toElem(a[2]));
              linalg::YieldOp::create(b, l, ValueRange{v});
            })
            .getResult(0);
    rewriter.replaceOp(op, buildLinear(rewriter, loc, adaptor.getInput(), w,
                                       adaptor.getBias(), op.getType()));
    return success();
  }
};

struct PermuteToLinalg : OpConversionPattern<PermuteOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PermuteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    ArrayRef<int64_t> perm = op.getPermutation();
    // 16-bit indices where they fit (the program's constant data).
    Value permConst;
    if (perm.size() <= 32768) {
      SmallVector<int16_t> narrow(perm.begin(), perm.end());
      auto permType =
          RankedTensorType::get({int64_t(perm.size())}, rewriter.getI16Type());
      permConst = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(permType, ArrayRef(narrow)));
    } else {
      SmallVector<int32_t> wide(perm.begin(), perm.end());
      auto permType =
          RankedTensorType::get({int64_t(perm.size())}, rewriter.getI32Type());
      permConst = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(permType, ArrayRef(wide)));
    }
    Value x = adaptor.getInput();
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType());
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank, 0, {rewriter.getAffineDimExpr(rank - 1)},
                       rewriter.getContext()),
        rewriter.getMultiDimIdentityMap(rank)};
    Value y =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{permConst},
            ValueRange{init}, maps,
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange a) {
              SmallVector<Value> at;
              for (int64_t d = 0; d + 1 < rank; ++d)
                at.push_back(linalg::IndexOp::create(b, l, d));
              at.push_back(
                  arith::IndexCastOp::create(b, l, b.getIndexType(), a[0]));
              linalg::YieldOp::create(
                  b, l, ValueRange{tensor::ExtractOp::create(b, l, x, at)});
            })
            .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// result[..., n] = acc[..., n] + Σ_{j in row n} values[j]·x[..., cols[j]]:
/// a parallel generic over the result whose body loops over the row's
/// entries (row_offsets[n] .. row_offsets[n + 1]).
struct SparseResidualToLinalg : OpConversionPattern<SparseResidualOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SparseResidualOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    Value x = adaptor.getInput(), rows = adaptor.getRowOffsets(),
          cols = adaptor.getColIndices(), values = adaptor.getValues();
    Type elem = type.getElementType();
    SmallVector<Value> dims;
    for (int64_t d = 0; d < rank; ++d)
      if (type.isDynamicDim(d))
        dims.push_back(
            tensor::DimOp::create(rewriter, loc, adaptor.getAcc(), d));
    Value init = tensor::EmptyOp::create(rewriter, loc, type, dims);
    SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(rank));
    Value y =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{adaptor.getAcc()},
            ValueRange{init}, maps,
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange a) {
              auto index = [&](Value v) {
                return arith::IndexCastOp::create(b, l, b.getIndexType(), v)
                    .getResult();
              };
              Value n = linalg::IndexOp::create(b, l, rank - 1);
              Value one = arith::ConstantIndexOp::create(b, l, 1);
              Value begin = index(tensor::ExtractOp::create(b, l, rows, n));
              Value end = index(tensor::ExtractOp::create(
                  b, l, rows, ValueRange{arith::AddIOp::create(b, l, n, one)}));
              SmallVector<Value> at;
              for (int64_t d = 0; d + 1 < rank; ++d)
                at.push_back(linalg::IndexOp::create(b, l, d));
              auto loop = scf::ForOp::create(
                  b, l, begin, end, one, ValueRange{a[0]},
                  [&](OpBuilder &lb, Location ll, Value j, ValueRange acc) {
                    Value col =
                        index(tensor::ExtractOp::create(lb, ll, cols, j));
                    Value v = tensor::ExtractOp::create(lb, ll, values, j);
                    if (v.getType() != elem)
                      v = arith::ExtFOp::create(lb, ll, elem, v);
                    SmallVector<Value> xi(at);
                    xi.push_back(col);
                    Value xv = tensor::ExtractOp::create(lb, ll, x, xi);
                    Value sum = arith::AddFOp::create(
                        lb, ll, acc[0], arith::MulFOp::create(lb, ll, v, xv));
                    scf::YieldOp::create(lb, ll, ValueRange{sum});
                  });
              linalg::YieldOp::create(b, l, loop.getResults());
            })
            .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct ConvertTernaryToLinalgPass
    : mlir::terminator::impl::ConvertTernaryToLinalgPassBase<
          ConvertTernaryToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<TernaryDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           scf::SCFDialect, tensor::TensorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    TypeConverter converter;
    converter.addConversion([](Type t) { return t; });
    RewritePatternSet patterns(&getContext());
    mlir::terminator::populateTernaryToLinalgPatterns(converter, patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::terminator::populateTernaryToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<WeightToConstant, LinearToLinalg, QLinearToLinalg,
               PermuteToLinalg, SparseResidualToLinalg>(converter,
                                                        patterns.getContext());
}
