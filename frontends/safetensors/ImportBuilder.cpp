//===- ImportBuilder.cpp - op helpers shared by the importers -------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/ImportBuilder.h"

#include "dialects/LLM/IR/LLMDialect.h"

using namespace mlir;
using frugal::TensorSource;

namespace frugal::safetensors {

RankedTensorType ImportBuilder::activation(int64_t features, int64_t seq) {
  return RankedTensorType::get({1, seq, features}, b.getF32Type());
}

Value ImportBuilder::weight(llvm::StringRef name, ArrayRef<int64_t> shape) {
  auto it = weights.find(name);
  if (it != weights.end())
    return it->second;
  if (std::optional<TensorSource::Info> t = ckpt.lookupTensor(name)) {
    if (ArrayRef<int64_t>(t->shape) != shape)
      problems.push_back("tensor '" + name.str() + "': expected shape " +
                         formatShape(shape) + ", found " +
                         formatShape(t->shape) + " (in " + t->file + ")");
    else if (!t->convertibleToF32)
      problems.push_back("tensor '" + name.str() + "': dtype " + t->dtype +
                         " not supported for weights (expected F32, F16 or "
                         "BF16) (in " +
                         t->file + ")");
  } else {
    problems.push_back("missing tensor '" + name.str() + "' in checkpoint " +
                       ckpt.sourcePath());
  }
  auto type = RankedTensorType::get(shape, b.getF32Type());
  Value w = llm::WeightOp::create(b, loc, type, b.getStringAttr(name),
                                  llm::QuantAttr(), IntegerAttr());
  weights[name] = w;
  return w;
}

Value ImportBuilder::linear(Value x, llvm::StringRef prefix, int64_t out,
                            int64_t in, bool bias) {
  Value w = weight((prefix + ".weight").str(), {out, in});
  Value y =
      llm::MatmulOp::create(b, loc, activation(out), x, w, b.getUnitAttr());
  if (bias)
    y = add(y, weight((prefix + ".bias").str(), {out}));
  return y;
}

Value ImportBuilder::conv1d(Value x, llvm::StringRef prefix, int64_t in,
                            int64_t out) {
  Value w = weight((prefix + ".weight").str(), {in, out});
  Value y = llm::MatmulOp::create(b, loc, activation(out), x, w, UnitAttr());
  return add(y, weight((prefix + ".bias").str(), {out}));
}

Value ImportBuilder::embed(Value table, Value ids) {
  int64_t hidden = cast<RankedTensorType>(table.getType()).getDimSize(1);
  return llm::EmbedOp::create(b, loc, activation(hidden), table, ids);
}

Value ImportBuilder::add(Value lhs, Value rhs) {
  return llm::AddOp::create(b, loc, lhs.getType(), lhs, rhs);
}

Value ImportBuilder::mul(Value lhs, Value rhs) {
  return llm::MulOp::create(b, loc, lhs.getType(), lhs, rhs);
}

Value ImportBuilder::silu(Value x) {
  return llm::SiluOp::create(b, loc, x.getType(), x);
}

Value ImportBuilder::gelu(Value x, bool tanh) {
  return llm::GeluOp::create(b, loc, x.getType(), x,
                             tanh ? b.getUnitAttr() : UnitAttr());
}

Value ImportBuilder::rmsNorm(Value x, llvm::StringRef weightName) {
  Value w = weight(weightName, {cfg.hiddenSize});
  return llm::RMSNormOp::create(b, loc, x.getType(), x, w,
                                b.getF64FloatAttr(cfg.normEps));
}

Value ImportBuilder::layerNorm(Value x, llvm::StringRef prefix) {
  Value w = weight((prefix + ".weight").str(), {cfg.hiddenSize});
  Value bias = weight((prefix + ".bias").str(), {cfg.hiddenSize});
  return llm::LayerNormOp::create(b, loc, x.getType(), x, w, bias,
                                  b.getF64FloatAttr(cfg.normEps));
}

Value ImportBuilder::rope(Value x, Value positions, int64_t numHeads) {
  return llm::RopeOp::create(
      b, loc, x.getType(), x, positions, /*cos_cache=*/Value(),
      /*sin_cache=*/Value(), b.getI64IntegerAttr(numHeads),
      b.getF64FloatAttr(cfg.ropeTheta), IntegerAttr(),
      cfg.ropeInterleaved ? b.getUnitAttr() : UnitAttr());
}

Value ImportBuilder::attention(Value q, Value k, Value v,
                               const ForwardArgs &args, int64_t layer) {
  FloatAttr scale;
  if (cfg.attentionScale)
    scale = b.getF32FloatAttr(*cfg.attentionScale);
  return llm::AttentionOp::create(b, loc, q.getType(), q, k, v, args.kvCache,
                                  args.start, b.getI64IntegerAttr(cfg.numHeads),
                                  b.getI64IntegerAttr(cfg.numKVHeads), scale,
                                  b.getUnitAttr(), b.getI64IntegerAttr(layer));
}

Value ImportBuilder::slice(Value x, int64_t axis, int64_t start, int64_t size) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = size;
  return llm::SliceOp::create(b, loc, type.clone(shape), x,
                              b.getI64IntegerAttr(axis),
                              b.getI64IntegerAttr(start));
}

Value ImportBuilder::logits(Value hidden, Value table) {
  Value last = slice(hidden, /*axis=*/1, /*start=*/-1, /*size=*/1);
  int64_t vocab = cast<RankedTensorType>(table.getType()).getDimSize(0);
  return llm::MatmulOp::create(b, loc, activation(vocab, 1), last, table,
                               b.getUnitAttr());
}

} // namespace frugal::safetensors
