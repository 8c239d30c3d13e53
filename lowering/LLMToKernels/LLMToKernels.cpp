//===- LLMToKernels.cpp - The convert-llm-to-kernels pass ------------------===//
//
// Part of Frugal. Wires the per-op-family kernel patterns into a dialect
// conversion from tensors to memrefs, and handles what is not per-op:
// weights become views of the weights blob, results planned by
// llm-plan-memory become views of a static arena and the others are freed
// after their last use, and function results become out-parameters.
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"
#include "lowering/Passes.h"
#include "passes/MemoryPlan.h"

#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_CONVERTLLMTOKERNELS
#include "lowering/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

void mlir::llm::populateLLMToKernelsPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns,
    const kernels::KernelOptions &options) {
  kernels::populateMatmulKernelPatterns(converter, patterns, options);
  kernels::populateAttentionKernelPatterns(converter, patterns, options);
  kernels::populateNormKernelPatterns(converter, patterns, options);
  kernels::populateElementwiseKernelPatterns(converter, patterns, options);
  kernels::populateShapeKernelPatterns(converter, patterns, options);
}

namespace {

bool isKernel(func::FuncOp func) {
  return func.getSymName().starts_with("__llm_");
}

/// Gives functions that use weights a leading weights-blob argument and
/// turns every llm.weight into a typed view of it.
LogicalResult lowerWeights(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  auto blobType = MemRefType::get({ShapedType::kDynamic},
                                  IntegerType::get(ctx, 8));
  for (auto func : module.getOps<func::FuncOp>()) {
    SmallVector<WeightOp> weights;
    func.walk([&](WeightOp op) { weights.push_back(op); });
    if (weights.empty() || func.isExternal())
      continue;
    if (failed(func.insertArgument(0, blobType, {}, func.getLoc())))
      return func.emitError("cannot add the weights argument");
    func->setAttr("llm.weights_arg", UnitAttr::get(ctx));
    Value blob = func.getArgument(0);
    for (WeightOp op : weights) {
      if (!op.getOffset())
        return op.emitOpError("weight '")
               << op.getName()
               << "' has no offset in the weights file; pack the weights "
                  "(llm-compile does) before lowering";
      OpBuilder b(op);
      auto tensorType = op.getResult().getType();
      // A quantized weight is its raw storage bytes (LLMQuant.h); the
      // matmul kernel reads codes, scales and mins from it.
      auto viewType =
          op.getQuant()
              ? MemRefType::get({op.getStorageBytes()}, IntegerType::get(ctx, 8))
              : MemRefType::get(tensorType.getShape(),
                                tensorType.getElementType());
      Value offset = arith::ConstantIndexOp::create(b, op.getLoc(), *op.getOffset());
      Value view = memref::ViewOp::create(b, op.getLoc(), viewType, blob, offset,
                                          ValueRange{});
      auto cast = UnrealizedConversionCastOp::create(b, op.getLoc(),
                                                     TypeRange{tensorType}, view);
      if (auto quant = op.getQuantAttr())
        cast->setAttr(kernels::kQuantizedWeightAttr, quant);
      op.replaceAllUsesWith(cast.getResult(0));
      op.erase();
    }
  }
  return success();
}

/// Turns every tensor-typed arith.constant (the importers' folded values)
/// into a private constant memref.global read with memref.get_global.
void lowerTensorConstants(ModuleOp module) {
  SmallVector<arith::ConstantOp> constants;
  module.walk([&](arith::ConstantOp op) {
    if (isa<RankedTensorType>(op.getType()))
      constants.push_back(op);
  });
  SymbolTable symbols(module);
  OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
  for (auto [index, op] : llvm::enumerate(constants)) {
    auto tensorType = cast<RankedTensorType>(op.getType());
    auto memrefType =
        MemRefType::get(tensorType.getShape(), tensorType.getElementType());
    auto global = memref::GlobalOp::create(
        moduleBuilder, op.getLoc(), "__llm_constant",
        moduleBuilder.getStringAttr("private"), memrefType,
        cast<ElementsAttr>(op.getValue()), /*constant=*/true,
        /*alignment=*/IntegerAttr());
    symbols.insert(global);
    OpBuilder b(op);
    Value read = memref::GetGlobalOp::create(b, op.getLoc(), memrefType,
                                             global.getSymName());
    auto cast = UnrealizedConversionCastOp::create(b, op.getLoc(),
                                                   TypeRange{tensorType}, read);
    op.replaceAllUsesWith(cast.getResult(0));
    op.erase();
  }
}

/// Indices of the tensor arguments of `func` with dynamic extents: the
/// token counts an arena plan bounds.
using BoundedArgs = llvm::DenseMap<Operation *, SmallVector<unsigned>>;

/// Gives every function planned by llm-plan-memory its arena: a private,
/// uninitialized (zero-filled, .bss) global of the planned size, 64-byte
/// aligned. The kernel patterns view it at each op's planned offset.
/// Records in `bounded` the arguments whose extents the plan bounds.
LogicalResult createArenas(ModuleOp module, BoundedArgs &bounded) {
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  for (auto func : module.getOps<func::FuncOp>()) {
    auto arenaBytes = func->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
    if (!arenaBytes)
      continue;
    SmallVector<unsigned> &args = bounded[func];
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
      if (auto tensor = dyn_cast<RankedTensorType>(type))
        if (!tensor.hasStaticShape())
          args.push_back(i);
    int64_t size = arenaBytes.getInt();
    WalkResult checked = func.walk([&](Operation *op) {
      auto offset = op->getAttrOfType<IntegerAttr>(kArenaOffsetAttr);
      auto bytes = op->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
      if (!offset)
        return WalkResult::advance();
      if (!bytes || offset.getInt() < 0 ||
          offset.getInt() % kArenaAlignment != 0 ||
          offset.getInt() + bytes.getInt() > size) {
        op->emitOpError("has no valid slot in its function's arena of ")
            << size << " bytes; rerun llm-plan-memory";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (checked.wasInterrupted())
      return failure();
    memref::GlobalOp::create(
        b, func.getLoc(), kernels::arenaGlobalName(func.getSymName()),
        b.getStringAttr("private"),
        MemRefType::get({std::max<int64_t>(size, 1)}, b.getI8Type()),
        b.getUnitAttr(), /*constant=*/false,
        b.getI64IntegerAttr(kArenaAlignment));
  }
  return success();
}

/// Makes a call of a planned function abort when a dynamic extent of
/// `args` exceeds the token bound its arena was sized for (the generated
/// frugal_forward and the runtime split longer inputs).
void insertTokenBoundChecks(func::FuncOp func, ArrayRef<unsigned> args) {
  auto bound = func->getAttrOfType<IntegerAttr>(kArenaMaxTokensAttr);
  if (!bound || args.empty())
    return;
  OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
  Location loc = func.getLoc();
  Value limit = arith::ConstantIndexOp::create(b, loc, bound.getInt());
  std::string message = ("@" + func.getSymName() + ": more than " +
                         Twine(bound.getInt()) +
                         " tokens in one call overflow the activation arena")
                            .str();
  for (unsigned i : args) {
    Value arg = func.getArgument(i);
    auto type = cast<MemRefType>(arg.getType());
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      Value size = memref::DimOp::create(b, loc, arg, d);
      Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, size,
                                       limit);
      cf::AssertOp::create(b, loc, ok, message);
    }
  }
}

/// Frees every allocation of `func` after its last use in its block.
void insertDeallocs(func::FuncOp func) {
  SmallVector<memref::AllocOp> allocs;
  func.walk([&](memref::AllocOp op) { allocs.push_back(op); });
  for (memref::AllocOp alloc : allocs) {
    Block *block = alloc->getBlock();
    Operation *last = alloc;
    for (Operation *user : alloc->getUsers()) {
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (ancestor && last->isBeforeInBlock(ancestor))
        last = ancestor;
    }
    if (isa<func::ReturnOp>(last))
      continue;
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    memref::DeallocOp::create(b, alloc.getLoc(), alloc);
  }
}

/// Turns memref results of a public function into trailing out-parameters.
/// A result that is a fresh allocation is replaced by the parameter, so the
/// last kernel writes straight into the caller's buffer.
void resultsToOutParams(func::FuncOp func) {
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  SmallVector<Value> kept;
  SmallVector<memref::AllocOp> replaced;
  llvm::BitVector erase(func.getNumResults());
  OpBuilder b(ret);
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    auto type = dyn_cast<MemRefType>(value.getType());
    if (!type) {
      kept.push_back(value);
      continue;
    }
    unsigned argIndex = func.getNumArguments();
    (void)func.insertArgument(argIndex, type, {}, func.getLoc());
    Value out = func.getArgument(argIndex);
    if (auto alloc = value.getDefiningOp<memref::AllocOp>()) {
      alloc.getResult().replaceAllUsesExcept(out, ret);
      replaced.push_back(alloc);
    } else {
      memref::CopyOp::create(b, ret.getLoc(), value, out);
    }
    erase.set(i);
  }
  func::ReturnOp::create(b, ret.getLoc(), kept);
  ret.erase();
  for (memref::AllocOp alloc : replaced)
    alloc.erase();
  (void)func.eraseResults(erase);
}

struct ConvertLLMToKernelsPass
    : public llm::impl::ConvertLLMToKernelsBase<ConvertLLMToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (failed(lowerWeights(module)))
      return signalPassFailure();
    lowerTensorConstants(module);
    BoundedArgs bounded;
    if (failed(createArenas(module, bounded)))
      return signalPassFailure();

    TypeConverter converter;
    converter.addConversion([](Type type) { return type; });
    converter.addConversion([](RankedTensorType type) -> Type {
      return MemRefType::get(type.getShape(), type.getElementType());
    });
    converter.addConversion(
        [](KVCacheType type) -> Type { return type.getStorageType(); });
    auto materialize = [](OpBuilder &b, Type type, ValueRange inputs,
                          Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs)
          .getResult(0);
    };
    converter.addSourceMaterialization(materialize);
    converter.addTargetMaterialization(materialize);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<LLMDialect>();
    target.addLegalDialect<arith::ArithDialect, cf::ControlFlowDialect,
                           LLVM::LLVMDialect, math::MathDialect,
                           memref::MemRefDialect, scf::SCFDialect,
                           vector::VectorDialect>();
    target.addLegalOp<ModuleOp, UnrealizedConversionCastOp>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp, func::CallOp>(
        [&](Operation *op) { return converter.isLegal(op); });

    RewritePatternSet patterns(ctx);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    kernels::KernelOptions options;
    options.vectorWidth = vectorWidth;
    options.quantKernel = quantKernel;
    options.gfni = gfni;
    if (quantKernel != "vnni" && quantKernel != "fma") {
      module.emitError("quant-kernel must be vnni or fma, got '")
          << quantKernel << "'";
      return signalPassFailure();
    }
    populateLLMToKernelsPatterns(converter, patterns, options);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    for (auto func : module.getOps<func::FuncOp>()) {
      if (isKernel(func) || func.isExternal())
        continue;
      insertDeallocs(func);
      insertTokenBoundChecks(func, bounded.lookup(func));
      if (func.isPublic()) {
        resultsToOutParams(func);
        func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
      }
    }
  }
};

} // namespace
