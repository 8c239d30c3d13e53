//===- WeightPacker.cpp - Lay out and write the weights file ---------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/WeightPacker.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"
#include "llmrt/ModelFile.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace frugal;
using frugal::TensorSource;

WeightLayout frugal::assignWeightOffsets(ModuleOp module) {
  WeightLayout layout;
  llvm::StringMap<int64_t> offsets;
  Builder b(module.getContext());
  module.walk([&](llm::WeightOp op) {
    std::string key = (op.getName() + (op.getTransposed() ? "^T" : "")).str();
    if (auto quant = op.getQuantAttr()) {
      llvm::raw_string_ostream os(key);
      os << "^" << quant;
      if (auto method = op->getAttrOfType<StringAttr>(llm::kQuantMethodAttr))
        os << "^" << method.getValue();
    }
    auto it = offsets.find(key);
    if (it == offsets.end()) {
      auto type = op.getResult().getType();
      int64_t n = type.getNumElements();
      int64_t offset = layout.totalBytes;
      PackedTensor t;
      t.name = op.getName().str();
      t.offset = offset;
      t.numElements = n;
      t.transposed = op.getTransposed();
      if (t.transposed) {
        // The source is [K, N] for a logical [N, K].
        t.rows = type.getDimSize(1);
        t.cols = type.getDimSize(0);
      }
      t.quant = op.getQuantAttr();
      if (auto method = op->getAttrOfType<StringAttr>(llm::kQuantMethodAttr))
        t.method = method.str();
      t.storageBytes = op.getStorageBytes();
      if (t.quant) {
        t.logicalRows = type.getDimSize(0);
        t.logicalCols = type.getDimSize(1);
      }
      layout.tensors.push_back(t);
      int64_t bytes = t.storageBytes;
      layout.totalBytes = (offset + bytes + 63) / 64 * 64;
      it = offsets.insert({key, offset}).first;
    }
    op.setOffsetAttr(b.getI64IntegerAttr(it->second));
  });
  return layout;
}

namespace {
/// Streams the f32 blob tensor by tensor into the model file.
struct BlobStreamer {
  const WeightLayout &layout;
  const TensorSource &weights;
  const std::function<void(double)> &progress;
  const mlir::llm::CalibrationStats *calibration;
  std::string error = {};
  /// GPTQ's factor of the last input statistics (q, k and v share them).
  const mlir::llm::ChannelStats *factored = nullptr;
  mlir::llm::GPTQFactor factor = {};

  bool operator()(llmrt::ByteSink &sink) {
    std::vector<float> buffer, transposed;
    std::vector<uint8_t> packed;
    int64_t written = 0;
    static const char zeros[64] = {};
    for (const PackedTensor &t : layout.tensors) {
      if (written < t.offset) {
        if (!sink.write(zeros, t.offset - written))
          return fail("write error");
        written = t.offset;
      }
      std::optional<TensorSource::Info> info = weights.lookupTensor(t.name);
      if (!info)
        return fail("missing tensor '" + t.name + "' in " +
                    weights.sourcePath());
      int64_t n = 1;
      for (int64_t d : info->shape)
        n *= d;
      if (n != t.numElements)
        return fail("tensor " + t.name + ": expected " +
                    std::to_string(t.numElements) + " elements, found " +
                    std::to_string(n));
      if (t.quant && !t.transposed) {
        // A source that stores this weight quantized the same way hands
        // over its codes and scales unchanged.
        packed.resize(t.storageBytes);
        llvm::Expected<bool> direct = weights.readPacked(
            t.name, t.quant, t.logicalRows, t.logicalCols, packed);
        if (!direct)
          return fail(llvm::toString(direct.takeError()));
        if (*direct) {
          if (!sink.write(packed.data(), packed.size()))
            return fail("write error");
          written += t.storageBytes;
          if (progress)
            progress(static_cast<double>(written) /
                     static_cast<double>(
                         std::max<int64_t>(1, layout.totalBytes)));
          continue;
        }
      }
      buffer.resize(t.numElements);
      if (llvm::Error err = weights.readAsF32(t.name, buffer))
        return fail(llvm::toString(std::move(err)));
      if (t.transposed) {
        transposed.resize(t.numElements);
        for (int64_t r = 0; r < t.rows; ++r)
          for (int64_t c = 0; c < t.cols; ++c)
            transposed[c * t.rows + r] = buffer[r * t.cols + c];
        buffer.swap(transposed);
      }
      if (t.quant) {
        mlir::llm::QuantLayout ql = mlir::llm::getQuantLayout(
            t.quant, t.logicalRows, t.logicalCols);
        packed.resize(ql.totalBytes);
        if (t.method.empty() || t.method == "rtn") {
          mlir::llm::quantizeRTN(t.quant, ql, buffer.data(), packed.data());
        } else if (t.method == "gptq") {
          const mlir::llm::ChannelStats *stats =
              calibration ? calibration->lookup(t.name) : nullptr;
          if (!stats || stats->gram.empty() ||
              stats->channels != t.logicalCols)
            return fail("weight '" + t.name +
                        "' is quantized with gptq but has no calibration "
                        "statistics of its " +
                        std::to_string(t.logicalCols) + " input channels");
          if (stats != factored) {
            factor = mlir::llm::factorGPTQ(stats->gram.data(), stats->channels);
            factored = stats;
          }
          mlir::llm::quantizeGPTQ(t.quant, ql, buffer.data(), factor,
                                  packed.data());
        } else {
          return fail("weight '" + t.name + "': unknown quantization method '" +
                      t.method + "'");
        }
        if (!sink.write(packed.data(), packed.size()))
          return fail("write error");
      } else if (!sink.write(buffer.data(), buffer.size() * sizeof(float))) {
        return fail("write error");
      }
      written += t.storageBytes;
      if (progress)
        progress(static_cast<double>(written) /
                 static_cast<double>(std::max<int64_t>(1, layout.totalBytes)));
    }
    if (written < layout.totalBytes &&
        !sink.write(zeros, layout.totalBytes - written))
      return fail("write error");
    return true;
  }
  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }
};
} // namespace

llmrt::TokenizerData frugal::toModelFileTokenizer(
    const frugal::safetensors::TokenizerData &tokenizer) {
  llmrt::TokenizerData out;
  for (size_t i = 0; i < tokenizer.tokens.size(); ++i) {
    llmrt::TokenEntry entry;
    entry.bytes = tokenizer.tokens[i];
    entry.kind = tokenizer.kinds[i] == frugal::safetensors::kTokenSpecial
                     ? llmrt::TokenKind::Special
                 : tokenizer.kinds[i] == frugal::safetensors::kTokenByte
                     ? llmrt::TokenKind::Byte
                     : llmrt::TokenKind::Normal;
    out.tokens.push_back(std::move(entry));
  }
  out.merges = tokenizer.merges;
  return out;
}

llvm::Error frugal::packWeightsBlob(
    const WeightLayout &layout, const TensorSource &weights,
    std::vector<uint8_t> &blob,
    const mlir::llm::CalibrationStats *calibration) {
  struct VectorSink : llmrt::ByteSink {
    std::vector<uint8_t> &out;
    explicit VectorSink(std::vector<uint8_t> &out) : out(out) {}
    bool write(const void *data, size_t size) override {
      const auto *bytes = static_cast<const uint8_t *>(data);
      out.insert(out.end(), bytes, bytes + size);
      return true;
    }
  };
  blob.clear();
  blob.reserve(layout.totalBytes);
  std::function<void(double)> noProgress;
  BlobStreamer streamer{layout, weights, noProgress, calibration};
  VectorSink sink(blob);
  if (!streamer(sink))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "packing the weights: " + streamer.error);
  return llvm::Error::success();
}

llvm::Error frugal::writeModelFile(
    const std::string &path, std::vector<uint8_t> *memory,
    const WeightLayout &layout, const TensorSource &weights,
    const std::vector<std::pair<std::string, std::string>> &metadata,
    const frugal::safetensors::TokenizerData *tokenizer,
    const std::function<void(double)> &progress,
    const mlir::llm::CalibrationStats *calibration) {
  llmrt::ModelFileWriter writer;
  for (const auto &[key, value] : metadata)
    writer.setMetadata(key, value);
  if (tokenizer)
    writer.tokenizer = toModelFileTokenizer(*tokenizer);
  BlobStreamer streamer{layout, weights, progress, calibration};
  auto blob = [&](llmrt::ByteSink &sink) { return streamer(sink); };
  std::string error =
      memory ? writer.writeMemory(*memory, layout.totalBytes, blob)
             : writer.writeFile(path, layout.totalBytes, blob);
  if (!streamer.error.empty())
    error = streamer.error;
  if (!error.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "writing the weights of " + path + ": " +
                                       error);
  return llvm::Error::success();
}
