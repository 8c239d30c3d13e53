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

llvm::Expected<llm::CalibrationStats>
frugal::calibrateModel(ModuleOp module, const TensorSource &weights,
                       llvm::ArrayRef<int64_t> tokens,
                       const llm::CalibrationOptions &options) {
  llvm::StringSet<> gramFor;
  module.walk([&](llm::WeightOp op) {
    if (usesGram(op))
      gramFor.insert(op.getName());
  });
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
  return llm::collectCalibrationStats(*f32, blob, tokens, withGram);
}
