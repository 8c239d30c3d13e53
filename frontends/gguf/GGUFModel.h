//===- GGUFModel.h - A GGUF model as weights, config, tokenizer -*- C++ -*-===//
//
// Part of Frugal. Presents a llama.cpp GGUF file the way the safetensors
// frontend sees a Hugging Face checkpoint, so the same importer builds its
// llm IR:
//  - GGUFSource: the tensors under HF names (blk.N.attn_q.weight →
//    model.layers.N.self_attn.q_proj.weight, ...), converted to f32 on
//    request (F32, F16, BF16, and Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q6_K
//    dequantized), or, for matmul weights and embedding tables of those
//    quantized types,
//    transcoded into #llm.quant's packed layout (keepGGUFQuantization marks
//    them, readPacked writes them; see Transcode.cpp).
//  - loadGGUFConfig: a ModelConfig from `general.architecture` (llama or
//    qwen2) and the `{arch}.*` keys.
//  - importGGUFTokenizer: the vocabulary from `tokenizer.ggml.*`, byte-level
//    BPE ("gpt2") or SentencePiece BPE ("llama").
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_GGUF_GGUFMODEL_H
#define FRUGAL_FRONTENDS_GGUF_GGUFMODEL_H

#include "frontends/TensorSource.h"
#include "frontends/gguf/GGUFFile.h"
#include "frontends/safetensors/Importer.h"
#include "frontends/safetensors/ModelConfig.h"
#include "frontends/safetensors/Tokenizer.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <optional>
#include <string>

namespace frugal::gguf {

/// The HF name of GGUF tensor `name` (e.g. "blk.3.ffn_up.weight" →
/// "model.layers.3.mlp.up_proj.weight"), or nullopt for a name with no HF
/// counterpart.
std::optional<std::string> hfTensorName(llvm::StringRef name);

class GGUFSource : public frugal::TensorSource {
public:
  explicit GGUFSource(std::unique_ptr<GGUFFile> file);

  /// Opens and validates `path`.
  static llvm::Expected<std::unique_ptr<GGUFSource>> open(llvm::StringRef path);

  const GGUFFile &file() const { return *file_; }
  /// The GGUF tensor behind HF name `name` (GGUF names without an HF
  /// counterpart are kept as they are), or null.
  const TensorInfo *find(llvm::StringRef name) const;

  // TensorSource. dtype is the ggml type name ("F32", "Q4_1", ...).
  std::optional<Info> lookupTensor(llvm::StringRef name) const override;
  /// Converts or dequantizes to f32.
  llvm::Error readAsF32(llvm::StringRef name,
                        llvm::MutableArrayRef<float> out) const override;
  /// Quantized tensors transcoded into the layout of
  /// quantAttrForGGMLType(type); false for other types or another `quant`.
  llvm::Expected<bool> readPacked(llvm::StringRef name,
                                  mlir::llm::QuantAttr quant, int64_t rows,
                                  int64_t cols,
                                  llvm::MutableArrayRef<uint8_t> out) const override;
  std::string sourcePath() const override { return file_->path().str(); }

private:
  std::unique_ptr<GGUFFile> file_;
  llvm::StringMap<const TensorInfo *> byName;
};

/// The model hyperparameters of `file`. llama stores q/k weights permuted
/// for rotary embeddings on adjacent channel pairs, so its config has
/// ropeInterleaved set; qwen2 keeps HF's layout.
llvm::Expected<safetensors::ModelConfig> loadGGUFConfig(const GGUFFile &file);

/// The tokenizer of `file`, or nullopt if it has no `tokenizer.ggml.model`.
/// "gpt2": byte-level BPE (tokens + merges) as from a tokenizer.json.
/// "llama": SentencePiece BPE: "▁" becomes a space, `<0xNN>` tokens become
/// byte tokens, and the merges are derived from the scores (every pair of
/// normal tokens whose concatenation is a normal token, ranked by that
/// token's score, highest first); preTokenizer "spm".
llvm::Expected<std::optional<safetensors::TokenizerData>>
importGGUFTokenizer(const GGUFFile &file);

/// The #llm.quant that stores ggml `type`: Q8_0 and Q5_0 → <8, 32,
/// symmetric>, Q5_1 → <8, 32, asymmetric>, Q4_0 → <4, 32, symmetric>, Q4_1
/// and Q4_K → <4, 32, asymmetric>, Q6_K → <8, 16, symmetric>; null for any
/// other type.
mlir::llm::QuantAttr quantAttrForGGMLType(mlir::MLIRContext *context,
                                          uint32_t type);

/// Rearranges a row-major [rows, cols] tensor of ggml `type` blocks (`data`)
/// into the packed layout of `quant` (dialects/LLM/IR/LLMQuant.h), which must
/// be quantAttrForGGMLType(type); `out` is exactly its totalBytes.
/// mlir::llm::dequantize of the result equals dequantizeToF32 of `data` bit
/// for bit, except for Q4_K and Q6_K, whose sub-block scales (and Q4_K's
/// mins) are rounded to f16. Fails on a scale beyond f16's range.
llvm::Error transcodeGGMLToQuant(uint32_t type, const uint8_t *data,
                                 int64_t rows, int64_t cols,
                                 mlir::llm::QuantAttr quant,
                                 llvm::MutableArrayRef<uint8_t> out);

/// Gives the matmul weights (rhs of a transpose_b llm.matmul) and embedding
/// tables that `source` stores in a quantized type their #llm.quant, so the
/// packer transcodes them instead of expanding them to f32; a lookup
/// dequantizes the rows it reads, and a tied token_embd is one packed table.
/// A weight also read by something else is split: the other users keep an
/// f32 copy. Returns how many weights it quantized.
unsigned keepGGUFQuantization(mlir::ModuleOp module, const GGUFSource &source);

/// Everything the compiler needs from one GGUF file.
struct GGUFModel {
  std::unique_ptr<GGUFSource> source;
  safetensors::ModelConfig config;
  std::optional<safetensors::TokenizerData> tokenizer;
};

llvm::Expected<GGUFModel> openGGUFModel(llvm::StringRef path);

/// Opens `path` and imports its forward step as llm IR, with
/// keepGGUFQuantization applied.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importGGUFModelFromPath(mlir::MLIRContext &context, llvm::StringRef path,
                        const safetensors::ImportOptions &options = {});

} // namespace frugal::gguf

#endif // FRUGAL_FRONTENDS_GGUF_GGUFMODEL_H
