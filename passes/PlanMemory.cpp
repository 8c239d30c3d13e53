//===- PlanMemory.cpp - Place intermediates in one static arena ------------===//
//
// Part of Frugal.
//
// Every llm op lowers to a kernel that writes a fresh result buffer. This
// pass decides, before lowering, where each of those buffers lives: it bounds
// each result's size (dynamic extents are token counts, at most max-tokens
// per call), computes its live range over the function's ops, and packs the
// ranges into one arena, so buffers of different layers share bytes and a
// forward call allocates nothing.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/MemoryPlan.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMPLANMEMORY
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Per-dimension upper bounds of a tensor's extents.
using Bounds = SmallVector<int64_t>;

/// Bounds of the tensor values of one function. Dynamic extents of the
/// function's arguments are token counts, bounded by `maxTokens`; each op
/// result's bounds follow from its operands' by the op's shape rule. A value
/// whose extents cannot be bounded has none.
class BoundsAnalysis {
public:
  explicit BoundsAnalysis(int64_t maxTokens) : maxTokens(maxTokens) {}

  std::optional<Bounds> get(Value value) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type)
      return std::nullopt;
    if (type.hasStaticShape())
      return Bounds(type.getShape());
    auto it = memo.find(value);
    if (it != memo.end())
      return it->second;
    std::optional<Bounds> bounds;
    if (isa<BlockArgument>(value)) {
      bounds = Bounds(type.getShape());
      for (int64_t &d : *bounds)
        if (ShapedType::isDynamic(d))
          d = maxTokens;
    } else {
      bounds = infer(value.getDefiningOp(), type);
    }
    // A static extent is exact whatever the rule says.
    if (bounds)
      for (auto [d, extent] : llvm::enumerate(type.getShape()))
        if (!ShapedType::isDynamic(extent))
          (*bounds)[d] = extent;
    memo[value] = bounds;
    return bounds;
  }

private:
  /// Bounds of the result of `op` (of type `type`), or none.
  std::optional<Bounds> infer(Operation *op, RankedTensorType type) {
    int64_t rank = type.getRank();
    auto operand = [&](unsigned i) -> std::optional<Bounds> {
      if (i >= op->getNumOperands())
        return std::nullopt;
      return get(op->getOperand(i));
    };
    // Same extents as the first operand.
    if (isa<RMSNormOp, LayerNormOp, SoftmaxOp, RopeOp, SiluOp, GeluOp,
            SqrtOp, ReciprocalOp, TanhOp, ErfOp, SigmoidOp, ExpOp, NegOp,
            CastOp, TriluOp, PositionIdsOp, AttentionOp>(op)) {
      auto in = operand(0);
      if (!in || static_cast<int64_t>(in->size()) != rank)
        return std::nullopt;
      return in;
    }
    // Broadcasting ops and expand: each result extent is the largest of the
    // operands' extents aligned with it from the right.
    if (isa<AddOp, MulOp, SubOp, DivOp, PowOp, CompareOp, SelectOp,
            ExpandOp>(op)) {
      Bounds result(rank, 0);
      for (Value v : op->getOperands()) {
        auto in = get(v);
        if (!in)
          return std::nullopt;
        int64_t shift = rank - static_cast<int64_t>(in->size());
        if (shift < 0)
          return std::nullopt;
        for (auto [d, extent] : llvm::enumerate(*in))
          result[d + shift] = std::max(result[d + shift], extent);
      }
      return result;
    }
    // A slice never grows its input.
    if (isa<SliceOp>(op))
      return operand(0);
    if (auto transpose = dyn_cast<TransposeOp>(op)) {
      auto in = operand(0);
      if (!in)
        return std::nullopt;
      Bounds result;
      for (int64_t p : transpose.getPermutation())
        result.push_back((*in)[p]);
      return result;
    }
    if (auto reduce = dyn_cast<ReduceMeanOp>(op)) {
      auto in = operand(0);
      if (!in)
        return std::nullopt;
      Bounds result;
      for (auto [d, extent] : llvm::enumerate(*in)) {
        bool reduced = llvm::is_contained(reduce.getAxes(),
                                          static_cast<int64_t>(d));
        if (!reduced)
          result.push_back(extent);
        else if (reduce.getKeepdims())
          result.push_back(1);
      }
      return result;
    }
    // Same element count: a dynamic extent is at most the count divided by
    // the static extents.
    if (isa<ReshapeOp>(op)) {
      auto in = operand(0);
      if (!in)
        return std::nullopt;
      int64_t count = 1, known = 1;
      for (int64_t extent : *in)
        count *= extent;
      for (int64_t extent : type.getShape())
        if (!ShapedType::isDynamic(extent))
          known *= extent;
      Bounds result(type.getShape());
      for (int64_t &extent : result)
        if (ShapedType::isDynamic(extent))
          extent = known == 0 ? 0 : count / known;
      return result;
    }
    if (auto embed = dyn_cast<EmbedOp>(op)) {
      auto ids = get(embed.getIds());
      if (!ids)
        return std::nullopt;
      Bounds result(*ids);
      result.push_back(type.getShape().back());
      return result;
    }
    if (auto matmul = dyn_cast<MatmulOp>(op)) {
      auto lhs = get(matmul.getLhs()), rhs = get(matmul.getRhs());
      if (!lhs || !rhs || lhs->size() < 2 || rhs->size() < 2)
        return std::nullopt;
      Bounds result(rank, 0);
      // Batch extents, aligned from the right, then M from lhs and N from rhs.
      for (const Bounds *in : {&*lhs, &*rhs}) {
        int64_t shift = rank - static_cast<int64_t>(in->size());
        for (int64_t d = 0; d + 2 < static_cast<int64_t>(in->size()); ++d)
          if (d + shift >= 0)
            result[d + shift] = std::max(result[d + shift], (*in)[d]);
      }
      result[rank - 2] = (*lhs)[lhs->size() - 2];
      result[rank - 1] = matmul.getTransposeB() ? (*rhs)[rhs->size() - 2]
                                                : (*rhs)[rhs->size() - 1];
      return result;
    }
    if (auto gather = dyn_cast<GatherOp>(op)) {
      auto data = get(gather.getData()), indices = get(gather.getIndices());
      int64_t axis = gather.getAxis();
      if (!data || !indices)
        return std::nullopt;
      if (axis < 0)
        axis += static_cast<int64_t>(data->size());
      if (axis < 0 || axis >= static_cast<int64_t>(data->size()))
        return std::nullopt;
      Bounds result(data->begin(), data->begin() + axis);
      result.append(indices->begin(), indices->end());
      result.append(data->begin() + axis + 1, data->end());
      return result;
    }
    if (auto concat = dyn_cast<ConcatOp>(op)) {
      int64_t axis = concat.getAxis();
      if (axis < 0)
        axis += rank;
      Bounds result(rank, 0);
      for (Value v : concat.getInputs()) {
        auto in = get(v);
        if (!in || static_cast<int64_t>(in->size()) != rank)
          return std::nullopt;
        for (int64_t d = 0; d < rank; ++d)
          result[d] = d == axis ? result[d] + (*in)[d]
                                : std::max(result[d], (*in)[d]);
      }
      return result;
    }
    return std::nullopt;
  }

  int64_t maxTokens;
  llvm::DenseMap<Value, std::optional<Bounds>> memo;
};

/// A range of the arena: one buffer, or a chain of buffers each computed in
/// place of the previous one; live over ops [first, last] of the block.
struct Slot {
  int64_t bytes, first, last, offset = 0;
};

/// One op's result to place, in the slot `slot`.
struct Buffer {
  Operation *op;
  int64_t bytes, first, last;
  unsigned slot = 0;
};

/// Ops whose kernels read each element of a same-typed operand before they
/// write the same element of the result (and nothing after it), so the
/// result may overwrite that operand when this op is its last user.
bool writesInPlace(Operation *op) {
  return isa<AddOp, MulOp, SubOp, DivOp, PowOp, SiluOp, GeluOp, SqrtOp,
             ReciprocalOp, TanhOp, ErfOp, SigmoidOp, ExpOp, NegOp>(op);
}

/// Greedy-by-size placement: the largest slots first, each at the lowest
/// offset where it overlaps no placed slot whose live range meets its own.
/// Returns the arena size.
int64_t packSlots(MutableArrayRef<Slot> slots) {
  SmallVector<Slot *> order;
  for (Slot &s : slots)
    order.push_back(&s);
  llvm::stable_sort(order, [](const Slot *a, const Slot *b) {
    if (a->bytes != b->bytes)
      return a->bytes > b->bytes;
    return a->first < b->first;
  });
  SmallVector<Slot *> placed;
  int64_t arena = 0;
  for (Slot *slot : order) {
    SmallVector<Slot *> conflicts;
    for (Slot *other : placed)
      if (other->first <= slot->last && slot->first <= other->last)
        conflicts.push_back(other);
    llvm::sort(conflicts, [](const Slot *a, const Slot *b) {
      return a->offset < b->offset;
    });
    int64_t offset = 0;
    for (Slot *other : conflicts) {
      if (offset + slot->bytes <= other->offset)
        break;
      offset = std::max(offset, other->offset + other->bytes);
    }
    slot->offset = offset;
    arena = std::max(arena, offset + slot->bytes);
    placed.push_back(slot);
  }
  return arena;
}

struct LLMPlanMemoryPass
    : public llm::impl::LLMPlanMemoryBase<LLMPlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (maxTokens < 1) {
      func.emitError("llm-plan-memory: max-tokens must be at least 1, got ")
          << maxTokens;
      return signalPassFailure();
    }
    clearPlan(func);
    if (!func.getBody().hasOneBlock()) {
      if (report)
        func.emitRemark("llm-plan-memory: not planned (more than one block)");
      return;
    }
    // No call processes more tokens than the KV cache holds.
    int64_t tokens = maxTokens;
    for (Type input : func.getArgumentTypes())
      if (auto kv = dyn_cast<KVCacheType>(input))
        tokens = std::min(tokens, kv.getMaxSeq());
    // A batched decode step's dynamic extents are its rows.
    if (auto rows = func->getAttrOfType<IntegerAttr>(kMaxRowsAttr))
      tokens = std::min(tokens, rows.getInt());

    Block &body = func.getBody().front();
    llvm::DenseMap<Operation *, int64_t> index;
    for (auto [i, op] : llvm::enumerate(body))
      index[&op] = static_cast<int64_t>(i);

    BoundsAnalysis analysis(tokens);
    SmallVector<Buffer> buffers;
    int64_t unplanned = 0, separateBytes = 0;
    for (Operation &op : body) {
      if (!isa_and_present<LLMDialect>(op.getDialect()) || isa<WeightOp>(op) ||
          op.getNumResults() != 1)
        continue;
      Value result = op.getResult(0);
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type)
        continue;
      std::optional<int64_t> bytes = boundBytes(analysis, result, type);
      // Kernels read their operands and write a fresh result, so a buffer
      // is dead after its last llm user. Any other user (a return, an op
      // that may alias it) keeps the value out of the arena.
      int64_t last = index[&op];
      bool onlyKernelUsers = true;
      for (Operation *user : result.getUsers()) {
        Operation *ancestor = body.findAncestorOpInBlock(*user);
        onlyKernelUsers &=
            ancestor == user && isa_and_present<LLMDialect>(user->getDialect());
        if (ancestor)
          last = std::max(last, index[ancestor]);
      }
      if (!bytes || !onlyKernelUsers) {
        if (!bytes && report)
          op.emitRemark("llm-plan-memory: result size is not bounded; it "
                        "keeps its own allocation");
        ++unplanned;
        continue;
      }
      buffers.push_back({&op, *bytes, index[&op], last});
      separateBytes += *bytes;
    }

    // Slots: a result written in place of an operand extends its slot.
    SmallVector<Slot> slots;
    llvm::DenseMap<Value, unsigned> bufferOf;
    for (unsigned i = 0, e = buffers.size(); i < e; ++i) {
      Buffer &buffer = buffers[i];
      std::optional<unsigned> reuse;
      Value result = buffer.op->getResult(0);
      if (inPlace && writesInPlace(buffer.op))
        for (Value operand : buffer.op->getOperands()) {
          auto it = bufferOf.find(operand);
          if (it == bufferOf.end() || operand.getType() != result.getType())
            continue;
          const Buffer &in = buffers[it->second];
          const Slot &slot = slots[in.slot];
          if (in.last == buffer.first && slot.last == in.last &&
              slot.bytes >= buffer.bytes) {
            reuse = in.slot;
            break;
          }
        }
      if (reuse) {
        buffer.slot = *reuse;
        slots[*reuse].last = buffer.last;
        ++numInPlace;
      } else {
        buffer.slot = slots.size();
        slots.push_back({buffer.bytes, buffer.first, buffer.last});
      }
      bufferOf[result] = i;
    }

    int64_t arena = packSlots(slots);
    Builder b(&getContext());
    for (const Buffer &buffer : buffers) {
      buffer.op->setAttr(kArenaOffsetAttr,
                         b.getI64IntegerAttr(slots[buffer.slot].offset));
      buffer.op->setAttr(kArenaBytesAttr, b.getI64IntegerAttr(buffer.bytes));
      buffer.op->setAttr(kArenaLiveAttr,
                         b.getDenseI64ArrayAttr({buffer.first, buffer.last}));
    }
    func->setAttr(kArenaBytesAttr, b.getI64IntegerAttr(arena));
    func->setAttr(kArenaMaxTokensAttr, b.getI64IntegerAttr(tokens));
    numPlanned += buffers.size();
    numUnplanned += unplanned;
    arenaBytes += arena;
    if (report)
      func.emitRemark() << "llm-plan-memory: " << buffers.size()
                        << " buffers (" << separateBytes
                        << " bytes if separate, "
                        << buffers.size() - slots.size()
                        << " in place) in an arena of " << arena
                        << " bytes for up to " << tokens
                        << " tokens per call; " << unplanned
                        << " values kept out";
  }

  /// Bytes of `value`'s largest extent, rounded up to the alignment.
  std::optional<int64_t> boundBytes(BoundsAnalysis &analysis, Value value,
                                    RankedTensorType type) {
    std::optional<Bounds> bounds = analysis.get(value);
    if (!bounds || !type.getElementType().isIntOrFloat())
      return std::nullopt;
    int64_t count = 1;
    for (int64_t extent : *bounds)
      count *= extent;
    int64_t elementBytes =
        llvm::divideCeil(type.getElementType().getIntOrFloatBitWidth(), 8);
    return static_cast<int64_t>(
        llvm::alignTo(count * elementBytes, kArenaAlignment));
  }

  /// Drops the attributes of a previous plan.
  static void clearPlan(func::FuncOp func) {
    func->removeAttr(kArenaBytesAttr);
    func->removeAttr(kArenaMaxTokensAttr);
    func.walk([](Operation *op) {
      op->removeAttr(kArenaOffsetAttr);
      op->removeAttr(kArenaBytesAttr);
      op->removeAttr(kArenaLiveAttr);
    });
  }
};

} // namespace
