//===- Driver.cpp - llm-compile as a library -------------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/Driver.h"

#include "tools/llm-compile/Calibrate.h"
#include "tools/llm-compile/CodeGen.h"
#include "tools/llm-compile/Link.h"
#include "tools/llm-compile/WeightPacker.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "frontends/gguf/GGUFModel.h"
#include "frontends/onnx/DecoderModel.h"
#include "frontends/safetensors/Importer.h"
#include "frontends/safetensors/ModelConfig.h"
#include "lowering/Passes.h"
#include "passes/MemoryPlan.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <sys/resource.h>
#include <unistd.h>

using namespace mlir;
using namespace frugal;
namespace st = frugal::safetensors;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Step lines on stderr, with elapsed time; a percentage for long steps.
class Progress {
public:
  Progress(bool enabled, int steps) : enabled(enabled), steps(steps) {
    interactive = enabled && isatty(STDERR_FILENO);
  }
  void step(const llvm::Twine &what) {
    finish();
    ++current;
    stepStart = Clock::now();
    if (enabled)
      llvm::errs() << "llm-compile: [" << current << "/" << steps << "] "
                   << what << (interactive ? "" : "\n");
    open = true;
  }
  void fraction(double f) {
    int percent = static_cast<int>(f * 100.0);
    if (!enabled || percent / 10 == lastDecile)
      return;
    lastDecile = percent / 10;
    if (interactive)
      llvm::errs() << (lastDecile == 1 ? " " : "") << percent << "% ";
    else
      llvm::errs() << "llm-compile:   " << percent << "%\n";
  }
  void finish() {
    if (!open)
      return;
    open = false;
    lastDecile = 0;
    double seconds = std::chrono::duration<double>(Clock::now() - stepStart).count();
    if (enabled)
      llvm::errs() << (interactive ? " " : "llm-compile:   ")
                   << llvm::format("done in %.2f s\n", seconds);
  }

private:
  using Clock = std::chrono::steady_clock;
  bool enabled, interactive = false, open = false;
  int steps, current = 0, lastDecile = 0;
  Clock::time_point stepStart;
};

/// Shapes of the `forward` entry point, for the C-ABI adapter.
llvm::Expected<ForwardSignature> readSignature(ModuleOp module) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward)
    return makeError("the model has no `forward` function");
  ForwardSignature sig;
  FunctionType type = forward.getFunctionType();
  for (Type input : type.getInputs())
    if (auto kv = dyn_cast<llm::KVCacheType>(input)) {
      sig.kvLayers = kv.getNumLayers();
      sig.kvHeads = kv.getNumHeads();
      sig.kvMaxSeq = kv.getMaxSeq();
      sig.kvHeadDim = kv.getHeadDim();
      sig.kvBytes = kv.getStorageBytes();
      sig.kvPlanned = static_cast<bool>(kv.getLayout());
      if (!sig.kvPlanned && !kv.getElementType().isF32())
        return makeError("an unplanned KV cache must be f32 (run "
                         "llm-plan-kv-cache)");
      if (auto plan = forward->getAttrOfType<DictionaryAttr>("llm.kv_plan"))
        for (NamedAttribute entry : plan) {
          std::string value;
          if (auto str = dyn_cast<StringAttr>(entry.getValue()))
            value = str.str();
          else if (auto num = dyn_cast<IntegerAttr>(entry.getValue()))
            value = std::to_string(num.getInt());
          else
            continue;
          sig.kvMetadata.emplace_back("kv_" + entry.getName().str(), value);
        }
      if (int64_t blocks = kv.getBlocksPerSequence())
        sig.kvMetadata.emplace_back("kv_blocks_per_sequence",
                                    std::to_string(blocks));
    }
  if (type.getNumResults() != 1 || !sig.kvLayers)
    return makeError("`forward` must take a KV cache and return logits");
  auto logits = dyn_cast<RankedTensorType>(type.getResult(0));
  if (!logits || logits.getRank() != 3 || logits.getDimSize(0) != 1 ||
      logits.getDimSize(1) != 1 || !logits.getElementType().isF32())
    return makeError("`forward` must return tensor<1x1xVxf32> logits");
  sig.vocab = logits.getDimSize(2);
  if (auto arena = forward->getAttrOfType<IntegerAttr>(llm::kArenaBytesAttr))
    sig.arenaBytes = arena.getInt();
  if (auto tokens =
          forward->getAttrOfType<IntegerAttr>(llm::kArenaMaxTokensAttr))
    sig.maxTokensPerCall = tokens.getInt();
  // The batched decode step of llm-batch-decode, when there is one.
  if (auto batched = module.lookupSymbol<func::FuncOp>("forward_batch")) {
    auto rows = batched->getAttrOfType<IntegerAttr>(llm::kMaxRowsAttr);
    if (!rows || rows.getInt() < 1 || !sig.kvPlanned)
      return makeError("`forward_batch` needs llm.max_rows and a planned KV "
                       "cache (run llm-batch-decode after llm-plan-kv-cache)");
    sig.batchRows = rows.getInt();
    if (auto arena =
            batched->getAttrOfType<IntegerAttr>(llm::kArenaBytesAttr))
      sig.batchArenaBytes = arena.getInt();
  }
  // The every-position step of llm-score-positions, when there is one.
  if (auto all = module.lookupSymbol<func::FuncOp>("forward_all")) {
    auto rows = all->getAttrOfType<IntegerAttr>(llm::kMaxRowsAttr);
    if (!rows || rows.getInt() < 1)
      return makeError("`forward_all` needs llm.max_rows (run "
                       "llm-score-positions)");
    sig.scoreRows = rows.getInt();
    if (auto arena = all->getAttrOfType<IntegerAttr>(llm::kArenaBytesAttr))
      sig.scoreArenaBytes = arena.getInt();
  }
  return sig;
}

std::string joinIds(ArrayRef<int64_t> ids) {
  std::string s;
  for (int64_t id : ids)
    s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

std::vector<std::pair<std::string, std::string>>
buildMetadata(const st::ModelConfig &config, const ForwardSignature &sig,
              const st::TokenizerData *tok, StringRef modelName) {
  int64_t bos = tok && tok->bos >= 0 ? tok->bos : config.bosTokenId;
  std::vector<int64_t> eos = tok && !tok->eos.empty() ? tok->eos
                                                      : config.eosTokenIds;
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"arch", config.modelType},
      {"model_name", modelName.str()},
      {"vocab_size", std::to_string(sig.vocab)},
      {"max_context", std::to_string(sig.kvMaxSeq)},
      // Positions the model was trained on (the runtime's context ceiling).
      {"trained_context", std::to_string(config.maxPositions)},
      {"kv_cache_bytes", std::to_string(sig.kvBytes)},
      {"kv_layers", std::to_string(sig.kvLayers)},
      {"kv_heads", std::to_string(sig.kvHeads)},
      {"kv_head_dim", std::to_string(sig.kvHeadDim)},
      {"bos_id", std::to_string(bos)},
      {"eos_ids", joinIds(eos)},
      // Byte-level BPE tokenizers (GPT-2, SmolLM2, Qwen2) add no BOS;
      // SentencePiece ones (llama GGUF) do.
      {"add_bos", tok && tok->addBos && bos >= 0 ? "1" : "0"},
      {"chat_template", tok ? tok->chatTemplate : "none"},
      {"pre_tokenizer", tok ? tok->preTokenizer : "gpt2"},
  };
  // kv_dtype, kv_layout, kv_block_size, kv_window, kv_max_batch,
  // kv_bytes_per_token, kv_total_bytes (and kv_blocks_per_sequence).
  metadata.insert(metadata.end(), sig.kvMetadata.begin(), sig.kvMetadata.end());
  if (!sig.kvPlanned)
    metadata.emplace_back("kv_dtype", "f32");
  // Memory: the activation arena (llm-plan-memory) and the peak resident
  // memory it predicts with the weights mapping and the KV cache.
  int64_t overhead = runtimeOverheadBytes(sig.vocab, sig.batchRows);
  // Both steps' arenas are resident once used.
  int64_t arenas = sig.arenaBytes + sig.batchArenaBytes;
  metadata.emplace_back("arena_bytes", std::to_string(arenas));
  metadata.emplace_back("batch_rows", std::to_string(sig.batchRows));
  metadata.emplace_back("max_tokens_per_call",
                        std::to_string(sig.maxTokensPerCall));
  // Scoring text (--perplexity) adds its own arena; generation never
  // touches it, so the peak below leaves it out.
  metadata.emplace_back("score_rows", std::to_string(sig.scoreRows));
  metadata.emplace_back("score_arena_bytes",
                        std::to_string(sig.scoreArenaBytes));
  metadata.emplace_back("weights_bytes", std::to_string(sig.weightsBytes));
  metadata.emplace_back("runtime_overhead_bytes", std::to_string(overhead));
  metadata.emplace_back("predicted_peak_bytes",
                        std::to_string(sig.weightsBytes + arenas +
                                       sig.kvBytes + overhead));
  return metadata;
}

/// What a frontend hands the rest of the driver.
struct ImportedModel {
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<TensorSource> weights;
  std::optional<st::ModelConfig> config;
  std::optional<st::TokenizerData> tokenizer;
  /// The model's name in the metadata.
  std::string name;
};

/// A checkpoint directory or .safetensors file, with config.json and (when
/// present) tokenizer.json beside it.
llvm::Expected<ImportedModel> importSafetensors(MLIRContext &context,
                                                StringRef input,
                                                const st::ImportOptions &opts) {
  ImportedModel m;
  std::string modelDir = input.str();
  if (!llvm::sys::fs::is_directory(modelDir))
    modelDir = llvm::sys::path::parent_path(input).str();
  if (modelDir.empty())
    modelDir = ".";
  m.name = llvm::sys::path::filename(
               llvm::sys::path::remove_leading_dotslash(modelDir))
               .str();
  auto checkpoint = st::Checkpoint::open(input);
  if (!checkpoint)
    return checkpoint.takeError();
  auto config = st::loadModelConfig(modelDir);
  if (!config)
    return config.takeError();
  m.config = std::move(*config);
  auto module = st::importModel(context, **checkpoint, *m.config, opts);
  if (!module)
    return module.takeError();
  m.module = std::move(*module);
  m.weights = std::move(*checkpoint);
  llvm::SmallString<256> tokPath(modelDir);
  llvm::sys::path::append(tokPath, "tokenizer.json");
  if (llvm::sys::fs::exists(tokPath)) {
    auto tok = st::importTokenizer(modelDir);
    if (!tok)
      return tok.takeError();
    m.tokenizer = std::move(*tok);
  }
  return std::move(m);
}

/// A llama.cpp GGUF file: weights, config and tokenizer in one.
llvm::Expected<ImportedModel> importGGUF(MLIRContext &context, StringRef input,
                                         const st::ImportOptions &opts) {
  auto model = gguf::openGGUFModel(input);
  if (!model)
    return model.takeError();
  ImportedModel m;
  m.name = llvm::sys::path::stem(input).str();
  auto module = st::importModel(context, *model->source, model->config, opts);
  if (!module)
    return module.takeError();
  // Q8_0/Q4_0/Q4_1 matmul weights stay quantized (transcoded when packed).
  gguf::keepGGUFQuantization(**module, *model->source);
  m.module = std::move(*module);
  m.weights = std::move(model->source);
  m.config = std::move(model->config);
  m.tokenizer = std::move(model->tokenizer);
  return std::move(m);
}

/// An onnxruntime-genai decoder export (genai_config.json and
/// tokenizer.json beside it when present).
llvm::Expected<ImportedModel> importONNX(MLIRContext &context, StringRef input,
                                         const st::ImportOptions &opts) {
  auto model = onnx::openONNXDecoderModel(context, input, opts.maxContext);
  if (!model)
    return model.takeError();
  ImportedModel m;
  m.name = llvm::sys::path::filename(llvm::sys::path::parent_path(input)).str();
  if (m.name.empty() || m.name == ".")
    m.name = llvm::sys::path::stem(input).str();
  m.module = std::move(model->module);
  m.weights = std::move(model->source);
  m.config = std::move(model->config);
  m.tokenizer = std::move(model->tokenizer);
  return std::move(m);
}

long peakRSSMegabytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

} // namespace

/// Resident memory of a running model besides its weights, arena and KV
/// cache: code and libraries (llmrt, libc, libstdc++, the OpenMP runtime and
/// its threads), heap, logits and the tokenizer (its section of the model
/// file and its tables, which grow with the vocabulary). Fitted on the peak
/// RSS of compiled models on the 2-core x86-64 reference VM: 4.6 MiB over
/// weights + arena + KV for tiny-llama (vocabulary 256), 14.0 MiB for
/// SmolLM2-135M (49152); see runtime/README.md. The fixed part has 256 KiB
/// of margin over that fit: peaks vary by about 0.1 MiB between runs. A
/// batched model (`batchRows` > 0) adds, per row, its logits and the
/// candidate buffer of its sampler (12 bytes per vocabulary entry).
int64_t frugal::runtimeOverheadBytes(int64_t vocab, int64_t batchRows) {
  constexpr int64_t kFixedBytes = 4864 << 10;
  constexpr int64_t kBytesPerVocabEntry = 200;
  constexpr int64_t kBatchBytesPerVocabEntry = 12;
  return kFixedBytes + kBytesPerVocabEntry * vocab +
         kBatchBytesPerVocabEntry * batchRows * vocab;
}

llvm::Error frugal::compileModel(const CompileOptions &options) {
  auto start = std::chrono::steady_clock::now();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<llm::LLMDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  bool fromMLIR = StringRef(options.input).ends_with(".mlir");
  bool needsWeights = !fromMLIR && options.emit != EmitKind::MLIR;
  int steps = options.emit == EmitKind::MLIR ? 1
              : options.emit == EmitKind::Executable ? 5 : 4;
  if (fromMLIR)
    steps -= 1;
  // Activation-aware quantization runs the f32 model on calibration text.
  bool calibrate = needsWeights && options.optimization.quantBits != 0 &&
                   (options.optimization.quantMethod != "rtn" ||
                    options.optimization.quantEqualize);
  if (calibrate)
    steps += 1;
  Progress progress(options.progress, steps);

  // 1. Import.
  progress.step("importing " + options.input);
  OwningOpRef<ModuleOp> module;
  ImportedModel imported;
  if (fromMLIR) {
    module = parseSourceFile<ModuleOp>(options.input, &context);
    if (!module)
      return makeError("cannot parse " + options.input);
  } else {
    st::ImportOptions importOptions;
    importOptions.maxContext = options.maxContext;
    StringRef input = options.input;
    auto model = input.ends_with(".gguf")
                     ? importGGUF(context, input, importOptions)
                 : input.ends_with(".onnx")
                     ? importONNX(context, input, importOptions)
                     : importSafetensors(context, input, importOptions);
    if (!model)
      return model.takeError();
    imported = std::move(*model);
    module = std::move(imported.module);
  }
  std::optional<st::ModelConfig> &config = imported.config;
  std::optional<st::TokenizerData> &tokenizer = imported.tokenizer;
  // A budgeted build chooses its optimization options on the imported IR.
  llm::LLMOptimizationOptions optimization = options.optimization;
  if (options.planOptimization && !fromMLIR) {
    ImportedModelView view;
    view.module = *module;
    view.weights = imported.weights.get();
    view.tokenizer = tokenizer ? &*tokenizer : nullptr;
    view.bosId = !tokenizer || !tokenizer->addBos ? -1
                 : tokenizer->bos >= 0           ? tokenizer->bos
                 : config                        ? config->bosTokenId
                                                 : -1;
    view.name = imported.name;
    auto planned = options.planOptimization(view);
    if (!planned)
      return planned.takeError();
    optimization = std::move(*planned);
  }
  std::vector<int64_t> calibrationTokens;
  if (calibrate) {
    if (!tokenizer)
      return makeError(std::string(options.optimization.quantEqualize
                                       ? "--quant-equalize"
                                       : "--quant-method=" +
                                             options.optimization.quantMethod) +
                       " runs the model on calibration text, but " +
                       options.input + " has no tokenizer");
    int64_t bos = tokenizer->bos >= 0 ? tokenizer->bos : config->bosTokenId;
    auto ids = readCalibrationTokens(options.calibrationText, *tokenizer,
                                     tokenizer->addBos ? bos : -1,
                                     options.calibrationTokens);
    if (!ids)
      return ids.takeError();
    calibrationTokens = std::move(*ids);
  }

  // 2. llm-level optimizations (they decide weight layouts), then weights.
  WeightLayout layout;
  if (!fromMLIR) {
    PassManager optimize(&context);
    llm::buildLLMOptimizationPipeline(optimize, optimization);
    if (failed(optimize.run(*module)))
      return makeError("optimizing " + options.input + " failed");
    layout = assignWeightOffsets(*module);
  }
  if (options.emit == EmitKind::MLIR) {
    progress.finish();
    std::error_code ec;
    llvm::raw_fd_ostream out(options.output.empty() ? "-" : options.output, ec);
    if (ec)
      return makeError("cannot write " + options.output + ": " + ec.message());
    module->print(out);
    return llvm::Error::success();
  }
  auto signature = readSignature(*module);
  if (!signature)
    return signature.takeError();
  signature->weightsBytes = layout.totalBytes;
  // The efficiency report predicts from the llm IR, before lowering.
  std::optional<llvm::json::Object> report;
  ReportModel reportModel;
  if (!options.report.path.empty()) {
    if (options.report.measure && options.emit != EmitKind::Executable)
      return makeError("--measure runs the executable: it needs --emit=exe");
    reportModel.name = imported.name.empty()
                           ? llvm::sys::path::stem(options.input).str()
                           : imported.name;
    reportModel.arch = config ? config->modelType : "";
    reportModel.input = options.input;
    reportModel.executable = options.output;
    reportModel.vocab = signature->vocab;
    reportModel.maxContext = signature->kvMaxSeq;
    reportModel.runtimeBytes =
        runtimeOverheadBytes(signature->vocab, signature->batchRows);
    auto predicted = predictReport(*module, reportModel, options.report);
    if (!predicted)
      return predicted.takeError();
    report = std::move(*predicted);
  }
  std::string weightsPath = options.output + ".fgw";
  if (options.embedWeights)
    weightsPath = options.output + ".embedded.fgw";
  std::optional<llm::CalibrationStats> calibration;
  if (calibrate && needsCalibration(*module)) {
    progress.step(
        llvm::formatv("calibrating on {0} tokens of {1}{2}",
                      calibrationTokens.size(), options.calibrationText,
                      options.calibrationStages > 1
                          ? llvm::formatv(", {0} sequential stages",
                                          options.calibrationStages)
                                .str()
                          : std::string())
            .str());
    llm::CalibrationOptions calibrationOptions;
    calibrationOptions.vectorWidth = options.vectorWidth;
    calibrationOptions.openmp = options.openmp;
    calibrationOptions.firstPositionWeight = options.calibrationSinkWeight;
    calibrationOptions.progress = [&](double f) { progress.fraction(f); };
    auto stats = calibrateModel(*module, *imported.weights, calibrationTokens,
                                calibrationOptions, options.calibrationStages);
    if (!stats)
      return stats.takeError();
    calibration = std::move(*stats);
  }
  if (needsWeights) {
    progress.step(llvm::formatv("packing {0} weights ({1} MB) into {2}",
                                layout.tensors.size(),
                                layout.totalBytes / (1024 * 1024), weightsPath)
                      .str());
    auto metadata = buildMetadata(*config, *signature,
                                  tokenizer ? &*tokenizer : nullptr,
                                  imported.name);
    if (llvm::Error err = writeModelFile(
            weightsPath, nullptr, layout, *imported.weights, metadata,
            tokenizer ? &*tokenizer : nullptr,
            [&](double f) { progress.fraction(f); },
            calibration ? &*calibration : nullptr))
      return err;
  }

  // 3. Lowering.
  progress.step("lowering to LLVM");
  PassManager pm(&context);
  llm::CPUPipelineOptions pipelineOptions;
  pipelineOptions.vectorWidth = options.vectorWidth;
  pipelineOptions.openmp = options.openmp;
  pipelineOptions.quantKernel = options.quantKernel;
  llm::buildLLMToLLVMCPUPipeline(pm, pipelineOptions);
  if (failed(pm.run(*module)))
    return makeError("lowering " + options.input + " failed");

  // 4. Code generation.
  bool exe = options.emit == EmitKind::Executable;
  std::string objectPath = exe ? options.output + ".o" : options.output;
  progress.step(options.emit == EmitKind::LLVMIR ? "emitting LLVM IR"
                                                  : "generating host code");
  if (llvm::Error err = emitHostCode(*module, objectPath,
                                     options.emit == EmitKind::LLVMIR))
    return err;

  // 5. Link.
  if (exe) {
    progress.step("linking " + options.output);
    llvm::Error err = linkExecutable(objectPath, *signature,
                                     options.embedWeights ? weightsPath : "",
                                     options.output);
    llvm::sys::fs::remove(objectPath);
    if (options.embedWeights)
      llvm::sys::fs::remove(weightsPath);
    if (err)
      return err;
  }
  progress.finish();
  if (options.progress) {
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    llvm::errs() << llvm::format("llm-compile: wrote %s in %.1f s (peak RSS %ld MB)\n",
                                 options.output.c_str(), seconds,
                                 peakRSSMegabytes());
  }
  if (report) {
    if (options.report.measure)
      if (llvm::Error err = measureReport(*report, reportModel, options.report))
        return err;
    if (options.reviewReport) {
      auto keep = options.reviewReport(*report);
      if (!keep)
        return keep.takeError();
      if (!*keep)
        return llvm::Error::success();
    }
    if (llvm::Error err = writeReport(*report, options.report.path))
      return err;
    if (options.report.print)
      printReport(*report, llvm::outs());
  }
  return llvm::Error::success();
}
