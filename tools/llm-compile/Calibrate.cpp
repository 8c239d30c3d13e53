//===- Calibrate.cpp - Calibration statistics for llm-compile --------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/Calibrate.h"

#include "tools/llm-compile/WeightPacker.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"
#include "llmrt/Tokenizer.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace frugal;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Whether `op` is quantized with GPTQ (the method that reads X^T X).
static bool usesGram(llm::WeightOp op) {
  auto method = op->getAttrOfType<StringAttr>(llm::kQuantMethodAttr);
  return op.getQuant() && method && method.getValue() == "gptq";
}

bool frugal::needsCalibration(ModuleOp module) {
  bool needed = false;
  module.walk([&](llm::WeightOp op) {
    needed |= usesGram(op) || op->hasAttr(llm::kEqualizeAttr);
  });
  return needed;
}

llvm::Expected<std::vector<int64_t>> frugal::readCalibrationTokens(
    const std::string &path, const safetensors::TokenizerData &tokenizer,
    int64_t bosId, int64_t maxTokens) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read the calibration text " + path + ": " +
                     buffer.getError().message());
  llvm::StringRef text = (*buffer)->getBuffer();
  if (text.trim().empty())
    return makeError("the calibration text " + path + " is empty");
  llmrt::PreTokenizer mode;
  if (!llmrt::parsePreTokenizer(tokenizer.preTokenizer, mode))
    return makeError("unknown pre-tokenizer '" + tokenizer.preTokenizer + "'");
  std::string error;
  auto tok = llmrt::Tokenizer::create(toModelFileTokenizer(tokenizer), mode,
                                      error, static_cast<int32_t>(bosId));
  if (!tok)
    return makeError("cannot build the tokenizer: " + error);
  std::vector<int32_t> ids;
  if (!tok->encode(std::string_view(text.data(), text.size()),
                   static_cast<int32_t>(bosId), ids, error))
    return makeError("cannot tokenize " + path + ": " + error);
  if (maxTokens > 0 && static_cast<int64_t>(ids.size()) > maxTokens)
    ids.resize(maxTokens);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

/// Sequential calibration: the quantized matmuls' inputs, in the order the
/// model computes them, are split into `stages` runs of consecutive inputs.
/// The statistics of stage s come from a run in which every quantized
/// weight of the stages before it reads back its rounded values, so each
/// weight is fitted to the inputs the quantized model will give it.
/// `first` holds the statistics of the f32 model (stage 0's).
static llvm::Expected<llm::CalibrationStats>
calibrateSequentially(ModuleOp module, const WeightLayout &f32Layout,
                      std::vector<uint8_t> &blob, llm::Calibrator &calibrator,
                      llvm::ArrayRef<int64_t> tokens,
                      llm::CalibrationStats first, int64_t stages,
                      int64_t &run) {
  llm::CalibrationStats stats = std::move(first);
  // The quantized weights as the packer will write them.
  OwningOpRef<ModuleOp> quantized = module.clone();
  WeightLayout layout = assignWeightOffsets(*quantized);
  // Quantized matmul weights by the index of the input they read.
  std::vector<std::vector<const PackedTensor *>> readers(stats.inputs.size());
  for (const PackedTensor &t : layout.tensors) {
    if (!t.quant)
      continue;
    auto it = stats.byWeight.find(t.name);
    if (it != stats.byWeight.end())
      readers[it->second].push_back(&t);
  }
  std::vector<size_t> order;
  for (size_t id = 0; id < readers.size(); ++id)
    if (!readers[id].empty())
      order.push_back(id);
  const int64_t n = static_cast<int64_t>(order.size());
  stages = std::min(stages, std::max<int64_t>(1, n));

  std::vector<float> values;
  std::vector<uint8_t> packed;
  GPTQFactorCache cache;
  for (int64_t s = 0; s < stages; ++s) {
    int64_t begin = s * n / stages, end = (s + 1) * n / stages;
    if (s > 0) {
      llvm::DenseSet<size_t> current;
      for (int64_t i = begin; i < end; ++i)
        current.insert(order[i]);
      run = s;
      auto next = calibrator.run(blob, tokens, [&](size_t id) {
        return current.contains(id) && !stats.inputs[id].gram.empty();
      });
      if (!next)
        return next.takeError();
      for (size_t id : current)
        stats.inputs[id] = std::move(next->inputs[id]);
      cache = GPTQFactorCache();
    }
    if (s + 1 == stages)
      break;
    // Round this stage's weights and write their values back, as f32, where
    // the f32 model reads them.
    for (int64_t i = begin; i < end; ++i)
      for (const PackedTensor *t : readers[order[i]]) {
        int64_t count = t->logicalRows * t->logicalCols;
        auto source = llvm::find_if(f32Layout.tensors, [&](const auto &f) {
          return f.name == t->name && f.transposed == t->transposed &&
                 f.numElements == count;
        });
        if (source == f32Layout.tensors.end())
          return makeError("sequential calibration: weight '" + t->name +
                           "' has no f32 copy in the calibrated model");
        auto *data = reinterpret_cast<float *>(blob.data() + source->offset);
        values.assign(data, data + count);
        if (llvm::Error err =
                quantizeWeight(*t, values, &stats, nullptr, cache, packed))
          return std::move(err);
        llm::dequantize(t->quant,
                        llm::getQuantLayout(t->quant, t->logicalRows,
                                            t->logicalCols),
                        packed.data(), data);
      }
  }
  return std::move(stats);
}

llvm::Expected<llm::CalibrationStats>
frugal::calibrateModel(ModuleOp module, const TensorSource &weights,
                       llvm::ArrayRef<int64_t> tokens,
                       const llm::CalibrationOptions &options,
                       int64_t stages) {
  llvm::StringSet<> gramFor;
  bool equalized = false;
  module.walk([&](llm::WeightOp op) {
    if (usesGram(op))
      gramFor.insert(op.getName());
    equalized |= op->hasAttr(llm::kEqualizeAttr);
  });
  if (stages > 1 && equalized)
    return makeError("sequential calibration (stages > 1) does not combine "
                     "with equalization");
  // The f32 model: quantization marks dropped, offsets into an f32 blob.
  OwningOpRef<ModuleOp> f32 = module.clone();
  f32->walk([](llm::WeightOp op) {
    op.removeQuantAttr();
    op->removeAttr(llm::kQuantMethodAttr);
    op->removeAttr(llm::kEqualizeAttr);
    op->removeAttr(llm::kEqualizedOutputAttr);
  });
  WeightLayout layout = assignWeightOffsets(*f32);
  std::vector<uint8_t> blob;
  if (llvm::Error err = packWeightsBlob(layout, weights, blob))
    return std::move(err);
  llm::CalibrationOptions withGram = options;
  withGram.collectGram = [&](llvm::StringRef name) {
    return gramFor.contains(name) ||
           (options.collectGram && options.collectGram(name));
  };
  // Progress over all runs: the first, then one per later stage.
  int64_t run = 0;
  const int64_t runs = std::max<int64_t>(1, stages);
  if (options.progress)
    withGram.progress = [&](double f) {
      options.progress((static_cast<double>(run) + f) /
                       static_cast<double>(runs));
    };
  auto calibrator = llm::Calibrator::create(*f32, withGram);
  if (!calibrator)
    return calibrator.takeError();
  auto stats = (*calibrator)->run(blob, tokens);
  if (!stats || stages <= 1)
    return stats;
  return calibrateSequentially(module, layout, blob, **calibrator, tokens,
                               std::move(*stats), stages, run);
}
