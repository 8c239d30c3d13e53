//===- LlamaImport.cpp - llama/mistral/qwen2 layers -----------------------===//
//
// Part of Frugal. Pre-norm decoder with RMSNorm, rotary embeddings on q and
// k, grouped-query attention over the KV cache, and a SwiGLU MLP; weights
// use the HF `model.layers.<i>.*` names.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/ImportBuilder.h"

using namespace mlir;

namespace frugal::safetensors {

static Value emitLlamaLayer(ImportBuilder &ib, const ForwardArgs &args, Value h,
                            int64_t layer) {
  const ModelConfig &cfg = ib.config();
  std::string p = "model.layers." + std::to_string(layer) + ".";
  int64_t hidden = cfg.hiddenSize;
  int64_t qDim = cfg.numHeads * cfg.headDim;
  int64_t kvDim = cfg.numKVHeads * cfg.headDim;

  // Attention block.
  Value n = ib.rmsNorm(h, p + "input_layernorm.weight");
  Value q = ib.linear(n, p + "self_attn.q_proj", qDim, hidden, cfg.qkvBias);
  Value k = ib.linear(n, p + "self_attn.k_proj", kvDim, hidden, cfg.qkvBias);
  Value v = ib.linear(n, p + "self_attn.v_proj", kvDim, hidden, cfg.qkvBias);
  Value qr = ib.rope(q, args.positions, cfg.numHeads);
  Value kr = ib.rope(k, args.positions, cfg.numKVHeads);
  Value a = ib.attention(qr, kr, v, args, layer);
  Value o = ib.linear(a, p + "self_attn.o_proj", hidden, qDim, cfg.oBias);
  h = ib.add(h, o);

  // SwiGLU MLP block.
  int64_t inter = cfg.intermediateSize;
  Value n2 = ib.rmsNorm(h, p + "post_attention_layernorm.weight");
  Value g = ib.linear(n2, p + "mlp.gate_proj", inter, hidden, cfg.mlpBias);
  Value u = ib.linear(n2, p + "mlp.up_proj", inter, hidden, cfg.mlpBias);
  Value m = ib.mul(ib.silu(g), u);
  Value d = ib.linear(m, p + "mlp.down_proj", hidden, inter, cfg.mlpBias);
  return ib.add(h, d);
}

Value emitLlamaForward(ImportBuilder &ib, const ForwardArgs &args) {
  const ModelConfig &cfg = ib.config();
  Value table =
      ib.weight("model.embed_tokens.weight", {cfg.vocabSize, cfg.hiddenSize});
  Value h = ib.embed(table, args.tokens);
  for (int64_t i = 0; i < cfg.numLayers; ++i)
    h = emitLlamaLayer(ib, args, h, i);
  Value f = ib.rmsNorm(h, "model.norm.weight");
  Value head =
      cfg.tieWordEmbeddings
          ? table
          : ib.weight("lm_head.weight", {cfg.vocabSize, cfg.hiddenSize});
  return ib.logits(f, head);
}

} // namespace frugal::safetensors
