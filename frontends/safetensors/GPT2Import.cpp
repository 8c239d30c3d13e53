//===- GPT2Import.cpp - GPT-2 layers --------------------------------------===//
//
// Part of Frugal. Learned position embeddings, pre-norm LayerNorm, a fused
// qkv projection split with llm.slice, and a GELU MLP. GPT-2 stores its
// projections as Conv1D weights of shape [in, out], so its matmuls are not
// transposed. Names are those of GPT2LMHeadModel, with or without the
// `transformer.` prefix.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/ImportBuilder.h"

using namespace mlir;

namespace frugal::safetensors {

static Value emitGPT2Layer(ImportBuilder &ib, const ForwardArgs &args,
                           llvm::StringRef prefix, Value h, int64_t layer) {
  const ModelConfig &cfg = ib.config();
  std::string p = (prefix + "h." + std::to_string(layer) + ".").str();
  int64_t hidden = cfg.hiddenSize;

  Value n = ib.layerNorm(h, p + "ln_1");
  Value qkv = ib.conv1d(n, p + "attn.c_attn", hidden, 3 * hidden);
  Value q = ib.slice(qkv, /*axis=*/2, /*start=*/0, hidden);
  Value k = ib.slice(qkv, /*axis=*/2, /*start=*/hidden, hidden);
  Value v = ib.slice(qkv, /*axis=*/2, /*start=*/2 * hidden, hidden);
  Value a = ib.attention(q, k, v, args, layer);
  h = ib.add(h, ib.conv1d(a, p + "attn.c_proj", hidden, hidden));

  Value n2 = ib.layerNorm(h, p + "ln_2");
  Value up = ib.conv1d(n2, p + "mlp.c_fc", hidden, cfg.intermediateSize);
  Value act = ib.gelu(up, cfg.geluTanh);
  Value down = ib.conv1d(act, p + "mlp.c_proj", cfg.intermediateSize, hidden);
  return ib.add(h, down);
}

Value emitGPT2Forward(ImportBuilder &ib, const ForwardArgs &args) {
  const ModelConfig &cfg = ib.config();
  llvm::StringRef prefix =
      ib.hasTensor("transformer.wte.weight") ? "transformer." : "";
  std::string pre = prefix.str();
  Value wte = ib.weight(pre + "wte.weight", {cfg.vocabSize, cfg.hiddenSize});
  Value wpe = ib.weight(pre + "wpe.weight", {cfg.maxPositions, cfg.hiddenSize});
  Value h = ib.add(ib.embed(wte, args.tokens), ib.embed(wpe, args.positions));
  for (int64_t i = 0; i < cfg.numLayers; ++i)
    h = emitGPT2Layer(ib, args, prefix, h, i);
  Value f = ib.layerNorm(h, pre + "ln_f");
  Value head =
      cfg.tieWordEmbeddings
          ? wte
          : ib.weight("lm_head.weight", {cfg.vocabSize, cfg.hiddenSize});
  return ib.logits(f, head);
}

} // namespace frugal::safetensors
