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
    if (auto with = op->getAttrOfType<StringAttr>(llm::kEqualizeAttr))
      key += ("^eq:" + with.getValue()).str();
    if (op->hasAttr(llm::kEqualizedOutputAttr))
      key += "^eqout";
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
      if (auto with = op->getAttrOfType<StringAttr>(llm::kEqualizeAttr))
        t.equalizeWith = with.str();
      t.equalizedOutput = op->hasAttr(llm::kEqualizedOutputAttr);
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

llvm::Error frugal::quantizeWeight(const PackedTensor &t,
                                   llvm::ArrayRef<float> values,
                                   const mlir::llm::CalibrationStats *calibration,
                                   const std::vector<float> *inputScales,
                                   GPTQFactorCache &cache,
                                   std::vector<uint8_t> &out) {
  auto error = [&](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "weight '" + t.name + "' " + message);
  };
  mlir::llm::QuantLayout ql =
      mlir::llm::getQuantLayout(t.quant, t.logicalRows, t.logicalCols);
  if (static_cast<int64_t>(values.size()) != t.logicalRows * t.logicalCols)
    return error("has " + llvm::Twine(values.size()) + " values, expected " +
                 llvm::Twine(t.logicalRows * t.logicalCols));
  out.resize(ql.totalBytes);
  if (t.method.empty() || t.method == "rtn") {
    mlir::llm::quantizeRTN(t.quant, ql, values.data(), out.data());
    return llvm::Error::success();
  }
  if (t.method != "gptq")
    return error("has an unknown quantization method '" + t.method + "'");
  const mlir::llm::ChannelStats *stats =
      calibration ? calibration->lookup(t.name) : nullptr;
  if (!stats || stats->gram.empty() || stats->channels != t.logicalCols)
    return error("is quantized with gptq but has no calibration statistics "
                 "of its " + llvm::Twine(t.logicalCols) + " input channels");
  std::string equalizeWith = inputScales ? t.equalizeWith : std::string();
  if (stats != cache.stats || equalizeWith != cache.equalizeWith) {
    // Equalized inputs are X / s: X^T X scales by 1 / (s_i s_j).
    const std::vector<double> *gram = &stats->gram;
    std::vector<double> scaled;
    if (inputScales) {
      const std::vector<float> &s = *inputScales;
      int64_t k = stats->channels;
      if (static_cast<int64_t>(s.size()) != k)
        return error("has " + llvm::Twine(s.size()) +
                     " equalization scales for " + llvm::Twine(k) +
                     " input channels");
      scaled = stats->gram;
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j)
          scaled[i * k + j] /= double(s[i]) * double(s[j]);
      gram = &scaled;
    }
    cache.factor = mlir::llm::factorGPTQ(gram->data(), stats->channels);
    cache.stats = stats;
    cache.equalizeWith = equalizeWith;
  }
  mlir::llm::quantizeGPTQ(t.quant, ql, values.data(), cache.factor,
                          out.data());
  return llvm::Error::success();
}

namespace {
/// Streams the f32 blob tensor by tensor into the model file.
struct BlobStreamer {
  const WeightLayout &layout;
  const TensorSource &weights;
  const std::function<void(double)> &progress;
  const mlir::llm::CalibrationStats *calibration;
  std::string error = {};
  /// GPTQ's factor of the last input (q, k and v share it).
  GPTQFactorCache factors = {};
  /// Equalization scales by producer name.
  llvm::StringMap<std::vector<float>> scales = {};

  /// The f32 values of `t` as packed: [rows, cols] transposed when asked.
  bool readF32(const PackedTensor &t, std::vector<float> &buffer,
               std::vector<float> &scratch) {
    buffer.resize(t.numElements);
    if (llvm::Error err = weights.readAsF32(t.name, buffer))
      return fail(llvm::toString(std::move(err)));
    if (t.transposed) {
      scratch.resize(t.numElements);
      for (int64_t r = 0; r < t.rows; ++r)
        for (int64_t c = 0; c < t.cols; ++c)
          scratch[c * t.rows + r] = buffer[r * t.cols + c];
      buffer.swap(scratch);
    }
    return true;
  }

  /// Chooses the scales of every equalized input from its consumers'
  /// weights and calibration statistics.
  bool planEqualization() {
    llvm::StringMap<std::vector<const PackedTensor *>> groups;
    std::vector<std::string> order;
    for (const PackedTensor &t : layout.tensors)
      if (!t.equalizeWith.empty()) {
        auto &group = groups[t.equalizeWith];
        if (group.empty())
          order.push_back(t.equalizeWith);
        group.push_back(&t);
      }
    std::vector<std::vector<float>> values;
    std::vector<float> scratch;
    for (const std::string &producer : order) {
      const auto &consumers = groups[producer];
      const PackedTensor &first = *consumers.front();
      const mlir::llm::ChannelStats *stats =
          calibration ? calibration->lookup(first.name) : nullptr;
      if (!stats || stats->channels != first.logicalCols || !stats->count)
        return fail("weight '" + first.name +
                    "' is equalized but has no calibration statistics of "
                    "its " + std::to_string(first.logicalCols) +
                    " input channels");
      int64_t cols = stats->channels;
      std::vector<double> meanAbs(cols), meanSquare(cols);
      for (int64_t c = 0; c < cols; ++c) {
        meanAbs[c] = stats->meanAbs(c);
        meanSquare[c] = stats->meanSquare(c);
      }
      values.assign(consumers.size(), {});
      std::vector<mlir::llm::EqualizedWeight> group;
      for (size_t i = 0; i < consumers.size(); ++i) {
        const PackedTensor &t = *consumers[i];
        if (t.logicalCols != cols)
          return fail("weights '" + first.name + "' and '" + t.name +
                      "' are equalized together but have " +
                      std::to_string(cols) + " and " +
                      std::to_string(t.logicalCols) + " input channels");
        if (!readF32(t, values[i], scratch))
          return false;
        group.push_back({t.quant, values[i].data(), t.logicalRows});
      }
      scales[producer] = mlir::llm::searchEqualization(group, cols, meanAbs,
                                                       meanSquare);
    }
    return true;
  }

  /// Applies equalization to `buffer`, the f32 values of `t`.
  bool equalize(const PackedTensor &t, std::vector<float> &buffer) {
    if (!t.equalizeWith.empty()) {
      auto it = scales.find(t.equalizeWith);
      int64_t cols = it == scales.end() ? 0 : it->second.size();
      if (cols == 0 || t.numElements % cols != 0)
        return fail("weight '" + t.name + "': no equalization scales of " +
                    "its input channels from '" + t.equalizeWith + "'");
      for (int64_t i = 0; i < t.numElements; ++i)
        buffer[i] *= it->second[i % cols];
    }
    if (t.equalizedOutput) {
      auto it = scales.find(t.name);
      int64_t rows = it == scales.end() ? 0 : it->second.size();
      if (rows == 0 || t.numElements % rows != 0)
        return fail("weight '" + t.name + "' produces an equalized input " +
                    "but no weight reading it was equalized");
      int64_t cols = t.numElements / rows;
      for (int64_t i = 0; i < t.numElements; ++i)
        buffer[i] /= it->second[i / cols];
    }
    return true;
  }

  bool operator()(llmrt::ByteSink &sink) {
    std::vector<float> buffer, transposed;
    std::vector<uint8_t> packed;
    int64_t written = 0;
    static const char zeros[64] = {};
    if (!planEqualization())
      return false;
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
      bool equalized = !t.equalizeWith.empty() || t.equalizedOutput;
      if (t.quant && !t.transposed && !equalized) {
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
      if (!readF32(t, buffer, transposed) || !equalize(t, buffer))
        return false;
      if (t.quant) {
        const std::vector<float> *inputScales = nullptr;
        if (!t.equalizeWith.empty())
          inputScales = &scales[t.equalizeWith];
        if (llvm::Error err = quantizeWeight(t, buffer, calibration,
                                             inputScales, factors, packed))
          return fail(llvm::toString(std::move(err)));
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
