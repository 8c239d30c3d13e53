//===- CodeGen.h - LLVM dialect -> host object code -------------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_CODEGEN_H
#define FRUGAL_TOOLS_LLM_COMPILE_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace frugal {

/// Translates `module` (LLVM dialect) to LLVM IR, optimizes it at -O3 for
/// the host CPU and writes an object file (or textual LLVM IR when
/// `textualIR`) to `path`.
llvm::Error emitHostCode(mlir::ModuleOp module, const std::string &path,
                         bool textualIR);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_CODEGEN_H
