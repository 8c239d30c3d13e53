//===- BoundedJson.h - llvm::json parsing with a nesting limit --*- C++ -*-===//
//
// Part of Frugal. llvm::json's parser recurses once per nesting level, so
// pathological input ("[[[[...") would overflow the stack. Every JSON file
// the frontend reads goes through this check first.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_BOUNDEDJSON_H
#define FRUGAL_FRONTENDS_SAFETENSORS_BOUNDEDJSON_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace frugal::safetensors {

/// Far deeper than any safetensors header, config or tokenizer file.
constexpr unsigned kMaxJsonDepth = 64;

/// llvm::json::parse, after rejecting nesting deeper than kMaxJsonDepth.
/// The error text is llvm::json's message (or the nesting limit).
llvm::Expected<llvm::json::Value> parseBoundedJson(llvm::StringRef text);

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_BOUNDEDJSON_H
