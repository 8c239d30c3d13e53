//===- ModelFileWriter.cpp - Writes .fgw model files ----------------------===//

#include "llmrt/ModelFile.h"
#include "Unicode.h"

#include <cerrno>
#include <cstring>

namespace llmrt {
namespace {

void putU32(std::string &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::string serializeMetadata(
    const std::vector<std::pair<std::string, std::string>> &metadata) {
  std::string out;
  for (const auto &[key, value] : metadata) {
    out += key;
    out += '=';
    out += escapeMetadataValue(value);
    out += '\n';
  }
  return out;
}

std::string serializeTokenizer(const TokenizerData &tok) {
  std::string out;
  putU32(out, static_cast<uint32_t>(tok.tokens.size()));
  for (const TokenEntry &t : tok.tokens) {
    out.push_back(static_cast<char>(t.kind));
    putU32(out, static_cast<uint32_t>(t.bytes.size()));
    out += t.bytes;
  }
  putU32(out, static_cast<uint32_t>(tok.merges.size()));
  for (const auto &[l, r] : tok.merges) {
    putU32(out, l);
    putU32(out, r);
  }
  return out;
}

uint64_t tokenizerSize(const TokenizerData &tok) {
  uint64_t n = 8 + 8 * static_cast<uint64_t>(tok.merges.size());
  for (const TokenEntry &t : tok.tokens)
    n += 5 + t.bytes.size();
  return n;
}

class FileSink : public ByteSink {
public:
  explicit FileSink(FILE *f) : f_(f) {}
  bool write(const void *data, size_t size) override {
    if (!ok_)
      return false;
    if (size && fwrite(data, 1, size, f_) != size)
      ok_ = false;
    else
      count_ += size;
    return ok_;
  }
  uint64_t count() const { return count_; }
  bool ok() const { return ok_; }

private:
  FILE *f_;
  uint64_t count_ = 0;
  bool ok_ = true;
};

class MemorySink : public ByteSink {
public:
  explicit MemorySink(std::vector<uint8_t> &out) : out_(out) {}
  bool write(const void *data, size_t size) override {
    const auto *p = static_cast<const uint8_t *>(data);
    out_.insert(out_.end(), p, p + size);
    count_ += size;
    return true;
  }
  uint64_t count() const { return count_; }

private:
  std::vector<uint8_t> &out_;
  uint64_t count_ = 0;
};

std::string blobSizeError(uint64_t expected, uint64_t found) {
  return "weights blob writer produced " + std::to_string(found) +
         " bytes, expected " + std::to_string(expected);
}

} // namespace

std::string escapeMetadataValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void ModelFileWriter::setMetadata(std::string key, std::string value) {
  for (auto &kv : metadata)
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  metadata.emplace_back(std::move(key), std::move(value));
}

ModelFileLayout ModelFileWriter::layout(uint64_t dataSize) const {
  ModelFileLayout l;
  l.metaOffset = kModelFileHeaderSize;
  l.metaSize = serializeMetadata(metadata).size();
  l.tokOffset = l.metaOffset + l.metaSize;
  l.tokSize = tokenizerSize(tokenizer);
  l.dataOffset = alignUp(l.tokOffset + l.tokSize, kModelFileDataAlignment);
  l.dataSize = dataSize;
  return l;
}

std::string ModelFileWriter::check(uint64_t dataSize) const {
  for (size_t i = 0; i < metadata.size(); ++i) {
    const std::string &key = metadata[i].first;
    if (key.empty() || key.find_first_of("=\n\r") != std::string::npos)
      return "invalid metadata key \"" + key +
             "\": keys are non-empty without '=', '\\n' or '\\r'";
    if (!isValidUtf8(key) || !isValidUtf8(metadata[i].second))
      return "metadata entry \"" + key + "\" is not valid UTF-8";
    for (size_t j = 0; j < i; ++j)
      if (metadata[j].first == key)
        return "duplicate metadata key \"" + key + "\"";
  }
  const size_t nTokens = tokenizer.tokens.size();
  if (nTokens > UINT32_MAX || tokenizer.merges.size() > UINT32_MAX)
    return "too many tokens or merges for the tokenizer section";
  for (size_t i = 0; i < nTokens; ++i) {
    const TokenEntry &t = tokenizer.tokens[i];
    if (t.bytes.size() > UINT32_MAX)
      return "token " + std::to_string(i) + " is too long";
    if (static_cast<uint8_t>(t.kind) > 2)
      return "token " + std::to_string(i) + " has an invalid kind";
  }
  for (size_t i = 0; i < tokenizer.merges.size(); ++i) {
    const auto &[l, r] = tokenizer.merges[i];
    if (l >= nTokens || r >= nTokens)
      return "merge " + std::to_string(i) + " refers to token id " +
             std::to_string(l >= nTokens ? l : r) + " but there are only " +
             std::to_string(nTokens) + " tokens";
  }
  if (dataSize > UINT64_MAX / 2)
    return "weights blob size " + std::to_string(dataSize) + " is too large";
  return "";
}

std::string ModelFileWriter::prefixBytes(uint64_t dataSize) const {
  ModelFileLayout l = layout(dataSize);
  std::string out(kModelFileMagic, sizeof(kModelFileMagic));
  putU32(out, kModelFileVersion);
  putU32(out, 0);
  for (uint64_t v : {l.metaOffset, l.metaSize, l.tokOffset, l.tokSize,
                     l.dataOffset, l.dataSize})
    putU64(out, v);
  out += serializeMetadata(metadata);
  out += serializeTokenizer(tokenizer);
  out.resize(l.dataOffset, '\0');
  return out;
}

std::string ModelFileWriter::writeStream(FILE *stream, uint64_t dataSize,
                                         const BlobWriter &writeBlob) const {
  std::string err = check(dataSize);
  if (!err.empty())
    return err;
  std::string prefix = prefixBytes(dataSize);
  FileSink sink(stream);
  if (!sink.write(prefix.data(), prefix.size()))
    return std::string("write failed: ") + strerror(errno);
  const uint64_t before = sink.count();
  if (writeBlob && !writeBlob(sink))
    return sink.ok() ? "weights blob writer failed"
                     : std::string("write failed: ") + strerror(errno);
  if (sink.count() - before != dataSize)
    return blobSizeError(dataSize, sink.count() - before);
  if (fflush(stream) != 0)
    return std::string("write failed: ") + strerror(errno);
  return "";
}

std::string ModelFileWriter::writeFile(const std::string &path,
                                       uint64_t dataSize,
                                       const BlobWriter &writeBlob) const {
  FILE *f = fopen(path.c_str(), "wb");
  if (!f)
    return path + ": cannot open for writing: " + strerror(errno);
  std::string err = writeStream(f, dataSize, writeBlob);
  if (fclose(f) != 0 && err.empty())
    err = std::string("close failed: ") + strerror(errno);
  if (!err.empty()) {
    remove(path.c_str());
    return path + ": " + err;
  }
  return "";
}

std::string ModelFileWriter::writeMemory(std::vector<uint8_t> &out,
                                         uint64_t dataSize,
                                         const BlobWriter &writeBlob) const {
  std::string err = check(dataSize);
  if (!err.empty())
    return err;
  const size_t start = out.size();
  std::string prefix = prefixBytes(dataSize);
  out.insert(out.end(), prefix.begin(), prefix.end());
  MemorySink sink(out);
  if (writeBlob && !writeBlob(sink)) {
    out.resize(start);
    return "weights blob writer failed";
  }
  if (sink.count() != dataSize) {
    out.resize(start);
    return blobSizeError(dataSize, sink.count());
  }
  return "";
}

} // namespace llmrt
