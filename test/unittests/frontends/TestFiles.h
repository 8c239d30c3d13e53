//===- TestFiles.h - temporary files for frontend tests ---------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TEST_UNITTESTS_FRONTENDS_TESTFILES_H
#define FRUGAL_TEST_UNITTESTS_FRONTENDS_TESTFILES_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace frugal::test {

/// A directory removed with everything in it when the object dies.
class TempDir {
public:
  TempDir() { llvm::sys::fs::createUniqueDirectory("frugal-frontends", dir); }
  ~TempDir() { llvm::sys::fs::remove_directories(dir); }

  std::string path(llvm::StringRef name) const {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }
  std::string root() const { return std::string(dir); }

  /// Writes `bytes` to `name` and returns its path.
  std::string write(llvm::StringRef name, llvm::StringRef bytes) const {
    std::string p = path(name);
    std::error_code ec;
    llvm::raw_fd_ostream os(p, ec);
    os << bytes;
    return p;
  }

private:
  llvm::SmallString<256> dir;
};

/// A safetensors file: length prefix, `header`, then `data`.
inline std::string safetensors(llvm::StringRef header, llvm::StringRef data) {
  std::string out;
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out.push_back(char((n >> (8 * i)) & 0xff));
  out += header.str();
  out += data.str();
  return out;
}

} // namespace frugal::test

#endif // FRUGAL_TEST_UNITTESTS_FRONTENDS_TESTFILES_H
