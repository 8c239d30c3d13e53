//===- Calibration.cpp - Activation statistics of a model on text ----------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Calibration/Calibration.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "lowering/MemRefDescriptor.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::llm;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {

/// Where the JIT-compiled model reports its matmul inputs.
struct Collector {
  CalibrationStats *stats = nullptr;
  std::vector<bool> wantGram;
  /// The position of the current call's first row, the weight of a
  /// window's first position in X^T X, and which inputs take that weight
  /// (those of the key and value projections).
  int64_t firstPosition = 0;
  double firstPositionWeight = 1.0;
  std::vector<bool> weighsFirstPosition;

  void observe(const float *data, int64_t rows, int64_t channels,
               llvm::function_ref<int64_t(int64_t)> rowOffset, int64_t id) {
    ChannelStats &s = stats->inputs[id];
    s.count += rows;
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = data + rowOffset(r);
      for (int64_t c = 0; c < channels; ++c) {
        float v = row[c];
        s.sumAbs[c] += std::fabs(v);
        s.sumSquares[c] += static_cast<double>(v) * v;
        s.maxAbs[c] = std::max(s.maxAbs[c], std::fabs(v));
      }
    }
    if (wantGram[id])
      accumulateGram(s, data, rows, channels, rowOffset,
                     firstPosition == 0 && weighsFirstPosition[id]
                         ? std::sqrt(firstPositionWeight)
                         : 1.0);
  }

  /// s.gram += X^T X (upper triangle) for the rows of one call, in blocks
  /// of rows so that the K x K accumulator is swept once per block: each
  /// row i of the Gram matrix is summed over the block in f32, four tokens
  /// per pass over it, then added in f64. Rows i run in parallel. The
  /// call's first row enters scaled by `firstRowScale`.
  void accumulateGram(ChannelStats &s, const float *data, int64_t rows,
                      int64_t channels,
                      llvm::function_ref<int64_t(int64_t)> rowOffset,
                      double firstRowScale) {
    constexpr int64_t kBlock = 64;
    std::vector<float> block(kBlock * channels);
    for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
      int64_t n = std::min(kBlock, rows - r0);
      for (int64_t t = 0; t < n; ++t)
        std::memcpy(&block[t * channels], data + rowOffset(r0 + t),
                    channels * sizeof(float));
      if (r0 == 0 && firstRowScale != 1.0)
        for (int64_t c = 0; c < channels; ++c)
          block[c] = static_cast<float>(block[c] * firstRowScale);
      // Row i costs channels - i: chunks of rows taken from both ends
      // balance the threads.
      constexpr int64_t kRows = 16;
      int64_t chunks = (channels + kRows - 1) / kRows;
      auto accumulateChunk = [&](int64_t chunk, std::vector<float> &acc) {
        for (int64_t i = chunk * kRows;
             i < std::min(channels, (chunk + 1) * kRows); ++i) {
          std::fill(acc.begin() + i, acc.end(), 0.0f);
          int64_t t = 0;
          for (; t + 4 <= n; t += 4) {
            const float *x0 = &block[t * channels], *x1 = x0 + channels,
                        *x2 = x1 + channels, *x3 = x2 + channels;
            float a0 = x0[i], a1 = x1[i], a2 = x2[i], a3 = x3[i];
            for (int64_t j = i; j < channels; ++j)
              acc[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
          }
          for (; t < n; ++t) {
            const float *x = &block[t * channels];
            float xi = x[i];
            for (int64_t j = i; j < channels; ++j)
              acc[j] += xi * x[j];
          }
          double *g = &s.gram[i * channels];
          for (int64_t j = i; j < channels; ++j)
            g[j] += acc[j];
        }
      };
      llvm::parallelFor(0, (chunks + 1) / 2, [&](int64_t pair) {
        std::vector<float> acc(channels);
        accumulateChunk(pair, acc);
        if (chunks - 1 - pair != pair)
          accumulateChunk(chunks - 1 - pair, acc);
      });
    }
  }
};

// The lowered observation callbacks: a memref of rank 2 or 3 (allocated,
// aligned, offset, sizes, strides), the collector's address and the input's
// index. Elements along the last (channel) dimension are contiguous.
extern "C" void frugalCalibrationObserve2(float *, float *aligned,
                                          int64_t offset, int64_t s0,
                                          int64_t s1, int64_t t0, int64_t,
                                          int64_t collector, int64_t id) {
  reinterpret_cast<Collector *>(collector)->observe(
      aligned + offset, s0, s1, [&](int64_t r) { return r * t0; }, id);
}

extern "C" void frugalCalibrationObserve3(float *, float *aligned,
                                          int64_t offset, int64_t s0,
                                          int64_t s1, int64_t s2, int64_t t0,
                                          int64_t t1, int64_t,
                                          int64_t collector, int64_t id) {
  reinterpret_cast<Collector *>(collector)->observe(
      aligned + offset, s0 * s1, s2,
      [&](int64_t r) { return (r / s1) * t0 + (r % s1) * t1; }, id);
}

/// The value whose rows reach `matmul`'s weight: its lhs, or the source of
/// a slice of it along a non-channel axis.
Value observedInput(MatmulOp matmul) {
  Value lhs = matmul.getLhs();
  if (auto slice = lhs.getDefiningOp<SliceOp>()) {
    auto type = cast<RankedTensorType>(slice.getInput().getType());
    if (static_cast<int64_t>(slice.getAxis()) != type.getRank() - 1)
      return slice.getInput();
  }
  return lhs;
}

/// Whether `matmul`'s result reaches the key or value operand of an
/// llm.attention, directly or through llm.rope.
bool producesKeysOrValues(MatmulOp matmul) {
  SmallVector<Value> work{matmul.getResult()};
  while (!work.empty()) {
    Value value = work.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      if (auto attention = dyn_cast<AttentionOp>(use.getOwner())) {
        if (&use == &attention.getKeyMutable() ||
            &use == &attention.getValueMutable())
          return true;
      } else if (auto rope = dyn_cast<RopeOp>(use.getOwner())) {
        work.push_back(rope.getResult());
      }
    }
  }
  return false;
}

/// Inserts the observation calls into `forward` of `module`; fills the
/// stats' inputs and weight map. Returns the callback symbol of each
/// declared observation function.
LogicalResult instrument(ModuleOp module, func::FuncOp forward,
                         CalibrationStats &stats, Collector &collector,
                         std::vector<bool> &defaultGram,
                         const CalibrationOptions &options,
                         llvm::StringMap<void *> &symbols) {
  MLIRContext *ctx = module.getContext();
  OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
  llvm::DenseMap<Value, size_t> inputIds;
  llvm::DenseMap<Type, func::FuncOp> declarations;
  SmallVector<MatmulOp> matmuls;
  forward.walk([&](MatmulOp op) { matmuls.push_back(op); });
  for (MatmulOp matmul : matmuls) {
    auto weight = matmul.getRhs().getDefiningOp<WeightOp>();
    if (!weight)
      continue;
    if (weight.getQuant())
      return weight.emitOpError("calibration runs the f32 model; weight '")
             << weight.getName() << "' is quantized";
    Value input = observedInput(matmul);
    auto type = cast<RankedTensorType>(input.getType());
    if (!type.getElementType().isF32() ||
        (type.getRank() != 2 && type.getRank() != 3))
      return matmul.emitOpError(
          "calibration observes rank-2 or rank-3 f32 inputs only");
    auto [it, inserted] = inputIds.try_emplace(input, stats.inputs.size());
    size_t id = it->second;
    if (inserted) {
      ChannelStats s;
      s.channels = type.getDimSize(type.getRank() - 1);
      s.sumAbs.assign(s.channels, 0.0);
      s.sumSquares.assign(s.channels, 0.0);
      s.maxAbs.assign(s.channels, 0.0f);
      stats.inputs.push_back(std::move(s));
      defaultGram.push_back(false);
      collector.weighsFirstPosition.push_back(false);

      func::FuncOp &decl = declarations[type];
      if (!decl) {
        std::string name = "__frugal_calibration_observe_" +
                           std::to_string(declarations.size());
        auto i64 = IntegerType::get(ctx, 64);
        decl = func::FuncOp::create(
            moduleBuilder, module.getLoc(), name,
            FunctionType::get(ctx, {type, i64, i64}, {}));
        decl.setPrivate();
        void *callback =
            type.getRank() == 2
                ? reinterpret_cast<void *>(&frugalCalibrationObserve2)
                : reinterpret_cast<void *>(&frugalCalibrationObserve3);
        symbols[name] = callback;
      }
      OpBuilder b(ctx);
      b.setInsertionPointAfterValue(input);
      Location loc = matmul.getLoc();
      Value self = arith::ConstantIntOp::create(
          b, loc, reinterpret_cast<int64_t>(&collector), 64);
      Value index = arith::ConstantIntOp::create(b, loc, id, 64);
      func::CallOp::create(b, loc, decl, ValueRange{input, self, index});
    }
    stats.byWeight.try_emplace(weight.getName(), id);
    if (producesKeysOrValues(matmul))
      collector.weighsFirstPosition[id] = true;
    if (options.collectGram && options.collectGram(weight.getName()))
      defaultGram[id] = true;
  }
  if (stats.inputs.empty())
    return forward.emitError("calibration: no matmul reads a weight");
  return success();
}

} // namespace

struct mlir::llm::Calibrator::Impl {
  std::unique_ptr<ExecutionEngine> engine;
  Collector collector;
  std::vector<bool> defaultGram;
  KVCacheType cache;
  RankedTensorType logits;
  int64_t chunkTokens = 64;
  std::function<void(double)> progress;
};

mlir::llm::Calibrator::Calibrator(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
mlir::llm::Calibrator::~Calibrator() = default;

llvm::Expected<std::unique_ptr<Calibrator>>
mlir::llm::Calibrator::create(ModuleOp module,
                              const CalibrationOptions &options) {
  if (options.chunkTokens < 1)
    return makeError("calibration chunks need at least one token");
  if (!(options.firstPositionWeight > 0.0) ||
      !std::isfinite(options.firstPositionWeight))
    return makeError("the weight of a window's first position must be "
                     "positive and finite");
  OwningOpRef<ModuleOp> clone = module.clone();
  auto forward = clone->lookupSymbol<func::FuncOp>("forward");
  if (!forward)
    return makeError("calibration: the model has no `forward` function");
  // forward(tokens: tensor<1x?xi64>, position: index, cache) -> logits.
  FunctionType type = forward.getFunctionType();
  auto tokenType = type.getNumInputs() == 3
                       ? dyn_cast<RankedTensorType>(type.getInput(0))
                       : RankedTensorType();
  auto cache = type.getNumInputs() == 3
                   ? dyn_cast<KVCacheType>(type.getInput(2))
                   : KVCacheType();
  auto logits = type.getNumResults() == 1
                    ? dyn_cast<RankedTensorType>(type.getResult(0))
                    : RankedTensorType();
  if (!tokenType || tokenType.getRank() != 2 ||
      !tokenType.getElementType().isInteger(64) ||
      !type.getInput(1).isIndex() || !cache ||
      (!cache.getLayout() && !cache.getElementType().isF32()) || !logits ||
      !logits.hasStaticShape() || !logits.getElementType().isF32())
    return makeError("calibration: `forward` must take (tokens, position, "
                     "f32 KV cache) and return static f32 logits");

  // Only `forward` runs: the steps derived from it (forward_batch,
  // forward_all) would be lowered and compiled for nothing.
  for (auto func : llvm::make_early_inc_range(clone->getOps<func::FuncOp>()))
    if (func != forward && func.isPublic())
      func.erase();

  auto impl = std::make_unique<Impl>();
  impl->cache = cache;
  impl->logits = logits;
  impl->chunkTokens = options.chunkTokens;
  impl->collector.firstPositionWeight = options.firstPositionWeight;
  impl->progress = options.progress;
  std::unique_ptr<Calibrator> calibrator(new Calibrator(std::move(impl)));
  Impl &state = *calibrator->impl;
  llvm::StringMap<void *> symbols;
  if (failed(instrument(*clone, forward, calibrator->shape, state.collector,
                        state.defaultGram, options, symbols)))
    return makeError("calibration: cannot instrument the model");

  PassManager pm(clone->getContext());
  CPUPipelineOptions pipeline;
  pipeline.vectorWidth = options.vectorWidth;
  pipeline.openmp = options.openmp;
  buildLLMToLLVMCPUPipeline(pm, pipeline);
  if (failed(pm.run(*clone)))
    return makeError("calibration: lowering the instrumented model failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  MLIRContext *ctx = clone->getContext();
  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  registerOpenMPDialectTranslation(*ctx);
  ExecutionEngineOptions engineOptions;
  llvm::SmallVector<llvm::StringRef> libs;
  if (options.openmp)
    libs.push_back(FRUGAL_LLVM_LIB_DIR "/libomp.so");
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(*clone, engineOptions);
  if (!engine)
    return engine.takeError();
  (*engine)->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    for (const auto &entry : symbols)
      map[interner(entry.getKey())] = {
          llvm::orc::ExecutorAddr::fromPtr(entry.getValue()),
          llvm::JITSymbolFlags::Exported};
    return map;
  });
  state.engine = std::move(*engine);
  return std::move(calibrator);
}

llvm::Expected<CalibrationStats>
mlir::llm::Calibrator::run(llvm::ArrayRef<uint8_t> weights,
                           llvm::ArrayRef<int64_t> tokens,
                           llvm::function_ref<bool(size_t)> gramFor) {
  if (tokens.empty())
    return makeError("calibration needs at least one token");
  Impl &state = *impl;
  CalibrationStats stats = shape;
  state.collector.stats = &stats;
  state.collector.wantGram = state.defaultGram;
  for (auto [id, s] : llvm::enumerate(stats.inputs)) {
    if (gramFor)
      state.collector.wantGram[id] = gramFor(id);
    if (state.collector.wantGram[id])
      s.gram.assign(s.channels * s.channels, 0.0);
  }

  // An unplanned cache is the dense f32 array; a planned one is a byte
  // buffer (zeroed, with an identity block table when paged).
  KVCacheType cache = state.cache;
  std::vector<uint8_t> kv;
  std::vector<int64_t> kvShape;
  if (!cache.getLayout()) {
    kvShape = {2, cache.getNumLayers(), cache.getNumHeads(), cache.getMaxSeq(),
               cache.getHeadDim()};
    kv.assign(4 * 2 * cache.getNumLayers() * cache.getNumHeads() *
                  cache.getMaxSeq() * cache.getHeadDim(),
              0);
  } else {
    kvShape = {cache.getStorageBytes()};
    kv.assign(cache.getStorageBytes(), 0);
    int64_t blocks = cache.getBlocksPerSequence();
    if (blocks > 0 && cache.getBlockTableBytes() >= 4 * blocks)
      for (int32_t j = 0; j < blocks; ++j)
        std::memcpy(&kv[4 * j], &j, 4);
  }
  std::vector<float> out(state.logits.getNumElements());
  const int64_t capacity = cache.getMaxSeq();
  const int64_t total = static_cast<int64_t>(tokens.size());
  for (int64_t start = 0; start < total;) {
    // Positions restart at 0 in each window of the cache's capacity.
    int64_t position = start % capacity;
    int64_t length = std::min({state.chunkTokens, total - start,
                               capacity - position});
    std::vector<int64_t> chunk(tokens.begin() + start,
                               tokens.begin() + start + length);
    std::vector<std::unique_ptr<frugal::MemRefDescriptor>> descriptors;
    std::vector<void *> args;
    auto addMemref = [&](void *data, llvm::ArrayRef<int64_t> shape) {
      descriptors.push_back(
          std::make_unique<frugal::MemRefDescriptor>(data, shape));
      descriptors.back()->appendTo(args);
    };
    addMemref(const_cast<uint8_t *>(weights.data()),
              {static_cast<int64_t>(weights.size())});
    addMemref(chunk.data(), {1, length});
    args.push_back(&position);
    addMemref(kv.data(), kvShape);
    addMemref(out.data(), state.logits.getShape());
    state.collector.firstPosition = position;
    if (llvm::Error err = state.engine->invokePacked("forward", args))
      return std::move(err);
    start += length;
    if (state.progress)
      state.progress(static_cast<double>(start) / static_cast<double>(total));
  }
  state.collector.stats = nullptr;
  for (ChannelStats &s : stats.inputs)
    for (int64_t i = 0; s.gram.size() && i < s.channels; ++i)
      for (int64_t j = 0; j < i; ++j)
        s.gram[i * s.channels + j] = s.gram[j * s.channels + i];
  stats.tokens = total;
  return std::move(stats);
}

llvm::Expected<CalibrationStats>
mlir::llm::collectCalibrationStats(ModuleOp module,
                                   llvm::ArrayRef<uint8_t> weights,
                                   llvm::ArrayRef<int64_t> tokens,
                                   const CalibrationOptions &options) {
  if (tokens.empty())
    return makeError("calibration needs at least one token");
  auto calibrator = Calibrator::create(module, options);
  if (!calibrator)
    return calibrator.takeError();
  return (*calibrator)->run(weights, tokens);
}
