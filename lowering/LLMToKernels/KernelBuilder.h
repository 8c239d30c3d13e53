//===- KernelBuilder.h - Building blocks of the CPU kernels -----*- C++ -*-===//
//
// Part of Frugal. The llm -> kernels lowering emits, per distinct op
// signature, one private function of scf loops over vector ops on memrefs.
// These helpers keep the per-op-family files about the math only.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LOWERING_LLMTOKERNELS_KERNELBUILDER_H
#define FRUGAL_LOWERING_LLMTOKERNELS_KERNELBUILDER_H

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"

#include <functional>
#include <string>

namespace mlir {
namespace llm {
namespace kernels {

/// Marks the cast that stands for a quantized weight's storage bytes
/// (memref<bytes x i8>) in the tensor world; its value is the QuantAttr.
constexpr llvm::StringLiteral kQuantizedWeightAttr = "llm.quantized_weight";

/// Options shared by all kernel generators.
struct KernelOptions {
  int64_t vectorWidth = 16;
  /// Decode (one activation row) kernel of 8- and 4-bit quantized
  /// matmuls: "vnni" quantizes the activations to int8 and accumulates with
  /// AVX-512 VNNI dot products; "fma" converts the codes to f32.
  std::string quantKernel = "vnni";
  /// The VNNI kernel unpacks 4-bit codes with GF2P8AFFINEQB (one
  /// instruction per 64 codes) instead of a variable shift and a mask.
  bool gfni = false;
};

using BodyBuilder = llvm::function_ref<void(OpBuilder &, Location, ValueRange)>;

/// Returns the kernel `name` of the module enclosing `anchor`, creating it
/// (private, arguments `argTypes`, no results) with `buildBody` if needed.
func::FuncOp getOrCreateKernel(Operation *anchor, StringRef name,
                               TypeRange argTypes, BodyBuilder buildBody);

/// A symbol-safe spelling of a type, e.g. memref<1x?x576xf32> -> 1xDx576xf32.
std::string mangle(Type type);
std::string mangle(TypeRange types);

/// Name of the static arena global of function `funcName` (llm-plan-memory).
std::string arenaGlobalName(StringRef funcName);

/// Replaces `op` by a call to kernel `name` writing a result of type
/// `resultType`; `resultDynSizes` are its dynamic extents. The result is a
/// view of the enclosing function's arena at the offset llm-plan-memory gave
/// `op`, or a fresh allocation when `op` has none. Returns the buffer.
Value emitKernelCall(ConversionPatternRewriter &rewriter, Operation *op,
                     StringRef name, ValueRange operands,
                     MemRefType resultType, ValueRange resultDynSizes,
                     BodyBuilder buildBody);

/// Dynamic sizes of `resultType`, taking dimension i from `source` dim
/// `sourceDims[i]` (one entry per result dimension).
SmallVector<Value> dynSizesFrom(OpBuilder &b, Location loc, MemRefType resultType,
                                Value source, ArrayRef<int64_t> sourceDims);

Value cIdx(OpBuilder &b, Location loc, int64_t value);
Value cF32(OpBuilder &b, Location loc, float value);
Value dimOf(OpBuilder &b, Location loc, Value memref, int64_t dim);

/// Views a contiguous memref as [rows, last dimension].
Value collapseToRows(OpBuilder &b, Location loc, Value memref);
/// Views a contiguous memref as one dimension.
Value collapseToFlat(OpBuilder &b, Location loc, Value memref);

/// for (iv = lb; iv < ub; iv += step) body(iv).
void forLoop(OpBuilder &b, Location loc, Value lb, Value ub, int64_t step,
             llvm::function_ref<void(OpBuilder &, Location, Value)> body);
/// Parallel version (becomes an OpenMP work-sharing loop).
void parallelLoop(OpBuilder &b, Location loc, Value lb, Value ub,
                  llvm::function_ref<void(OpBuilder &, Location, Value)> body);

/// A scalar loop nest over every index of the memref `shapeOf`, except
/// dimension `skipDim` when it is >= 0; `body` gets the loop indices in
/// dimension order (without the skipped one).
void forAllIndices(
    OpBuilder &b, Location loc, Value shapeOf,
    llvm::function_ref<void(OpBuilder &, Location, ValueRange)> body,
    int64_t skipDim = -1);

/// Splits [0, n) into full chunks of `width` (vectorBody) and a scalar tail
/// (scalarBody).
void forEachChunk(OpBuilder &b, Location loc, Value n, int64_t width,
                  llvm::function_ref<void(OpBuilder &, Location, Value)> vectorBody,
                  llvm::function_ref<void(OpBuilder &, Location, Value)> scalarBody);

/// The sum of the lanes of an f32 vector (or the scalar itself) as a
/// pairwise tree: halves added until one lane is left. Unlike an ordered
/// vector.reduction it takes log2(width) vector adds, and its order is fixed
/// by the width alone, so every caller sums the same lanes the same way.
Value treeSum(OpBuilder &b, Location loc, Value vector);

/// Sum over [0, n) of f(i): vectorF returns a vector<width x f32> term for a
/// chunk starting at i, scalarF an f32 term for a tail element.
Value sumChunks(OpBuilder &b, Location loc, Value n, int64_t width,
                llvm::function_ref<Value(OpBuilder &, Location, Value)> vectorF,
                llvm::function_ref<Value(OpBuilder &, Location, Value)> scalarF);

/// Maximum over [0, n) (n >= 1) of f(i), same conventions as sumChunks.
Value maxChunks(OpBuilder &b, Location loc, Value n, int64_t width,
                llvm::function_ref<Value(OpBuilder &, Location, Value)> vectorF,
                llvm::function_ref<Value(OpBuilder &, Location, Value)> scalarF);

VectorType vecType(OpBuilder &b, int64_t width);
Value loadVec(OpBuilder &b, Location loc, int64_t width, Value memref,
              ValueRange indices);
void storeVec(OpBuilder &b, Location loc, Value vector, Value memref,
              ValueRange indices);

/// The sections of a quantized weight's storage bytes (LLMQuant.h) as
/// memrefs: codes [rows, cols * bits / 8] i8, scales and mins
/// [rows, groups] f16 (mins null for the symmetric scheme).
struct QuantViews {
  Value codes, scales, mins;
};
QuantViews viewQuantStorage(OpBuilder &b, Location loc, Value bytes,
                            QuantAttr quant, const QuantLayout &layout);

/// 16 codes of row `row` starting at element `col` (a multiple of 16) of
/// `codes`, as f32: signed for the symmetric scheme, whose 4-bit codes are
/// stored plus 8, unsigned for the asymmetric one.
Value loadQuantCodes(OpBuilder &b, Location loc, Value codes, Value row,
                     Value col, QuantAttr quant);

/// Pattern registration, one function per op family.
void populateMatmulKernelPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns,
                                  const KernelOptions &options);
void populateAttentionKernelPatterns(const TypeConverter &converter,
                                     RewritePatternSet &patterns,
                                     const KernelOptions &options);
void populateNormKernelPatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns,
                                const KernelOptions &options);
void populateElementwiseKernelPatterns(const TypeConverter &converter,
                                       RewritePatternSet &patterns,
                                       const KernelOptions &options);
void populateShapeKernelPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns,
                                 const KernelOptions &options);

/// Base class of the kernel patterns: carries the options.
template <typename OpTy>
struct KernelPattern : public OpConversionPattern<OpTy> {
  KernelPattern(const TypeConverter &converter, MLIRContext *context,
                const KernelOptions &options)
      : OpConversionPattern<OpTy>(converter, context), options(options) {}

  MemRefType convertedResultType(OpTy op) const {
    return cast<MemRefType>(
        this->getTypeConverter()->convertType(op->getResult(0).getType()));
  }

  KernelOptions options;
};

} // namespace kernels

/// All llm -> kernel patterns.
void populateLLMToKernelsPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns,
                                  const kernels::KernelOptions &options);

} // namespace llm
} // namespace mlir

#endif // FRUGAL_LOWERING_LLMTOKERNELS_KERNELBUILDER_H
