//===- Runner.cpp - JIT-run a function of llm IR on host tensors -----------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-run/Runner.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "lowering/MemRefDescriptor.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>

using namespace mlir;
using namespace frugal;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

size_t HostTensor::elementSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32: case ElementKind::I32: return 4;
  case ElementKind::F16: return 2;
  case ElementKind::I64: return 8;
  case ElementKind::I1: return 1;
  }
  return 0;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static std::optional<ElementKind> kindOf(Type type) {
  if (type.isF32()) return ElementKind::F32;
  if (type.isF16()) return ElementKind::F16;
  if (type.isInteger(64)) return ElementKind::I64;
  if (type.isInteger(32)) return ElementKind::I32;
  if (type.isInteger(1)) return ElementKind::I1;
  return std::nullopt;
}

llvm::Expected<std::vector<HostTensor>>
frugal::runFunction(ModuleOp module, llvm::StringRef entry,
                    const std::vector<HostTensor> &inputs,
                    const std::vector<uint8_t> &weights,
                    const RunOptions &options) {
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func)
    return makeError("no function @" + entry);
  bool usesWeights = false;
  func.walk([&](llm::WeightOp) { usesWeights = true; });
  FunctionType type = func.getFunctionType();
  if (type.getNumInputs() != inputs.size())
    return makeError("@" + entry + " takes " +
                     llvm::Twine(type.getNumInputs()) + " arguments, got " +
                     llvm::Twine(inputs.size()));
  std::vector<HostTensor> outputs;
  for (Type result : type.getResults()) {
    auto tensor = dyn_cast<RankedTensorType>(result);
    if (!tensor || !tensor.hasStaticShape() || !kindOf(tensor.getElementType()))
      return makeError("results must be static tensors of f32/f16/i64/i32/i1");
    HostTensor out{*kindOf(tensor.getElementType()),
                   std::vector<int64_t>(tensor.getShape().begin(),
                                        tensor.getShape().end()),
                   {}};
    out.data.assign(out.numElements() * HostTensor::elementSize(out.kind), 0);
    outputs.push_back(std::move(out));
  }
  std::vector<int64_t> scalars(inputs.size());
  for (auto [i, input] : llvm::enumerate(type.getInputs())) {
    if (input.isIndex()) {
      if (inputs[i].data.size() != 8)
        return makeError("index argument " + llvm::Twine(i) +
                         " needs one i64 value");
      std::memcpy(&scalars[i], inputs[i].data.data(), 8);
      continue;
    }
    if (auto cache = dyn_cast<llm::KVCacheType>(input)) {
      // A planned cache is a byte buffer of any host kind; it is passed as
      // memref<bytes x i8>.
      if (cache.getLayout()) {
        if (static_cast<int64_t>(inputs[i].data.size()) !=
            cache.getStorageBytes())
          return makeError("KV cache argument " + llvm::Twine(i) + " needs " +
                           llvm::Twine(cache.getStorageBytes()) + " bytes");
        continue;
      }
      std::vector<int64_t> want = {2, cache.getNumLayers(), cache.getNumHeads(),
                                   cache.getMaxSeq(), cache.getHeadDim()};
      if (inputs[i].shape != want || !cache.getElementType().isF32() ||
          inputs[i].kind != ElementKind::F32)
        return makeError("KV cache argument " + llvm::Twine(i) +
                         " needs an f32 buffer of shape [2, L, H, C, D]");
      continue;
    }
    auto tensor = dyn_cast<RankedTensorType>(input);
    if (!tensor)
      return makeError("argument " + llvm::Twine(i) + " is not a tensor");
    if (tensor.getRank() != static_cast<int64_t>(inputs[i].shape.size()) ||
        kindOf(tensor.getElementType()) != inputs[i].kind)
      return makeError("argument " + llvm::Twine(i) +
                       " does not match its input's rank or element type");
    for (auto [d, extent] : llvm::enumerate(tensor.getShape()))
      if (!ShapedType::isDynamic(extent) && extent != inputs[i].shape[d])
        return makeError("argument " + llvm::Twine(i) + " dimension " +
                         llvm::Twine(d) + " must be " + llvm::Twine(extent));
  }

  PassManager pm(module.getContext());
  llm::CPUPipelineOptions pipeline;
  pipeline.vectorWidth = options.vectorWidth;
  pipeline.openmp = options.openmp;
  pipeline.quantKernel = options.quantKernel;
  pipeline.gfni = options.gfni;
  llm::buildLLMToLLVMCPUPipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return makeError("lowering failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  registerOpenMPDialectTranslation(*module.getContext());
  ExecutionEngineOptions engineOptions;
  llvm::SmallVector<llvm::StringRef> libs;
  if (options.openmp)
    libs.push_back(FRUGAL_LLVM_LIB_DIR "/libomp.so");
  engineOptions.sharedLibPaths = libs;
  // engineOptions.transformer is a function_ref: keep the callee alive.
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(3, 0, nullptr);
  if (options.optimizeLLVM) {
    engineOptions.transformer = optimize;
    engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  }
  auto engine = ExecutionEngine::create(module, engineOptions);
  if (!engine)
    return engine.takeError();

  std::vector<std::unique_ptr<frugal::MemRefDescriptor>> descriptors;
  std::vector<void *> args;
  auto addMemref = [&](void *data, llvm::ArrayRef<int64_t> shape) {
    descriptors.push_back(std::make_unique<frugal::MemRefDescriptor>(data, shape));
    descriptors.back()->appendTo(args);
  };
  if (usesWeights) {
    int64_t size = static_cast<int64_t>(weights.size());
    addMemref(const_cast<uint8_t *>(weights.data()), {size});
  }
  for (auto [i, input] : llvm::enumerate(type.getInputs())) {
    auto cache = dyn_cast<llm::KVCacheType>(input);
    if (input.isIndex())
      args.push_back(&scalars[i]);
    else if (cache && cache.getLayout())
      addMemref(const_cast<uint8_t *>(inputs[i].data.data()),
                {cache.getStorageBytes()});
    else
      addMemref(const_cast<uint8_t *>(inputs[i].data.data()), inputs[i].shape);
  }
  for (HostTensor &out : outputs)
    addMemref(out.data.data(), out.shape);
  if (llvm::Error err = (*engine)->invokePacked(entry, args))
    return std::move(err);
  if (options.fastestCallSeconds) {
    double fastest = 0, total = 0;
    for (int64_t call = 0; call < options.timedCalls; ++call) {
      auto start = std::chrono::steady_clock::now();
      if (llvm::Error err = (*engine)->invokePacked(entry, args))
        return std::move(err);
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      fastest = call == 0 ? seconds : std::min(fastest, seconds);
      total += seconds;
    }
    *options.fastestCallSeconds = fastest;
    if (options.meanCallSeconds)
      *options.meanCallSeconds =
          total / double(std::max<int64_t>(1, options.timedCalls));
  }
  return outputs;
}
