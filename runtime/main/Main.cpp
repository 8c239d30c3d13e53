//===- Main.cpp - `main` of a compiled model executable -------------------===//
//
// Binds the generation loop to the compiled model's `frugal_forward` (and
// `frugal_forward_batch` and `frugal_forward_all`, when the model has a
// batched decode step and an every-position step).
//
//===----------------------------------------------------------------------===//

#include "llmrt/llmrt.h"

int main(int argc, char **argv) {
  llmrt_backend backend = {frugal_forward, frugal_forward_batch,
                           frugal_forward_all};
  return llmrt_main(argc, argv, &backend);
}
