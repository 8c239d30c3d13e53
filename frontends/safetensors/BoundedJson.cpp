//===- BoundedJson.cpp - llvm::json parsing with a nesting limit ----------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/BoundedJson.h"

#include "llvm/Support/FormatVariadic.h"

namespace frugal::safetensors {

/// Whether arrays/objects outside strings nest deeper than kMaxJsonDepth.
static bool nestsTooDeep(llvm::StringRef text) {
  unsigned depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

llvm::Expected<llvm::json::Value> parseBoundedJson(llvm::StringRef text) {
  if (nestsTooDeep(text))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("nesting deeper than {0} levels", kMaxJsonDepth));
  return llvm::json::parse(text);
}

} // namespace frugal::safetensors
