//===- Main.cpp - `main` of a compiled model executable -------------------===//
//
// Binds the generation loop to the compiled model's `frugal_forward`.
//
//===----------------------------------------------------------------------===//

#include "llmrt/llmrt.h"

int main(int argc, char **argv) {
  llmrt_backend backend = {frugal_forward};
  return llmrt_main(argc, argv, &backend);
}
