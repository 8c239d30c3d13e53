//===- CostModel.cpp - Predicted latency, energy and memory ----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/CostModel/CostModel.h"

#include "passes/MemoryPlan.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::cost;
namespace json = llvm::json;

llvm::StringRef mlir::llm::cost::stringifyPhase(Phase phase) {
  return phase == Phase::Prefill ? "prefill" : "decode";
}

std::optional<Phase> mlir::llm::cost::parsePhase(llvm::StringRef text) {
  if (text == "prefill")
    return Phase::Prefill;
  if (text == "decode")
    return Phase::Decode;
  return std::nullopt;
}

Estimate mlir::llm::cost::estimateCost(const OpCost &cost,
                                       llvm::StringRef opClass,
                                       llvm::StringRef dtype,
                                       const TargetDescription &target) {
  Estimate e;
  e.opClass = opClass.str();
  e.dtype = dtype.str();
  e.cost = cost;
  Efficiency eff = target.getEfficiency(opClass);
  double flopRate = target.getPeakFlops(dtype) * eff.compute;
  double byteRate = target.memoryBandwidth * eff.memory;
  e.computeSeconds = flopRate > 0 ? double(cost.flops) / flopRate : 0.0;
  e.memorySeconds = byteRate > 0 ? double(cost.bytesMoved()) / byteRate : 0.0;
  bool doesWork = cost.flops > 0 || cost.bytesMoved() > 0;
  e.overheadSeconds =
      doesWork ? eff.overheadSeconds.value_or(target.opOverheadSeconds) : 0.0;
  e.seconds =
      std::max(e.computeSeconds, e.memorySeconds) + e.overheadSeconds;
  e.joules = target.idleWatts * e.seconds +
             1e-12 * (target.getPicojoulesPerFlop(dtype) * double(cost.flops) +
                      target.picojoulesPerByte * double(cost.bytesMoved()));
  return e;
}

Efficiency mlir::llm::cost::fitEfficiency(const OpCost &cost,
                                          llvm::StringRef dtype,
                                          double seconds,
                                          const TargetDescription &target,
                                          Efficiency prior, Ceiling ceiling) {
  Efficiency e = prior;
  double busy = seconds - target.opOverheadSeconds;
  if (busy <= 0)
    return e;
  double peak = target.getPeakFlops(dtype);
  double compute = peak > 0 ? double(cost.flops) / peak : 0.0;
  double memory = target.memoryBandwidth > 0
                      ? double(cost.bytesMoved()) / target.memoryBandwidth
                      : 0.0;
  // Keep factors strictly positive so that the fitted target parses.
  auto fraction = [&](double ideal) {
    return std::clamp(ideal / busy, 1e-4, 1.0);
  };
  if (ceiling == Ceiling::Binding)
    ceiling = memory >= compute ? Ceiling::Memory : Ceiling::Compute;
  if (ceiling == Ceiling::Memory && memory > 0)
    e.memory = fraction(memory);
  else if (ceiling == Ceiling::Compute && compute > 0)
    e.compute = fraction(compute);
  return e;
}

double mlir::llm::cost::fitOpOverhead(llvm::ArrayRef<Estimate> ops,
                                      double seconds, double floor) {
  if (ops.empty())
    return floor;
  double busy = 0;
  for (const Estimate &e : ops)
    busy += std::max(e.computeSeconds, e.memorySeconds);
  return std::max(floor, (seconds - busy) / double(ops.size()));
}

static std::string dtypeName(Type type) {
  Type element = getElementTypeOrSelf(type);
  if (element.isF16())
    return "f16";
  if (element.isBF16())
    return "bf16";
  return "f32";
}

std::pair<std::string, std::string>
mlir::llm::cost::classifyOp(Operation *op, const CostContext &ctx) {
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    auto lhs = matmul.getLhs().getType();
    int64_t rows = getNumElements(lhs.getShape().drop_back(), ctx);
    std::string dtype = dtypeName(lhs);
    std::string weights = "f32";
    if (auto weight = matmul.getRhs().getDefiningOp<WeightOp>())
      if (QuantAttr quant = weight.getQuantAttr()) {
        dtype = quant.getBits() <= 4 ? "int4" : "int8";
        weights = dtype;
      }
    return {(rows <= 1 ? "gemv_" : "gemm_") + weights, dtype};
  }
  if (isa<AttentionOp>(op))
    return {"attention", dtypeName(op->getResult(0).getType())};
  if (isa<EmbedOp, GatherOp, SliceOp, ConcatOp, TransposeOp, ExpandOp,
          PositionIdsOp, ReshapeOp, TriluOp, WeightOp>(op))
    return {"data", "f32"};
  Type type = op->getNumResults() ? op->getResult(0).getType() : Type();
  return {"elementwise", type ? dtypeName(type) : "f32"};
}

/// The N of a `<layers|layer|h|blk|block|blocks>.N.` segment of `name`.
static int64_t layerFromName(llvm::StringRef name) {
  llvm::SmallVector<llvm::StringRef> parts;
  name.split(parts, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!llvm::is_contained({"layers", "layer", "h", "blk", "block", "blocks"},
                            parts[i]))
      continue;
    int64_t index;
    if (!parts[i + 1].getAsInteger(10, index))
      return index;
  }
  return -1;
}

int64_t mlir::llm::cost::getLayerIndex(Operation *op) {
  if (auto attention = dyn_cast<AttentionOp>(op))
    if (std::optional<int64_t> layer = attention.getLayer())
      return *layer;
  for (Value operand : op->getOperands())
    if (auto weight = operand.getDefiningOp<WeightOp>()) {
      int64_t layer = layerFromName(weight.getName());
      if (layer >= 0)
        return layer;
    }
  return -1;
}

static bool usesWeights(Operation *op) {
  return llvm::any_of(op->getOperands(), [](Value v) {
    return v.getDefiningOp<WeightOp>() != nullptr;
  });
}

StepEstimate mlir::llm::cost::estimateStep(func::FuncOp func,
                                           const TargetDescription &target,
                                           const StepQuery &query) {
  StepEstimate step;
  step.query = query;
  CostContext ctx = query.getCostContext();
  std::string group = "embed";
  bool seenLayer = false;
  llvm::StringMap<size_t> groupIndex;
  func.walk([&](CostOpInterface costOp) {
    Operation *op = costOp.getOperation();
    OpCost cost = costOp.getCost(ctx);
    // Weights are costed by their users; views move nothing.
    if (cost.flops == 0 && cost.bytesMoved() == 0)
      return;
    // Ops without weights of their own (norms without weights, adds,
    // activations) belong to the group of the weighted op before them.
    int64_t layer = getLayerIndex(op);
    if (layer >= 0) {
      group = "layer." + std::to_string(layer);
      seenLayer = true;
    } else if (seenLayer && usesWeights(op)) {
      group = "head";
    }
    auto [opClass, dtype] = classifyOp(op, ctx);
    OpEstimate e;
    static_cast<Estimate &>(e) =
        estimateCost(cost, opClass, dtype, target);
    e.op = op;
    e.group = group;
    step.total += e.cost;
    step.seconds += e.seconds;
    step.joules += e.joules;
    if (e.isMemoryBound())
      ++step.numMemoryBound;
    auto [it, inserted] = groupIndex.try_emplace(group, step.groups.size());
    if (inserted)
      step.groups.push_back(GroupEstimate{group, 0, {}, 0, 0});
    GroupEstimate &g = step.groups[it->second];
    ++g.numOps;
    g.cost += e.cost;
    g.seconds += e.seconds;
    g.joules += e.joules;
    step.ops.push_back(std::move(e));
  });
  return step;
}

TokenFigures StepEstimate::perToken(const TargetDescription &target) const {
  TokenFigures f;
  int64_t tokens = std::max<int64_t>(1, query.tokens);
  f.seconds = seconds / double(tokens);
  f.tokensPerSecond = f.seconds > 0 ? 1.0 / f.seconds : 0.0;
  f.joules = joules / double(tokens);
  // 1 kWh = 3.6e6 J.
  f.gramsCO2Per1kTokens = f.joules * 1000.0 / 3.6e6 * target.carbonGramsPerKWh;
  f.usdPer1MTokens = f.seconds * 1e6 / 3600.0 * target.priceUsdPerHour;
  return f;
}

MemoryEstimate mlir::llm::cost::estimateMemory(func::FuncOp func,
                                               const StepQuery &query) {
  MemoryEstimate m;
  CostContext ctx = query.getCostContext();
  llvm::StringSet<> names, stored;
  func.walk([&](WeightOp weight) {
    auto type = weight.getResult().getType();
    std::string key = weight.getName().str();
    if (names.insert(key).second)
      m.parameters += type.getNumElements();
    std::string storedKey = key;
    if (QuantAttr quant = weight.getQuantAttr())
      storedKey += "/q" + std::to_string(quant.getBits());
    if (stored.insert(storedKey).second) {
      m.weightBytes += weight.getStorageBytes();
      m.f32WeightBytes += type.getNumElements() * 4;
    }
  });
  for (Type input : func.getFunctionType().getInputs())
    if (auto kv = dyn_cast<KVCacheType>(input)) {
      m.kvBytesPerToken += kv.getBytesPerTokenPerLayer() * kv.getNumLayers();
      m.kvCacheBytes += kv.getStorageBytes();
    }
  if (auto arena = func->getAttrOfType<IntegerAttr>(kArenaBytesAttr))
    m.arenaBytes = arena.getInt();
  // The batched decode step of llm-batch-decode has an arena of its own.
  if (auto module = func->getParentOfType<ModuleOp>())
    if (auto batched = module.lookupSymbol<func::FuncOp>(
            (func.getSymName() + "_batch").str()))
      if (auto arena = batched->getAttrOfType<IntegerAttr>(kArenaBytesAttr))
        m.arenaBytes += arena.getInt();

  // Live activation bytes in program order: a value is allocated by its
  // defining op and freed after its last user in the same block.
  for (Block &block : func.getBody()) {
    llvm::DenseMap<Operation *, llvm::SmallVector<Value>> lastUses;
    auto isActivation = [](Value v) {
      return isa<RankedTensorType>(v.getType()) &&
             !v.getDefiningOp<WeightOp>();
    };
    for (Operation &op : block)
      for (Value result : op.getResults()) {
        if (!isActivation(result) || isa<ReshapeOp>(op))
          continue;
        Operation *last = nullptr;
        for (Operation *user : result.getUsers()) {
          Operation *inBlock = block.findAncestorOpInBlock(*user);
          if (inBlock && (!last || last->isBeforeInBlock(inBlock)))
            last = inBlock;
        }
        if (last)
          lastUses[last].push_back(result);
      }
    int64_t live = 0;
    for (Operation &op : block) {
      for (Value result : op.getResults())
        if (isActivation(result) && !isa<ReshapeOp>(op))
          live += getTensorBytes(result, ctx);
      m.activationBytes = std::max(m.activationBytes, live);
      for (Value dead : lastUses.lookup(&op))
        live -= getTensorBytes(dead, ctx);
    }
  }
  return m;
}

static json::Object costJSON(const OpCost &cost) {
  return json::Object{{"flops", cost.flops},
                      {"bytes_read", cost.bytesRead},
                      {"bytes_written", cost.bytesWritten}};
}

json::Value mlir::llm::cost::toJSON(const StepEstimate &step,
                                    const TargetDescription &target,
                                    bool perOp) {
  json::Array groups;
  for (const GroupEstimate &g : step.groups) {
    json::Object obj = costJSON(g.cost);
    obj["name"] = g.name;
    obj["ops"] = g.numOps;
    obj["seconds"] = g.seconds;
    obj["joules"] = g.joules;
    groups.push_back(std::move(obj));
  }
  TokenFigures token = step.perToken(target);
  json::Object obj{
      {"phase", stringifyPhase(step.query.phase)},
      {"tokens", step.query.tokens},
      {"context", step.query.context},
      {"total", costJSON(step.total)},
      {"seconds", step.seconds},
      {"joules", step.joules},
      {"memory_bound_ops", step.numMemoryBound},
      {"per_token",
       json::Object{{"seconds", token.seconds},
                    {"tokens_per_second", token.tokensPerSecond},
                    {"joules", token.joules},
                    {"flops", step.total.flops / std::max<int64_t>(
                                                     1, step.query.tokens)},
                    {"g_co2_per_1k_tokens", token.gramsCO2Per1kTokens},
                    {"usd_per_1m_tokens", token.usdPer1MTokens}}},
      {"groups", std::move(groups)}};
  if (perOp) {
    json::Array ops;
    for (const OpEstimate &e : step.ops) {
      json::Object o = costJSON(e.cost);
      o["op"] = e.op->getName().getStringRef();
      o["group"] = e.group;
      o["class"] = e.opClass;
      o["dtype"] = e.dtype;
      o["seconds"] = e.seconds;
      o["compute_seconds"] = e.computeSeconds;
      o["memory_seconds"] = e.memorySeconds;
      o["joules"] = e.joules;
      o["bound"] = e.isMemoryBound() ? "memory" : "compute";
      ops.push_back(std::move(o));
    }
    obj["ops"] = std::move(ops);
  }
  return obj;
}

json::Value mlir::llm::cost::toJSON(const MemoryEstimate &m) {
  return json::Object{{"parameters", m.parameters},
                      {"weight_bytes", m.weightBytes},
                      {"f32_weight_bytes", m.f32WeightBytes},
                      {"compression_ratio", m.getCompressionRatio()},
                      {"kv_cache_bytes", m.kvCacheBytes},
                      {"kv_bytes_per_token", m.kvBytesPerToken},
                      {"activation_bytes", m.activationBytes},
                      {"arena_bytes", m.arenaBytes},
                      {"peak_bytes", m.getPeakBytes()}};
}
