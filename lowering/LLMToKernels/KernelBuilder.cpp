//===- KernelBuilder.cpp - Building blocks of the CPU kernels --------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"

#include "passes/MemoryPlan.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::kernels;

func::FuncOp kernels::getOrCreateKernel(Operation *anchor, StringRef name,
                                        TypeRange argTypes,
                                        BodyBuilder buildBody) {
  auto module = anchor->getParentOfType<ModuleOp>();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto func = func::FuncOp::create(b, loc, name,
                                   b.getFunctionType(argTypes, TypeRange{}));
  func.setPrivate();
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  buildBody(b, loc, entry->getArguments());
  func::ReturnOp::create(b, loc);
  return func;
}

std::string kernels::mangle(Type type) {
  std::string result;
  llvm::raw_string_ostream os(result);
  if (auto shaped = dyn_cast<ShapedType>(type)) {
    for (int64_t d : shaped.getShape()) {
      if (ShapedType::isDynamic(d))
        os << "D";
      else
        os << d;
      os << "x";
    }
    os << shaped.getElementType();
  } else {
    os << type;
  }
  std::string clean;
  for (char c : result)
    clean.push_back(llvm::isAlnum(c) ? c : '_');
  return clean;
}

std::string kernels::mangle(TypeRange types) {
  std::string result;
  for (Type t : types)
    result += "_" + mangle(t);
  return result;
}

std::string kernels::arenaGlobalName(StringRef funcName) {
  return ("__llm_arena_" + funcName).str();
}

Value kernels::emitKernelCall(ConversionPatternRewriter &rewriter,
                              Operation *op, StringRef name,
                              ValueRange operands, MemRefType resultType,
                              ValueRange resultDynSizes,
                              BodyBuilder buildBody) {
  Location loc = op->getLoc();
  SmallVector<Type> argTypes(operands.getTypes());
  argTypes.push_back(resultType);
  func::FuncOp kernel = getOrCreateKernel(op, name, argTypes, buildBody);
  // A result placed by llm-plan-memory is a view of the function's arena.
  Value result;
  if (auto offset = op->getAttrOfType<IntegerAttr>(kArenaOffsetAttr)) {
    auto func = op->getParentOfType<func::FuncOp>();
    auto arena = op->getParentOfType<ModuleOp>().lookupSymbol<memref::GlobalOp>(
        arenaGlobalName(func.getSymName()));
    assert(arena && "the arena global is created before the patterns run");
    Value bytes = memref::GetGlobalOp::create(rewriter, loc, arena.getType(),
                                              arena.getSymName());
    result = memref::ViewOp::create(rewriter, loc, resultType, bytes,
                                    cIdx(rewriter, loc, offset.getInt()),
                                    resultDynSizes);
  } else {
    result = memref::AllocOp::create(rewriter, loc, resultType, resultDynSizes,
                                     rewriter.getI64IntegerAttr(64));
  }
  SmallVector<Value> args(operands);
  args.push_back(result);
  func::CallOp::create(rewriter, loc, kernel, args);
  rewriter.replaceOp(op, result);
  return result;
}

SmallVector<Value> kernels::dynSizesFrom(OpBuilder &b, Location loc,
                                         MemRefType resultType, Value source,
                                         ArrayRef<int64_t> sourceDims) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < resultType.getRank(); ++i)
    if (resultType.isDynamicDim(i))
      sizes.push_back(dimOf(b, loc, source, sourceDims[i]));
  return sizes;
}

Value kernels::cIdx(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value kernels::cF32(OpBuilder &b, Location loc, float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value kernels::dimOf(OpBuilder &b, Location loc, Value memref, int64_t dim) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(dim))
    return cIdx(b, loc, type.getDimSize(dim));
  return memref::DimOp::create(b, loc, memref, dim);
}

Value kernels::collapseToRows(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  int64_t rank = type.getRank();
  if (rank == 2)
    return memref;
  if (rank == 1) {
    SmallVector<ReassociationIndices> reassoc = {{0, 1}};
    auto resultType =
        MemRefType::get({1, type.getDimSize(0)}, type.getElementType());
    SmallVector<OpFoldResult> outputShape = {
        b.getIndexAttr(1), OpFoldResult(dimOf(b, loc, memref, 0))};
    return memref::ExpandShapeOp::create(b, loc, resultType, memref, reassoc,
                                         outputShape);
  }
  ReassociationIndices rows;
  for (int64_t i = 0; i < rank - 1; ++i)
    rows.push_back(i);
  SmallVector<ReassociationIndices> reassoc = {rows, {rank - 1}};
  return memref::CollapseShapeOp::create(b, loc, memref, reassoc);
}

Value kernels::collapseToFlat(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 1)
    return memref;
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return memref::CollapseShapeOp::create(
      b, loc, memref, SmallVector<ReassociationIndices>{all});
}

void kernels::forLoop(
    OpBuilder &b, Location loc, Value lb, Value ub, int64_t step,
    llvm::function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, loc, lb, ub, cIdx(b, loc, step), ValueRange{},
                     [&](OpBuilder &nb, Location nl, Value iv, ValueRange) {
                       body(nb, nl, iv);
                       scf::YieldOp::create(nb, nl);
                     });
}

void kernels::parallelLoop(
    OpBuilder &b, Location loc, Value lb, Value ub,
    llvm::function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ParallelOp::create(
      b, loc, ValueRange{lb}, ValueRange{ub}, ValueRange{cIdx(b, loc, 1)},
      [&](OpBuilder &nb, Location nl, ValueRange ivs) {
        body(nb, nl, ivs[0]);
      });
}

void kernels::forAllIndices(
    OpBuilder &b, Location loc, Value shapeOf,
    llvm::function_ref<void(OpBuilder &, Location, ValueRange)> body,
    int64_t skipDim) {
  int64_t rank = cast<MemRefType>(shapeOf.getType()).getRank();
  SmallVector<Value> ivs;
  std::function<void(OpBuilder &, Location, int64_t)> build =
      [&](OpBuilder &nb, Location l, int64_t d) {
        if (d == rank)
          return body(nb, l, ivs);
        if (d == skipDim)
          return build(nb, l, d + 1);
        forLoop(nb, l, cIdx(nb, l, 0), dimOf(nb, l, shapeOf, d), 1,
                [&](OpBuilder &ib, Location il, Value iv) {
                  ivs.push_back(iv);
                  build(ib, il, d + 1);
                  ivs.pop_back();
                });
      };
  build(b, loc, 0);
}

/// Start of the scalar tail: n - n % width.
static Value fullChunksEnd(OpBuilder &b, Location loc, Value n,
                           int64_t width) {
  Value rem = arith::RemUIOp::create(b, loc, n, cIdx(b, loc, width));
  return arith::SubIOp::create(b, loc, n, rem);
}

void kernels::forEachChunk(
    OpBuilder &b, Location loc, Value n, int64_t width,
    llvm::function_ref<void(OpBuilder &, Location, Value)> vectorBody,
    llvm::function_ref<void(OpBuilder &, Location, Value)> scalarBody) {
  Value end = fullChunksEnd(b, loc, n, width);
  forLoop(b, loc, cIdx(b, loc, 0), end, width, vectorBody);
  forLoop(b, loc, end, n, 1, scalarBody);
}

VectorType kernels::vecType(OpBuilder &b, int64_t width) {
  return VectorType::get({width}, b.getF32Type());
}

Value kernels::loadVec(OpBuilder &b, Location loc, int64_t width,
                       Value memref, ValueRange indices) {
  return vector::LoadOp::create(b, loc, vecType(b, width), memref, indices);
}

void kernels::storeVec(OpBuilder &b, Location loc, Value vector, Value memref,
                       ValueRange indices) {
  vector::StoreOp::create(b, loc, vector, memref, indices);
}

Value kernels::treeSum(OpBuilder &b, Location loc, Value vector) {
  auto type = dyn_cast<VectorType>(vector.getType());
  if (!type)
    return vector;
  int64_t n = type.getNumElements();
  if (type.getRank() != 1 || !llvm::isPowerOf2_64(n))
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                       vector);
  while (n > 1) {
    int64_t half = n / 2;
    SmallVector<int64_t> low, high;
    for (int64_t i = 0; i < half; ++i) {
      low.push_back(i);
      high.push_back(i + half);
    }
    Value lo = vector::ShuffleOp::create(b, loc, vector, vector, low);
    Value hi = vector::ShuffleOp::create(b, loc, vector, vector, high);
    vector = arith::AddFOp::create(b, loc, lo, hi);
    n = half;
  }
  return vector::ExtractOp::create(b, loc, vector, 0);
}

/// Shared shape of sumChunks/maxChunks.
static Value reduceChunks(
    OpBuilder &b, Location loc, Value n, int64_t width, float identity,
    vector::CombiningKind kind,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> vectorF,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> scalarF) {
  Value end = fullChunksEnd(b, loc, n, width);
  Value init = vector::BroadcastOp::create(b, loc, vecType(b, width),
                                           cF32(b, loc, identity));
  auto vecLoop = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), end, cIdx(b, loc, width), ValueRange{init},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange acc) {
        Value term = vectorF(nb, nl, iv);
        scf::YieldOp::create(nb, nl, combine(nb, nl, acc[0], term));
      });
  Value partial =
      kind == vector::CombiningKind::ADD
          ? treeSum(b, loc, vecLoop.getResult(0))
          : vector::ReductionOp::create(b, loc, kind, vecLoop.getResult(0))
                .getResult();
  auto tailLoop = scf::ForOp::create(
      b, loc, end, n, cIdx(b, loc, 1), ValueRange{partial},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange acc) {
        Value term = scalarF(nb, nl, iv);
        scf::YieldOp::create(nb, nl, combine(nb, nl, acc[0], term));
      });
  return tailLoop.getResult(0);
}

Value kernels::sumChunks(
    OpBuilder &b, Location loc, Value n, int64_t width,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> vectorF,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> scalarF) {
  return reduceChunks(
      b, loc, n, width, 0.0f, vector::CombiningKind::ADD,
      [](OpBuilder &nb, Location nl, Value a, Value c) -> Value {
        return arith::AddFOp::create(nb, nl, a, c);
      },
      vectorF, scalarF);
}

Value kernels::maxChunks(
    OpBuilder &b, Location loc, Value n, int64_t width,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> vectorF,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> scalarF) {
  return reduceChunks(
      b, loc, n, width, -std::numeric_limits<float>::infinity(),
      vector::CombiningKind::MAXNUMF,
      [](OpBuilder &nb, Location nl, Value a, Value c) -> Value {
        return arith::MaxNumFOp::create(nb, nl, a, c);
      },
      vectorF, scalarF);
}

QuantViews kernels::viewQuantStorage(OpBuilder &b, Location loc, Value bytes,
                                     QuantAttr quant,
                                     const QuantLayout &layout) {
  auto view = [&](int64_t offset, MemRefType type) -> Value {
    return memref::ViewOp::create(b, loc, type, bytes, cIdx(b, loc, offset),
                                  ValueRange{});
  };
  int64_t rows = layout.rows;
  QuantViews views;
  views.codes = view(0, MemRefType::get({rows, layout.cols * quant.getBits() / 8},
                                        b.getI8Type()));
  auto paramType = MemRefType::get({rows, layout.groupsPerRow}, b.getF16Type());
  views.scales = view(layout.codesBytes, paramType);
  if (quant.getScheme() == QuantScheme::asymmetric)
    views.mins = view(layout.minsOffset, paramType);
  return views;
}

Value kernels::loadQuantCodes(OpBuilder &b, Location loc, Value codes,
                              Value n, Value k, QuantAttr quant) {
  bool symmetric = quant.getScheme() == QuantScheme::symmetric;
  auto f32x16 = VectorType::get({16}, b.getF32Type());
  auto i8x16 = VectorType::get({16}, b.getI8Type());
  Value q;
  if (quant.getBits() == 8) {
    q = vector::LoadOp::create(b, loc, i8x16, codes, ValueRange{n, k});
  } else {
    auto i8x8 = VectorType::get({8}, b.getI8Type());
    Value byteIdx = arith::DivUIOp::create(b, loc, k, cIdx(b, loc, 2));
    Value bytes = vector::LoadOp::create(b, loc, i8x8, codes, ValueRange{n, byteIdx});
    auto splat = [&](int v) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(i8x8, b.getI8IntegerAttr(v)));
    };
    Value lo = arith::AndIOp::create(b, loc, bytes, splat(0x0F));
    Value hi = arith::ShRUIOp::create(b, loc, bytes, splat(4));
    q = vector::InterleaveOp::create(b, loc, lo, hi);
    if (symmetric)
      q = arith::SubIOp::create(
          b, loc, q,
          arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(i8x16, b.getI8IntegerAttr(8))));
  }
  if (symmetric)
    return arith::SIToFPOp::create(b, loc, f32x16, q);
  return arith::UIToFPOp::create(b, loc, f32x16, q);
}

