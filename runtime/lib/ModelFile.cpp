//===- ModelFile.cpp - Maps and validates .fgw model files ----------------===//
//
// Every field is checked before use: the parser must reject any byte string
// with a message, never read out of bounds (the fuzzer checks this).
//
//===----------------------------------------------------------------------===//

#include "llmrt/ModelFile.h"
#include "Unicode.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llmrt {
namespace {

uint32_t getU32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

uint64_t getU64(const uint8_t *p) {
  return uint64_t(getU32(p)) | uint64_t(getU32(p + 4)) << 32;
}

std::string quoted(const uint8_t *p, size_t n) {
  std::string out = "\"";
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '"' && p[i] != '\\') {
      out += static_cast<char>(p[i]);
    } else {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", p[i]);
      out += buf;
    }
  }
  return out + "\"";
}

std::string num(uint64_t v) { return std::to_string(v); }

struct Section {
  const char *name;
  uint64_t offset, size;
};

// Checks one section against the file bounds; returns "" when valid.
std::string checkSection(const Section &s, uint64_t fileSize) {
  std::string what = std::string(s.name) + " section";
  if (s.size > UINT64_MAX - s.offset)
    return what + ": offset " + num(s.offset) + " + size " + num(s.size) +
           " overflows 64 bits";
  if (s.offset < kModelFileHeaderSize && s.size > 0)
    return what + ": offset " + num(s.offset) + " is inside the " +
           num(kModelFileHeaderSize) + "-byte header";
  if (s.offset + s.size > fileSize)
    return what + " [" + num(s.offset) + ", " + num(s.offset + s.size) +
           ") extends past the end of the file (" + num(fileSize) + " bytes)";
  return "";
}

bool overlaps(const Section &a, const Section &b) {
  return a.size > 0 && b.size > 0 && a.offset < b.offset + b.size &&
         b.offset < a.offset + a.size;
}

// Parses `key=value` lines; returns "" on success.
std::string parseMetadata(std::string_view text,
                          std::map<std::string, std::string> &meta) {
  if (!isValidUtf8(text)) {
    uint32_t cp;
    size_t i = 0;
    while (i < text.size()) {
      size_t n = decodeUtf8(text, i, cp);
      if (n == 0)
        break;
      i += n;
    }
    return "metadata is not valid UTF-8 (byte " + num(i) + ")";
  }
  size_t lineNo = 0;
  for (size_t pos = 0; pos < text.size();) {
    ++lineNo;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty())
      continue;
    const std::string where = "metadata line " + num(lineNo) + ": ";
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return where + "expected key=value, found " +
             quoted(reinterpret_cast<const uint8_t *>(line.data()),
                    std::min<size_t>(line.size(), 64));
    if (eq == 0)
      return where + "empty key";
    std::string key(line.substr(0, eq)), value;
    std::string_view raw = line.substr(eq + 1);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        value += raw[i];
        continue;
      }
      if (i + 1 < raw.size() && raw[i + 1] == 'n')
        value += '\n';
      else if (i + 1 < raw.size() && raw[i + 1] == '\\')
        value += '\\';
      else
        return where + "invalid escape in value of \"" + key +
               "\" (expected \\n or \\\\)";
      ++i;
    }
    if (!meta.emplace(key, std::move(value)).second)
      return where + "duplicate key \"" + key + "\"";
  }
  return "";
}

std::string parseTokenizer(const uint8_t *p, uint64_t size,
                           TokenizerData &tok) {
  const std::string what = "tokenizer section: ";
  if (size < 4)
    return what + "expected at least 4 bytes for n_tokens, found " + num(size);
  const uint32_t nTokens = getU32(p);
  // Each token takes at least 5 bytes, and n_merges needs 4 more.
  if (uint64_t(nTokens) * 5 + 8 > size)
    return what + "n_tokens=" + num(nTokens) + " needs at least " +
           num(uint64_t(nTokens) * 5 + 8) + " bytes, section has " +
           num(size);
  uint64_t pos = 4;
  tok.tokens.resize(nTokens);
  for (uint32_t i = 0; i < nTokens; ++i) {
    if (size - pos < 5)
      return what + "truncated token list: token " + num(i) + " of " +
             num(nTokens) + " needs 5 header bytes at offset " + num(pos) +
             ", " + num(size - pos) + " left";
    const uint8_t kind = p[pos];
    const uint32_t len = getU32(p + pos + 1);
    pos += 5;
    if (kind > 2)
      return what + "token " + num(i) + " has kind " + num(kind) +
             ", expected 0 (normal), 1 (special) or 2 (byte)";
    if (len > size - pos)
      return what + "truncated token list: token " + num(i) + " of " +
             num(nTokens) + " has length " + num(len) + " but only " +
             num(size - pos) + " bytes are left";
    tok.tokens[i].kind = static_cast<TokenKind>(kind);
    tok.tokens[i].bytes.assign(reinterpret_cast<const char *>(p + pos), len);
    pos += len;
  }
  if (size - pos < 4)
    return what + "truncated: expected n_merges (4 bytes) at offset " +
           num(pos) + ", " + num(size - pos) + " left";
  const uint32_t nMerges = getU32(p + pos);
  pos += 4;
  if (uint64_t(nMerges) * 8 != size - pos)
    return what + "n_merges=" + num(nMerges) + " needs " +
           num(uint64_t(nMerges) * 8) + " bytes, found " + num(size - pos);
  tok.merges.resize(nMerges);
  for (uint32_t i = 0; i < nMerges; ++i, pos += 8) {
    const uint32_t l = getU32(p + pos), r = getU32(p + pos + 4);
    if (l >= nTokens || r >= nTokens)
      return what + "merge " + num(i) + " refers to token id " +
             num(l >= nTokens ? l : r) + ", expected < n_tokens=" +
             num(nTokens);
    tok.merges[i] = {l, r};
  }
  return "";
}

} // namespace

ModelFile::~ModelFile() {
  if (mapped_ && base_)
    munmap(const_cast<uint8_t *>(base_), size_);
}

const std::string *ModelFile::get(const std::string &key) const {
  auto it = meta_.find(key);
  return it == meta_.end() ? nullptr : &it->second;
}

std::unique_ptr<ModelFile> ModelFile::openFile(const std::string &path,
                                               std::string &error,
                                               bool *ioError) {
  if (ioError)
    *ioError = true;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open model file: " + strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    close(fd);
    return nullptr;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kModelFileHeaderSize) {
    error = path + ": file too small: expected at least " +
            num(kModelFileHeaderSize) + " bytes for the header, found " +
            num(size);
    if (ioError)
      *ioError = false;
    close(fd);
    return nullptr;
  }
  // Populated up front: the weights are resident before the first token and
  // decode never waits on a page fault.
  void *addr = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  close(fd);
  if (addr == MAP_FAILED) {
    error = path + ": cannot map model file: " + strerror(errno);
    return nullptr;
  }
  std::unique_ptr<ModelFile> mf(new ModelFile());
  mf->name_ = path;
  mf->base_ = static_cast<const uint8_t *>(addr);
  mf->size_ = size;
  mf->mapped_ = true;
  if (ioError)
    *ioError = false;
  if (!mf->parse(error))
    return nullptr;
  return mf;
}

std::unique_ptr<ModelFile> ModelFile::openMemory(const uint8_t *data,
                                                 uint64_t size,
                                                 const std::string &name,
                                                 std::string &error) {
  std::unique_ptr<ModelFile> mf(new ModelFile());
  mf->name_ = name;
  mf->base_ = data;
  mf->size_ = data ? size : 0;
  if (!mf->parse(error))
    return nullptr;
  return mf;
}

bool ModelFile::parse(std::string &error) {
  auto fail = [&](const std::string &msg) {
    error = name_ + ": " + msg;
    return false;
  };
  const uint8_t *p = base_;
  if (size_ < kModelFileHeaderSize)
    return fail("file too small: expected at least " +
                num(kModelFileHeaderSize) + " bytes for the header, found " +
                num(size_));
  if (memcmp(p, kModelFileMagic, sizeof(kModelFileMagic)) != 0)
    return fail("bad magic: expected \"FRUGALW1\", found " + quoted(p, 8));
  const uint32_t version = getU32(p + 8), flags = getU32(p + 12);
  if (version != kModelFileVersion)
    return fail("unsupported format version: expected " +
                num(kModelFileVersion) + ", found " + num(version));
  if (flags != 0)
    return fail("unsupported flags: expected 0, found " + num(flags));
  layout_.metaOffset = getU64(p + 16);
  layout_.metaSize = getU64(p + 24);
  layout_.tokOffset = getU64(p + 32);
  layout_.tokSize = getU64(p + 40);
  layout_.dataOffset = getU64(p + 48);
  layout_.dataSize = getU64(p + 56);
  const Section sections[3] = {
      {"metadata", layout_.metaOffset, layout_.metaSize},
      {"tokenizer", layout_.tokOffset, layout_.tokSize},
      {"weights", layout_.dataOffset, layout_.dataSize}};
  for (const Section &s : sections) {
    std::string err = checkSection(s, size_);
    if (!err.empty())
      return fail(err);
  }
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j)
      if (overlaps(sections[i], sections[j]))
        return fail(std::string(sections[i].name) + " section [" +
                    num(sections[i].offset) + ", " +
                    num(sections[i].offset + sections[i].size) +
                    ") overlaps " + sections[j].name + " section [" +
                    num(sections[j].offset) + ", " +
                    num(sections[j].offset + sections[j].size) + ")");
  if (layout_.dataOffset % kModelFileDataAlignment != 0)
    return fail("weights data offset " + num(layout_.dataOffset) +
                " is not a multiple of " + num(kModelFileDataAlignment));
  std::string err = parseMetadata(
      std::string_view(reinterpret_cast<const char *>(p + layout_.metaOffset),
                       layout_.metaSize),
      meta_);
  if (!err.empty())
    return fail(err);
  err = parseTokenizer(p + layout_.tokOffset, layout_.tokSize, tok_);
  if (!err.empty())
    return fail(err);
  return true;
}

} // namespace llmrt
