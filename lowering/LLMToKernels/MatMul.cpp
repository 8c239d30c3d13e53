//===- MatMul.cpp - llm.matmul -> register-blocked vector kernels ----------===//
//
// Part of Frugal.
//
// Decode multiplies one activation row by a weight matrix (GEMV, bound by
// the bandwidth of reading the weights once); prefill multiplies several
// rows (GEMM). Both use one micro-kernel: a block of RB activation rows times
// NB weight rows, accumulated in RB*NB vector registers along K, so every
// weight vector loaded from memory serves RB tokens and every activation
// vector serves NB outputs. Blocks of output channels are distributed over
// threads with scf.parallel. Quantized weights take the AVX-512 VNNI kernel
// (int8 activations, i32 dot products) for every number of rows where the
// shape allows, else an f32 dequantizing one; either way a row's outputs do
// not depend on the other rows of the call.
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"

#include "dialects/LLM/IR/LLMQuant.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::kernels;

namespace {

constexpr int64_t kRowBlock = 4; // Activation rows per micro-kernel.
constexpr int64_t kColBlock = 4; // Weight rows (output channels) per block.

/// The indices base, base + 1, ..., base + count - 1.
SmallVector<Value> consecutive(OpBuilder &b, Location loc, Value base,
                               int64_t count) {
  SmallVector<Value> indices;
  for (int64_t i = 0; i < count; ++i)
    indices.push_back(i == 0 ? base
                             : arith::AddIOp::create(b, loc, base, cIdx(b, loc, i))
                                   .getResult());
  return indices;
}

/// C[r0+i, n0+j] = sum_k A[r0+i, k] * W[n0+j, k] for i < rb, j < nb.
void emitTransposedMicroKernel(OpBuilder &b, Location loc, Value a, Value w,
                               Value c, Value r0, Value n0, int64_t rb,
                               int64_t nb, int64_t k, int64_t width) {
  int64_t kFull = k - k % width;
  SmallVector<Value> rows = consecutive(b, loc, r0, rb);
  SmallVector<Value> cols = consecutive(b, loc, n0, nb);

  Value zero = vector::BroadcastOp::create(b, loc, vecType(b, width),
                                           cF32(b, loc, 0.0f));
  SmallVector<Value> inits(rb * nb, zero);
  auto loop = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), cIdx(b, loc, kFull), cIdx(b, loc, width),
      inits, [&](OpBuilder &lb, Location l, Value kv, ValueRange accs) {
        SmallVector<Value> wv, av, next;
        for (int64_t j = 0; j < nb; ++j)
          wv.push_back(loadVec(lb, l, width, w, {cols[j], kv}));
        for (int64_t i = 0; i < rb; ++i)
          av.push_back(loadVec(lb, l, width, a, {rows[i], kv}));
        for (int64_t i = 0; i < rb; ++i)
          for (int64_t j = 0; j < nb; ++j)
            next.push_back(
                vector::FMAOp::create(lb, l, av[i], wv[j], accs[i * nb + j]));
        scf::YieldOp::create(lb, l, next);
      });

  for (int64_t i = 0; i < rb; ++i) {
    for (int64_t j = 0; j < nb; ++j) {
      Value sum = treeSum(b, loc, loop.getResult(i * nb + j));
      if (kFull != k) {
        auto tail = scf::ForOp::create(
            b, loc, cIdx(b, loc, kFull), cIdx(b, loc, k), cIdx(b, loc, 1),
            ValueRange{sum},
            [&](OpBuilder &lb, Location l, Value kv, ValueRange acc) {
              Value x = memref::LoadOp::create(lb, l, a, ValueRange{rows[i], kv});
              Value y = memref::LoadOp::create(lb, l, w, ValueRange{cols[j], kv});
              Value p = arith::MulFOp::create(lb, l, x, y);
              scf::YieldOp::create(lb, l,
                                   ValueRange{arith::AddFOp::create(lb, l, acc[0], p)});
            });
        sum = tail.getResult(0);
      }
      memref::StoreOp::create(b, loc, sum, c, ValueRange{rows[i], cols[j]});
    }
  }
}

/// Kernel body for C[R, N] = A[R, K] * W[N, K]^T.
void buildTransposedMatmul(OpBuilder &b, Location loc, ValueRange args,
                           int64_t width) {
  Value a = collapseToRows(b, loc, args[0]);
  Value w = args[1];
  Value c = collapseToRows(b, loc, args[2]);
  auto wType = cast<MemRefType>(w.getType());
  int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
  Value r = dimOf(b, loc, a, 0);
  Value rRem = arith::RemUIOp::create(b, loc, r, cIdx(b, loc, kRowBlock));
  Value rFull = arith::SubIOp::create(b, loc, r, rRem);

  int64_t nBlocks = n / kColBlock;
  if (nBlocks > 0) {
    parallelLoop(b, loc, cIdx(b, loc, 0), cIdx(b, loc, nBlocks),
                 [&](OpBuilder &pb, Location l, Value blk) {
                   Value n0 = arith::MulIOp::create(pb, l, blk,
                                                    cIdx(pb, l, kColBlock));
                   forLoop(pb, l, cIdx(pb, l, 0), rFull, kRowBlock,
                           [&](OpBuilder &fb, Location fl, Value r0) {
                             emitTransposedMicroKernel(fb, fl, a, w, c, r0, n0,
                                                       kRowBlock, kColBlock, k,
                                                       width);
                           });
                   forLoop(pb, l, rFull, r, 1,
                           [&](OpBuilder &fb, Location fl, Value r0) {
                             emitTransposedMicroKernel(fb, fl, a, w, c, r0, n0,
                                                       1, kColBlock, k, width);
                           });
                 });
  }
  if (n % kColBlock != 0) {
    forLoop(b, loc, cIdx(b, loc, nBlocks * kColBlock), cIdx(b, loc, n), 1,
            [&](OpBuilder &pb, Location l, Value n0) {
              forLoop(pb, l, cIdx(pb, l, 0), r, 1,
                      [&](OpBuilder &fb, Location fl, Value r0) {
                        emitTransposedMicroKernel(fb, fl, a, w, c, r0, n0, 1, 1,
                                                  k, width);
                      });
            });
  }
}

/// Kernel body for C[R, N] = A[R, K] * W[K, N]: vectorized along N.
void buildPlainMatmul(OpBuilder &b, Location loc, ValueRange args,
                      int64_t width) {
  Value a = collapseToRows(b, loc, args[0]);
  Value w = args[1];
  Value c = collapseToRows(b, loc, args[2]);
  auto wType = cast<MemRefType>(w.getType());
  int64_t k = wType.getDimSize(0), n = wType.getDimSize(1);
  int64_t nChunks = n / width;
  Value r = dimOf(b, loc, a, 0);
  auto kLoop = [&](OpBuilder &fb, Location fl, Value row, Value col,
                   int64_t lanes) {
    Type accType = lanes == 1 ? Type(fb.getF32Type()) : Type(vecType(fb, lanes));
    Value zero = cF32(fb, fl, 0.0f);
    if (lanes != 1)
      zero = vector::BroadcastOp::create(fb, fl, accType, zero);
    auto loop = scf::ForOp::create(
        fb, fl, cIdx(fb, fl, 0), cIdx(fb, fl, k), cIdx(fb, fl, 1),
        ValueRange{zero},
        [&](OpBuilder &lb, Location l, Value kv, ValueRange acc) {
          Value x = memref::LoadOp::create(lb, l, a, ValueRange{row, kv});
          Value next;
          if (lanes == 1) {
            Value y = memref::LoadOp::create(lb, l, w, ValueRange{kv, col});
            next = arith::AddFOp::create(lb, l, acc[0],
                                         arith::MulFOp::create(lb, l, x, y));
          } else {
            Value xs = vector::BroadcastOp::create(lb, l, accType, x);
            Value y = loadVec(lb, l, lanes, w, {kv, col});
            next = vector::FMAOp::create(lb, l, xs, y, acc[0]);
          }
          scf::YieldOp::create(lb, l, ValueRange{next});
        });
    if (lanes == 1)
      memref::StoreOp::create(fb, fl, loop.getResult(0), c, ValueRange{row, col});
    else
      storeVec(fb, fl, loop.getResult(0), c, {row, col});
  };
  if (nChunks > 0)
    parallelLoop(b, loc, cIdx(b, loc, 0), cIdx(b, loc, nChunks),
                 [&](OpBuilder &pb, Location l, Value chunk) {
                   Value col =
                       arith::MulIOp::create(pb, l, chunk, cIdx(pb, l, width));
                   forLoop(pb, l, cIdx(pb, l, 0), r, 1,
                           [&](OpBuilder &fb, Location fl, Value row) {
                             kLoop(fb, fl, row, col, width);
                           });
                 });
  forLoop(b, loc, cIdx(b, loc, nChunks * width), cIdx(b, loc, n), 1,
          [&](OpBuilder &pb, Location l, Value col) {
            forLoop(pb, l, cIdx(pb, l, 0), r, 1,
                    [&](OpBuilder &fb, Location fl, Value row) {
                      kLoop(fb, fl, row, col, 1);
                    });
          });
}

/// Kernel body for batched matmuls (rhs with batch dimensions, or a rhs
/// with dynamic extents): scalar loops, one dot product per output element.
void buildGenericMatmul(OpBuilder &b, Location loc, ValueRange args,
                        bool transposed) {
  Value a = args[0], w = args[1], c = args[2];
  auto cType = cast<MemRefType>(c.getType());
  int64_t rank = cType.getRank();
  int64_t rhsRank = cast<MemRefType>(w.getType()).getRank();
  Value k = dimOf(b, loc, a, rank - 1);
  forAllIndices(b, loc, c, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    Value m = ivs[rank - 2], n = ivs[rank - 1];
    auto loop = scf::ForOp::create(
        nb, l, cIdx(nb, l, 0), k, cIdx(nb, l, 1), ValueRange{cF32(nb, l, 0.0f)},
        [&](OpBuilder &fb, Location fl, Value kv, ValueRange acc) {
          SmallVector<Value> aIdx(ivs.take_front(rank - 2));
          aIdx.push_back(m);
          aIdx.push_back(kv);
          SmallVector<Value> wIdx(ivs.slice(rank - rhsRank, rhsRank - 2));
          if (transposed) {
            wIdx.push_back(n);
            wIdx.push_back(kv);
          } else {
            wIdx.push_back(kv);
            wIdx.push_back(n);
          }
          Value x = memref::LoadOp::create(fb, fl, a, aIdx);
          Value y = memref::LoadOp::create(fb, fl, w, wIdx);
          Value p = arith::MulFOp::create(fb, fl, x, y);
          scf::YieldOp::create(fb, fl,
                               ValueRange{arith::AddFOp::create(fb, fl, acc[0], p)});
        });
    memref::StoreOp::create(nb, l, loop.getResult(0), c, ivs);
  });
}

/// Whether the VNNI kernel applies: 8- or 4-bit codes of either
/// scheme, K a multiple of 64 (one vpdpbusd covers 64 codes), and groups of
/// a multiple of 32, or 16 for 8-bit codes, so that each of the 16 i32 lanes
/// (4 codes) stays inside one group. 4-bit codes are unpacked per 32.
/// K = 64 keeps the f32 kernel: its one-step K loops fold away, leaving the
/// intrinsic calls directly in the parallel bodies, which the OpenMP
/// lowering then keeps in alloca scopes that cannot hold control flow.
/// The choice depends on the shape only, never on the number of rows.
bool useVnniKernel(QuantAttr quant, const QuantLayout &layout, int64_t k,
                   const KernelOptions &options) {
  unsigned bits = quant.getBits();
  return options.quantKernel == "vnni" && (bits == 8 || bits == 4) &&
         (layout.group % 32 == 0 || (bits == 8 && layout.group == 16)) &&
         k % 64 == 0 && k >= 128;
}

/// Weight rows per VNNI block: their 16 accumulators are reduced together
/// (a 16x16 transpose-add) into one vector of 16 outputs.
constexpr int64_t kVnniRowBlock = 16;
/// Several activation rows: a micro-kernel takes kVnniActRows rows times
/// kVnniSubBlock weight rows per K loop (16 f32 accumulators), so each
/// weight vector loaded and unpacked serves 4 rows and each activation
/// vector 4 weight rows; a 16-row block takes 4 such loops.
constexpr int64_t kVnniActRows = 4;
constexpr int64_t kVnniSubBlock = 4;
/// Elements per activation scale: a weight group of 32 or 128 takes two or
/// eight int8 scales of its activations, not one, so that an outlier
/// channel coarsens only its own 16 neighbours. Every lane of 4 codes has
/// its own scale already, so this costs nothing in the K loop. On
/// SmolLM2-135M's Q4_1 GGUF (whose f32 dequantization the f32-FMA kernel
/// computes exactly) it lowers the KL divergence that activation
/// quantization adds from 0.028 (one scale per group of 32) to 0.019.
constexpr int64_t kVnniActBlock = 16;
/// Upper bound on the stack bytes of the quantized activations (about
/// 3 bytes per element): rows are quantized in chunks of at most 64.
constexpr int64_t kVnniScratchBytes = 256 * 1024;

/// C[R, N] = A[R, K] * dequant(W)^T with AVX-512 VNNI, for any number of
/// activation rows. Each row is quantized once per call, in blocks of
/// kVnniActBlock elements (at most one weight group), to int8 codes qa with
/// scale max|x| / 127 per block; each weight row's codes as u8
/// are multiplied with qa by vpdpbusd into 16 i32 lanes of 4 codes each.
/// Symmetric codes carry an offset (8-bit: +128, by xor 0x80; 4-bit: the
/// stored +8) that adds offset * (sum of the lane's 4 qa), precomputed per
/// row and subtracted by starting each dot product from its negation;
/// asymmetric codes are unsigned already. The i32 lanes of every 64-code
/// step are converted to f32 and scaled by (weight scale of their group *
/// activation scale of their block) into an f32 accumulator. Asymmetric
/// weights add min * sum(x) per group with the exact f32 sums of the
/// activation groups, computed once per row: after the K loop, each weight
/// row's mins (one f16 per group, contiguous) times those sums, 16 groups
/// per FMA, join the accumulator before its horizontal sum.
///
/// Every output (row r, weight row j) goes through the same operations in
/// the same order whatever the number of rows and wherever r falls in the
/// blocking: its own quantized row, one f32 accumulator along K, the same
/// min terms, and the reduction of its weight block (the 16x16
/// transpose-add for full blocks, one horizontal sum for the last N % 16
/// weight rows). So a row computed in a batch is bitwise identical to the
/// same row computed alone (batched decode relies on it); only which rows
/// share the weight loads changes.
///
/// 4-bit: 32 bytes hold 64 codes, element 2j in the low nibble of byte j.
/// Unpacked as [low nibbles of bytes 0-31, high nibbles of bytes 0-31] (the
/// bytes loaded once into both halves, the upper half shifted, both
/// masked), so lanes i and 8 + i hold the even and odd elements of
/// 8i .. 8i + 7, inside one group of 32 or more; qa is stored in that order
/// (per 64 elements: the even ones, then the odd ones).
///
/// Each K step also prefetches the same bytes of the next block's rows, so
/// that the block's codes arrive ahead of the loads (16 strided row streams
/// defeat the hardware prefetcher).
void buildVnniMatmul(OpBuilder &b, Location loc, Value a, Value rows, Value c,
                     Value codes, Value scales, Value mins,
                     const QuantLayout &layout, int64_t n, int64_t k,
                     unsigned bits, bool gfni) {
  int64_t group = layout.group, chunks = k / 64;
  // Activations are quantized in blocks of at most kVnniActBlock elements.
  int64_t actBlock = std::min(group, kVnniActBlock);
  bool asymmetric = static_cast<bool>(mins);
  int offset = asymmetric ? 0 : bits == 8 ? 128 : 8;
  auto i8x64 = VectorType::get({64}, b.getI8Type());
  auto i32x16 = VectorType::get({16}, b.getI32Type());
  auto f32x16 = VectorType::get({16}, b.getF32Type());
  auto i8x16 = VectorType::get({16}, b.getI8Type());
  auto f32x4 = VectorType::get({4}, b.getF32Type());
  // Rows quantized per chunk: the scratch below holds chunkRows rows.
  int64_t chunkRows = std::clamp<int64_t>(
      kVnniScratchBytes / (3 * k) / kVnniActRows * kVnniActRows, kVnniActRows,
      64);
  auto scratch = [&](int64_t cols, Type type) -> Value {
    return memref::AllocaOp::create(b, loc,
                                    MemRefType::get({chunkRows, cols}, type));
  };
  Value qa = scratch(k, b.getI8Type());
  Value negCorr = offset != 0 ? scratch(chunks * 16, b.getI32Type()) : Value();
  // Activation scale per lane of 4 codes, and (4-bit) per block of 16.
  Value aScale = scratch(k / 4, b.getF32Type());
  Value blockScale = bits == 4 ? scratch(k / 16, b.getF32Type()) : Value();
  // Asymmetric: the activation sum of each group.
  int64_t groups = layout.groupsPerRow;
  // Weight groups per 64-code step (1 for groups of 64 or more), and the
  // step's group of each i32 lane: lane i covers elements 4i .. 4i + 3
  // (8-bit), or 8 (i mod 8) .. 8 (i mod 8) + 7, evens or odds (4-bit).
  int64_t perChunk = std::max<int64_t>(1, 64 / group);
  SmallVector<int64_t> laneGroup;
  for (int64_t i = 0; i < 16; ++i)
    laneGroup.push_back((bits == 8 ? 4 * i : 8 * (i % 8)) / group);
  Value groupSums = asymmetric ? scratch(groups, b.getF32Type()) : Value();
  auto i8Splat = [&](OpBuilder &ob, Location l, int v) -> Value {
    return arith::ConstantOp::create(
        ob, l, DenseElementsAttr::get(i8x64, ob.getI8IntegerAttr(v)));
  };
  auto dot = [&](OpBuilder &ob, Location l, Value acc, Value u8, Value s8) {
    return LLVM::CallIntrinsicOp::create(
               ob, l, i32x16, ob.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
               ValueRange{acc, u8, s8})
        .getResult(0);
  };

  // Quantizes activation row `r` into scratch row `slot`, one group at a
  // time.
  auto quantizeRow = [&](OpBuilder &qb, Location ql, Value r, Value slot) {
    forLoop(qb, ql, cIdx(qb, ql, 0), cIdx(qb, ql, groups), 1,
            [&](OpBuilder &gb, Location l, Value gi) {
              Value base = arith::MulIOp::create(gb, l, gi, cIdx(gb, l, group));
              SmallVector<Value> xs, ks;
              Value zeros =
                  vector::BroadcastOp::create(gb, l, f32x16, cF32(gb, l, 0.0f));
              Value xsum = zeros;
              for (int64_t ch = 0; ch < group / 16; ++ch) {
                ks.push_back(
                    arith::AddIOp::create(gb, l, base, cIdx(gb, l, ch * 16)));
                xs.push_back(loadVec(gb, l, 16, a, {r, ks.back()}));
                if (asymmetric)
                  xsum = arith::AddFOp::create(gb, l, xsum, xs.back());
              }
              if (asymmetric)
                memref::StoreOp::create(
                    gb, l,
                    vector::ReductionOp::create(
                        gb, l, vector::CombiningKind::ADD, xsum),
                    groupSums, ValueRange{slot, gi});
              // Each block of actBlock elements: its own scale.
              SmallVector<Value> qs;
              for (int64_t c0 = 0; c0 < group / 16; c0 += actBlock / 16) {
                Value amax = zeros;
                for (int64_t ch = c0; ch < c0 + actBlock / 16; ++ch)
                  amax = arith::MaximumFOp::create(
                      gb, l, amax, math::AbsFOp::create(gb, l, xs[ch]));
                Value m = vector::ReductionOp::create(
                    gb, l, vector::CombiningKind::MAXIMUMF, amax);
                Value scale =
                    arith::DivFOp::create(gb, l, m, cF32(gb, l, 127.0f));
                Value positive = arith::CmpFOp::create(
                    gb, l, arith::CmpFPredicate::OGT, m, cF32(gb, l, 0.0f));
                Value inv = arith::SelectOp::create(
                    gb, l, positive,
                    arith::DivFOp::create(gb, l, cF32(gb, l, 127.0f), m),
                    cF32(gb, l, 0.0f));
                Value invV = vector::BroadcastOp::create(gb, l, f32x16, inv);
                for (int64_t ch = c0; ch < c0 + actBlock / 16; ++ch) {
                  Value y = math::RoundEvenOp::create(
                      gb, l, arith::MulFOp::create(gb, l, xs[ch], invV));
                  qs.push_back(arith::TruncIOp::create(
                      gb, l, i8x16, arith::FPToSIOp::create(gb, l, i32x16, y)));
                  vector::StoreOp::create(gb, l, qs[ch], qa,
                                          ValueRange{slot, ks[ch]});
                  if (bits == 4) {
                    // Lanes are spread in the chunk pass below.
                    memref::StoreOp::create(
                        gb, l, scale, blockScale,
                        ValueRange{slot, arith::DivUIOp::create(
                                             gb, l, ks[ch], cIdx(gb, l, 16))});
                    continue;
                  }
                  Value lane =
                      arith::DivUIOp::create(gb, l, ks[ch], cIdx(gb, l, 4));
                  vector::StoreOp::create(
                      gb, l, vector::BroadcastOp::create(gb, l, f32x4, scale),
                      aScale, ValueRange{slot, lane});
                }
              }
            });
    // Per 64 elements: 4-bit codes unpack as [the 32 even elements, the 32
    // odd ones], so qa is reordered alike, and each lane of 4 codes (lane i
    // covers elements 8 (i mod 8) + 2j (+1 from lane 8 on), block
    // (i mod 8) / 2) takes its block's scale. Then -offset * (sum of each
    // lane's 4 codes).
    if (offset != 0 || bits == 4)
      forLoop(qb, ql, cIdx(qb, ql, 0), cIdx(qb, ql, chunks), 1,
              [&](OpBuilder &cb, Location l, Value ci) {
                Value k0 = arith::MulIOp::create(cb, l, ci, cIdx(cb, l, 64));
                Value lane = arith::MulIOp::create(cb, l, ci, cIdx(cb, l, 16));
                Value q = vector::LoadOp::create(cb, l, i8x64, qa,
                                                 ValueRange{slot, k0});
                if (bits == 4) {
                  SmallVector<int64_t> evenOdd, laneBlock;
                  for (int64_t i = 0; i < 64; ++i)
                    evenOdd.push_back(i < 32 ? 2 * i : 2 * (i - 32) + 1);
                  for (int64_t i = 0; i < 16; ++i)
                    laneBlock.push_back((i % 8) / 2);
                  q = vector::ShuffleOp::create(cb, l, q, q, evenOdd);
                  vector::StoreOp::create(cb, l, q, qa, ValueRange{slot, k0});
                  Value bs = vector::LoadOp::create(
                      cb, l, f32x4, blockScale,
                      ValueRange{slot, arith::MulIOp::create(cb, l, ci,
                                                             cIdx(cb, l, 4))});
                  vector::StoreOp::create(
                      cb, l, vector::ShuffleOp::create(cb, l, bs, bs, laneBlock),
                      aScale, ValueRange{slot, lane});
                }
                if (offset == 0)
                  return;
                Value zero = arith::ConstantOp::create(
                    cb, l, DenseElementsAttr::get(i32x16, cb.getI32IntegerAttr(0)));
                Value corr = dot(cb, l, zero, i8Splat(cb, l, offset), q);
                vector::StoreOp::create(cb, l,
                                        arith::SubIOp::create(cb, l, zero, corr),
                                        negCorr, ValueRange{slot, lane});
              });
  };

  // The K loop of `rb` quantized rows (scratch rows `slots`) times weight
  // rows `cols`: one f32 accumulator per pair, index i * cols.size() + j.
  // With `prefetch`, the same bytes of the rows kVnniRowBlock further are
  // prefetched.
  auto kLoop = [&](OpBuilder &ob, Location l, ArrayRef<Value> slots,
                   ArrayRef<Value> cols, bool prefetch, Value wScales,
                   int64_t firstInBlock) -> SmallVector<Value> {
    int64_t rb = slots.size(), nb = cols.size();
    Value zero = vector::BroadcastOp::create(ob, l, f32x16, cF32(ob, l, 0.0f));
    SmallVector<Value> inits(rb * nb, zero);
    auto loop = scf::ForOp::create(
        ob, l, cIdx(ob, l, 0), cIdx(ob, l, chunks), cIdx(ob, l, 1), inits,
        [&](OpBuilder &lb, Location ll, Value ci, ValueRange accs) {
          Value k0 = arith::MulIOp::create(lb, ll, ci, cIdx(lb, ll, 64));
          Value lane = arith::MulIOp::create(lb, ll, ci, cIdx(lb, ll, 16));
          SmallVector<Value> qs, ncs, ass;
          for (Value slot : slots) {
            qs.push_back(
                vector::LoadOp::create(lb, ll, i8x64, qa, ValueRange{slot, k0}));
            ncs.push_back(
                offset != 0
                    ? vector::LoadOp::create(lb, ll, i32x16, negCorr,
                                             ValueRange{slot, lane})
                          .getResult()
                    : arith::ConstantOp::create(
                          lb, ll,
                          DenseElementsAttr::get(i32x16, lb.getI32IntegerAttr(0)))
                          .getResult());
            ass.push_back(vector::LoadOp::create(lb, ll, f32x16, aScale,
                                                 ValueRange{slot, lane}));
          }
          Value flip = i8Splat(lb, ll, 0x80);
          Value byte0 = arith::DivUIOp::create(lb, ll, k0, cIdx(lb, ll, 2));
          auto i8x32 = VectorType::get({32}, lb.getI8Type());
          // 4-bit: the 32 bytes loaded into both halves, the upper copy
          // shifted right by 4 (as 16-bit words), both masked to nibbles:
          // [low nibbles, high nibbles]. With GFNI, one GF2P8AFFINEQB does
          // the shift and mask: each qword of bytes takes its own 8x8 bit
          // matrix, whose byte 7 - i selects the source bits of result bit
          // i (bits 0-3 of the low half's bytes, 4-7 of the high half's).
          auto i16x32 = VectorType::get({32}, lb.getI16Type());
          SmallVector<int64_t> twice;
          SmallVector<int16_t> nibbleShift;
          SmallVector<int8_t> matrices;
          for (int64_t i = 0; i < 64; ++i) {
            twice.push_back(i % 32);
            int64_t row = 7 - i % 8, from = i < 32 ? 0 : 4;
            matrices.push_back(row < 4 ? int8_t(1 << (row + from)) : 0);
          }
          for (int64_t i = 0; i < 32; ++i)
            nibbleShift.push_back(i < 16 ? 0 : 4);
          Value shifts = arith::ConstantOp::create(
              lb, ll, DenseElementsAttr::get(i16x32, ArrayRef(nibbleShift)));
          Value nibbleMatrices = arith::ConstantOp::create(
              lb, ll, DenseElementsAttr::get(i8x64, ArrayRef(matrices)));
          Value lowMask = i8Splat(lb, ll, 0x0F);
          Value g0 = arith::DivUIOp::create(lb, ll, k0, cIdx(lb, ll, group));
          // The f32 scales of row `col` spread over the 16 lanes.
          auto spread = [&](Value params, Value col) -> Value {
            if (group >= 64) {
              Value h = memref::LoadOp::create(lb, ll, params, ValueRange{col, g0});
              return vector::BroadcastOp::create(
                  lb, ll, f32x16,
                  arith::ExtFOp::create(lb, ll, lb.getF32Type(), h));
            }
            // perChunk groups per dot product, each lane its own (laneGroup).
            Value h = vector::LoadOp::create(
                lb, ll, VectorType::get({perChunk}, lb.getF16Type()), params,
                ValueRange{col, g0});
            Value f = arith::ExtFOp::create(
                lb, ll, VectorType::get({perChunk}, lb.getF32Type()), h);
            return vector::ShuffleOp::create(lb, ll, f, f, laneGroup);
          };
          // The rows are strided streams, too many for the hardware
          // prefetcher: fetch the same bytes of the next block's rows (the
          // block's codes are contiguous) one block ahead. Past the last
          // block this touches the scales, or nothing: a prefetch never
          // faults.
          if (prefetch) {
            Value col = bits == 8 ? k0 : byte0;
            for (Value col0 : cols) {
              Value row = arith::AddIOp::create(lb, ll, col0,
                                                cIdx(lb, ll, kVnniRowBlock));
              memref::PrefetchOp::create(lb, ll, codes, ValueRange{row, col},
                                         /*isWrite=*/false, /*localityHint=*/3,
                                         /*isDataCache=*/true);
            }
          }
          SmallVector<Value> us, ws;
          for (auto [j, col] : llvm::enumerate(cols)) {
            Value u;
            if (bits == 8) {
              u = vector::LoadOp::create(lb, ll, i8x64, codes,
                                         ValueRange{col, k0});
              if (!asymmetric)
                u = arith::XOrIOp::create(lb, ll, u, flip);
            } else {
              Value w = vector::LoadOp::create(lb, ll, i8x32, codes,
                                               ValueRange{col, byte0});
              Value ww = vector::ShuffleOp::create(lb, ll, w, w, twice);
              if (gfni) {
                u = LLVM::CallIntrinsicOp::create(
                        lb, ll, i8x64,
                        lb.getStringAttr("llvm.x86.vgf2p8affineqb.512"),
                        ValueRange{ww, nibbleMatrices,
                                   LLVM::ConstantOp::create(
                                       lb, ll, lb.getI8Type(),
                                       lb.getI8IntegerAttr(0))})
                        .getResult(0);
              } else {
                Value shifted = arith::ShRUIOp::create(
                    lb, ll, vector::BitCastOp::create(lb, ll, i16x32, ww),
                    shifts);
                u = arith::AndIOp::create(
                    lb, ll, vector::BitCastOp::create(lb, ll, i8x64, shifted),
                    lowMask);
              }
            }
            us.push_back(u);
            if (!wScales) {
              ws.push_back(spread(scales, col));
              continue;
            }
            // The block's scales, converted and spread before the K loop.
            Value jj = cIdx(lb, ll, firstInBlock + int64_t(j));
            if (group >= 64)
              ws.push_back(vector::BroadcastOp::create(
                  lb, ll, f32x16,
                  memref::LoadOp::create(lb, ll, wScales, ValueRange{jj, g0})));
            else
              ws.push_back(vector::LoadOp::create(lb, ll, f32x16, wScales,
                                                  ValueRange{jj, lane}));
          }
          SmallVector<Value> next;
          for (int64_t i = 0; i < rb; ++i)
            for (int64_t j = 0; j < nb; ++j) {
              Value d = arith::SIToFPOp::create(lb, ll, f32x16,
                                                dot(lb, ll, ncs[i], us[j], qs[i]));
              Value s = arith::MulFOp::create(lb, ll, ws[j], ass[i]);
              next.push_back(
                  vector::FMAOp::create(lb, ll, d, s, accs[i * nb + j]));
            }
          scf::YieldOp::create(lb, ll, next);
        });
    return SmallVector<Value>(loop.getResults().begin(), loop.getResults().end());
  };

  // + sum over groups of min * (activation sum) of scratch row `slot`: 16
  // groups at a time, then the remaining ones in the low lanes.
  auto addMinTerms = [&](OpBuilder &ob, Location l, Value acc, Value col,
                         Value slot) -> Value {
    auto minTerm = [&](Value acc, int64_t g0, int64_t width) -> Value {
      Value h = vector::LoadOp::create(
          ob, l, VectorType::get({width}, ob.getF16Type()), mins,
          ValueRange{col, cIdx(ob, l, g0)});
      auto fType = VectorType::get({width}, ob.getF32Type());
      Value m = arith::ExtFOp::create(ob, l, fType, h);
      Value xs = vector::LoadOp::create(ob, l, fType, groupSums,
                                        ValueRange{slot, cIdx(ob, l, g0)});
      if (width == 16)
        return vector::FMAOp::create(ob, l, m, xs, acc).getResult();
      Value p = vector::InsertStridedSliceOp::create(
          ob, l, arith::MulFOp::create(ob, l, m, xs),
          vector::BroadcastOp::create(ob, l, f32x16, cF32(ob, l, 0.0f)),
          ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
      return arith::AddFOp::create(ob, l, acc, p).getResult();
    };
    int64_t g0 = 0;
    for (; g0 + 16 <= groups; g0 += 16)
      acc = minTerm(acc, g0, 16);
    if (g0 < groups)
      acc = minTerm(acc, g0, groups - g0);
    return acc;
  };

  // The f16 weight scales of the kVnniRowBlock rows from n0, as the K loop
  // multiplies them, in stack scratch (blockScales, one per thread):
  // groups of 64 or more one f32 per group (broadcast by the multiply's
  // load), smaller groups spread over the 16 lanes of each 64-code step.
  // Converted 16 groups at a time once for all the rows of the call, this
  // costs a fraction of converting and spreading them in the K loop of each
  // block of activation rows.
  auto blockScales = [&](OpBuilder &ob, Location l) -> Value {
    int64_t width = group >= 64 ? groups : chunks * 16;
    return memref::AllocaOp::create(
        ob, l, MemRefType::get({kVnniRowBlock, width}, ob.getF32Type()));
  };
  auto fillBlockScales = [&](OpBuilder &ob, Location l, Value n0, Value out) {
    auto f16x16 = VectorType::get({16}, ob.getF16Type());
    forLoop(ob, l, cIdx(ob, l, 0), cIdx(ob, l, kVnniRowBlock), 1,
            [&](OpBuilder &rb, Location rl, Value jj) {
      Value row = arith::AddIOp::create(rb, rl, n0, jj);
      int64_t g = 0;
      for (; g + 16 <= groups; g += 16) {
        Value f = arith::ExtFOp::create(
            rb, rl, f32x16,
            Value(vector::LoadOp::create(rb, rl, f16x16, scales,
                                         ValueRange{row, cIdx(rb, rl, g)})));
        if (group >= 64) {
          vector::StoreOp::create(rb, rl, f, out, ValueRange{jj, cIdx(rb, rl, g)});
          continue;
        }
        for (int64_t c = 0; c < 16 / perChunk; ++c) {
          SmallVector<int64_t> mask;
          for (int64_t lg : laneGroup)
            mask.push_back(c * perChunk + lg);
          vector::StoreOp::create(
              rb, rl, vector::ShuffleOp::create(rb, rl, f, f, mask), out,
              ValueRange{jj, cIdx(rb, rl, (g / perChunk + c) * 16)});
        }
      }
      // The last groups % 16: one by one, or one step at a time.
      for (; g < groups; g += perChunk) {
        if (group >= 64) {
          memref::StoreOp::create(
              rb, rl,
              arith::ExtFOp::create(
                  rb, rl, rb.getF32Type(),
                  Value(memref::LoadOp::create(
                      rb, rl, scales, ValueRange{row, cIdx(rb, rl, g)}))),
              out, ValueRange{jj, cIdx(rb, rl, g)});
          continue;
        }
        auto fType = VectorType::get({perChunk}, rb.getF32Type());
        Value f = arith::ExtFOp::create(
            rb, rl, fType,
            Value(vector::LoadOp::create(
                rb, rl, VectorType::get({perChunk}, rb.getF16Type()), scales,
                ValueRange{row, cIdx(rb, rl, g)})));
        vector::StoreOp::create(
            rb, rl, vector::ShuffleOp::create(rb, rl, f, f, laneGroup), out,
            ValueRange{jj, cIdx(rb, rl, g / perChunk * 16)});
      }
    });
  };

  // Rows `r0 + slot0 + i` (scratch rows slot0 + i, i < rb) times weight rows
  // n0 .. n0 + nb (nb is kVnniRowBlock or 1).
  auto micro = [&](OpBuilder &ob, Location l, Value r0, Value slot0, int64_t rb,
                   Value n0, int64_t nb, Value wScales) {
    SmallVector<Value> slots = consecutive(ob, l, slot0, rb);
    SmallVector<Value> cols = consecutive(ob, l, n0, nb);
    // One row keeps all nb accumulators in one K loop; several rows split
    // the block into K loops of kVnniSubBlock weight rows.
    int64_t sub = rb == 1 ? nb : std::min(nb, kVnniSubBlock);
    SmallVector<Value> results(rb * nb);
    for (int64_t j0 = 0; j0 < nb; j0 += sub) {
      SmallVector<Value> accs =
          kLoop(ob, l, slots, ArrayRef<Value>(cols).slice(j0, sub),
                nb == kVnniRowBlock, wScales, j0);
      for (int64_t i = 0; i < rb; ++i)
        for (int64_t j = 0; j < sub; ++j)
          results[i * nb + j0 + j] = accs[i * sub + j];
    }
    for (int64_t i = 0; i < rb; ++i) {
      Value row = arith::AddIOp::create(ob, l, r0, slots[i]);
      MutableArrayRef<Value> rowResults(results.data() + i * nb, nb);
      if (asymmetric)
        for (int64_t j = 0; j < nb; ++j)
          rowResults[j] = addMinTerms(ob, l, rowResults[j], cols[j], slots[i]);
      if (nb == kVnniRowBlock) {
        // Reduce the 16 weight rows together: each level adds the two
        // halves of every row's lanes, packing two vectors' rows into one,
        // until lane j holds the sum of row j.
        SmallVector<Value> parts(rowResults.begin(), rowResults.end());
        for (int64_t width = 16; width > 1; width /= 2) {
          int64_t h = width / 2, rowsPer = 16 / width;
          SmallVector<int64_t> lo, hi;
          for (int64_t src = 0; src < 2; ++src)
            for (int64_t rr = 0; rr < rowsPer; ++rr)
              for (int64_t e = 0; e < h; ++e) {
                lo.push_back(src * 16 + rr * width + e);
                hi.push_back(src * 16 + rr * width + h + e);
              }
          SmallVector<Value> next;
          for (size_t p = 0; p < parts.size(); p += 2) {
            Value x = vector::ShuffleOp::create(ob, l, parts[p], parts[p + 1], lo);
            Value y = vector::ShuffleOp::create(ob, l, parts[p], parts[p + 1], hi);
            next.push_back(arith::AddFOp::create(ob, l, x, y));
          }
          parts = next;
        }
        vector::StoreOp::create(ob, l, parts[0], c, ValueRange{row, n0});
        continue;
      }
      for (int64_t j = 0; j < nb; ++j) {
        Value sum = vector::ReductionOp::create(
            ob, l, vector::CombiningKind::ADD, rowResults[j]);
        memref::StoreOp::create(ob, l, sum, c, ValueRange{row, cols[j]});
      }
    }
  };

  // Chunks of chunkRows rows: quantize them, then every block of 16 weight
  // rows (in parallel) takes them kVnniActRows at a time, the rest one by
  // one; the last N % 16 weight rows one at a time.
  int64_t blocks = n / kVnniRowBlock;
  forLoop(b, loc, cIdx(b, loc, 0), rows, chunkRows,
          [&](OpBuilder &cb, Location l, Value r0) {
            Value left = arith::SubIOp::create(cb, l, rows, r0);
            Value count = arith::MinUIOp::create(cb, l, left, cIdx(cb, l, chunkRows));
            // Several rows are quantized in parallel; one row (decode) in
            // the calling thread, without a parallel region.
            Value several = arith::CmpIOp::create(
                cb, l, arith::CmpIPredicate::ugt, count, cIdx(cb, l, 1));
            scf::IfOp::create(
                cb, l, several,
                [&](OpBuilder &tb, Location tl) {
                  parallelLoop(tb, tl, cIdx(tb, tl, 0), count,
                               [&](OpBuilder &qb, Location ql, Value slot) {
                                 quantizeRow(
                                     qb, ql,
                                     arith::AddIOp::create(qb, ql, r0, slot),
                                     slot);
                               });
                  scf::YieldOp::create(tb, tl);
                },
                [&](OpBuilder &eb, Location el) {
                  quantizeRow(eb, el, r0, cIdx(eb, el, 0));
                  scf::YieldOp::create(eb, el);
                });
            Value rem = arith::RemUIOp::create(cb, l, count, cIdx(cb, l, kVnniActRows));
            Value full = arith::SubIOp::create(cb, l, count, rem);
            if (blocks > 0)
              parallelLoop(
                  cb, l, cIdx(cb, l, 0), cIdx(cb, l, blocks),
                  [&](OpBuilder &pb, Location pl, Value blk) {
                    Value n0 = arith::MulIOp::create(pb, pl, blk,
                                                     cIdx(pb, pl, kVnniRowBlock));
                    // Blocks of kVnniActRows rows share the weight scales
                    // converted once; single rows (decode) convert them in
                    // the K loop, where they overlap the weights' loads.
                    Value wScales = blockScales(pb, pl);
                    Value blocked = arith::CmpIOp::create(
                        pb, pl, arith::CmpIPredicate::ugt, full,
                        cIdx(pb, pl, 0));
                    scf::IfOp::create(pb, pl, blocked,
                                      [&](OpBuilder &tb, Location tl) {
                                        fillBlockScales(tb, tl, n0, wScales);
                                        scf::YieldOp::create(tb, tl);
                                      });
                    forLoop(pb, pl, cIdx(pb, pl, 0), full, kVnniActRows,
                            [&](OpBuilder &fb, Location fl, Value s0) {
                              micro(fb, fl, r0, s0, kVnniActRows, n0,
                                    kVnniRowBlock, wScales);
                            });
                    forLoop(pb, pl, full, count, 1,
                            [&](OpBuilder &fb, Location fl, Value s) {
                              micro(fb, fl, r0, s, 1, n0, kVnniRowBlock,
                                    Value());
                            });
                  });
            forLoop(cb, l, cIdx(cb, l, blocks * kVnniRowBlock), cIdx(cb, l, n), 1,
                    [&](OpBuilder &pb, Location pl, Value n0) {
                      forLoop(pb, pl, cIdx(pb, pl, 0), count, 1,
                              [&](OpBuilder &fb, Location fl, Value s) {
                                micro(fb, fl, r0, s, 1, n0, 1, Value());
                              });
                    });
          });
}

/// C[R, N] = A[R, K] * dequant(W)^T for a weight stored as `quant` (see
/// dialects/LLM/IR/LLMQuant.h). The kernel is chosen per weight shape, never
/// per number of rows, so that a row's result does not depend on the rows
/// it is computed with (batched decode): the VNNI kernel where
/// useVnniKernel says, else the f32 one below, whose every output goes
/// through the same operations whether its row is in a block of kRowBlock
/// rows or alone.
void buildQuantizedMatmul(OpBuilder &b, Location loc, ValueRange args,
                          QuantAttr quant, int64_t n, int64_t k,
                          const KernelOptions &options) {
  Value a = collapseToRows(b, loc, args[0]);
  Value bytes = args[1];
  Value c = collapseToRows(b, loc, args[2]);
  QuantLayout layout = getQuantLayout(quant, n, k);
  bool asymmetric = quant.getScheme() == QuantScheme::asymmetric;
  int64_t group = layout.group, chunks = group / 16;
  QuantViews views = viewQuantStorage(b, loc, bytes, quant, layout);
  Value codes = views.codes, scales = views.scales, mins = views.mins;
  Value rows = dimOf(b, loc, a, 0);
  auto f32x16 = VectorType::get({16}, b.getF32Type());

  // Each group of the `nb` weight rows is dequantized once (scale * q
  // (+ min), 16 codes at a time) and multiplied with `rb` activation rows
  // into rb * nb accumulators, so the conversion cost is shared by the rows.
  // An output's operations do not depend on rb or nb: blocks of kRowBlock
  // rows and the remaining rows (rb = 1, decode included) agree bitwise.
  auto blockMicro = [&](OpBuilder &ob, Location l, Value r0, Value n0,
                        int64_t rb, int64_t nb) {
    SmallVector<Value> rs = consecutive(ob, l, r0, rb);
    SmallVector<Value> cols = consecutive(ob, l, n0, nb);
    Value zero = vector::BroadcastOp::create(ob, l, f32x16, cF32(ob, l, 0.0f));
    SmallVector<Value> inits(rb * nb, zero);
    auto groups = scf::ForOp::create(
        ob, l, cIdx(ob, l, 0), cIdx(ob, l, layout.groupsPerRow), cIdx(ob, l, 1),
        inits, [&](OpBuilder &gb, Location gl, Value gi, ValueRange accs) {
          Value base = arith::MulIOp::create(gb, gl, gi, cIdx(gb, gl, group));
          auto param = [&](Value memref, Value col) -> Value {
            Value h = memref::LoadOp::create(gb, gl, memref, ValueRange{col, gi});
            Value f = arith::ExtFOp::create(gb, gl, gb.getF32Type(), h);
            return vector::BroadcastOp::create(gb, gl, f32x16, f);
          };
          SmallVector<Value> ws, ms;
          for (int64_t j = 0; j < nb; ++j) {
            ws.push_back(param(scales, cols[j]));
            ms.push_back(asymmetric ? param(mins, cols[j]) : Value());
          }
          SmallVector<Value> next(accs.begin(), accs.end());
          for (int64_t ch = 0; ch < chunks; ++ch) {
            Value kk = arith::AddIOp::create(gb, gl, base, cIdx(gb, gl, ch * 16));
            SmallVector<Value> wv, xv;
            for (int64_t j = 0; j < nb; ++j) {
              Value q = loadQuantCodes(gb, gl, codes, cols[j], kk, quant);
              wv.push_back(asymmetric
                               ? vector::FMAOp::create(gb, gl, q, ws[j], ms[j])
                                     .getResult()
                               : arith::MulFOp::create(gb, gl, q, ws[j])
                                     .getResult());
            }
            for (int64_t i = 0; i < rb; ++i)
              xv.push_back(loadVec(gb, gl, 16, a, {rs[i], kk}));
            for (int64_t i = 0; i < rb; ++i)
              for (int64_t j = 0; j < nb; ++j)
                next[i * nb + j] =
                    vector::FMAOp::create(gb, gl, xv[i], wv[j], next[i * nb + j]);
          }
          scf::YieldOp::create(gb, gl, next);
        });
    for (int64_t i = 0; i < rb; ++i)
      for (int64_t j = 0; j < nb; ++j) {
        Value sum = vector::ReductionOp::create(
            ob, l, vector::CombiningKind::ADD, groups.getResult(i * nb + j));
        memref::StoreOp::create(ob, l, sum, c, ValueRange{rs[i], cols[j]});
      }
  };

  auto fmaPath = [&](OpBuilder &b, Location loc) {
    int64_t blocks = n / kColBlock;
    Value rRem = arith::RemUIOp::create(b, loc, rows, cIdx(b, loc, kRowBlock));
    Value rFull = arith::SubIOp::create(b, loc, rows, rRem);
    if (blocks > 0)
      parallelLoop(b, loc, cIdx(b, loc, 0), cIdx(b, loc, blocks),
                   [&](OpBuilder &pb, Location l, Value blk) {
                     Value n0 = arith::MulIOp::create(pb, l, blk, cIdx(pb, l, kColBlock));
                     forLoop(pb, l, cIdx(pb, l, 0), rFull, kRowBlock,
                             [&](OpBuilder &fb, Location fl, Value r0) {
                               blockMicro(fb, fl, r0, n0, kRowBlock, kColBlock);
                             });
                     forLoop(pb, l, rFull, rows, 1,
                             [&](OpBuilder &fb, Location fl, Value r) {
                               blockMicro(fb, fl, r, n0, 1, kColBlock);
                             });
                   });
    forLoop(b, loc, cIdx(b, loc, blocks * kColBlock), cIdx(b, loc, n), 1,
            [&](OpBuilder &pb, Location l, Value n0) {
              forLoop(pb, l, cIdx(pb, l, 0), rows, 1,
                      [&](OpBuilder &fb, Location fl, Value r) {
                        blockMicro(fb, fl, r, n0, 1, 1);
                      });
            });
  };
  if (useVnniKernel(quant, layout, k, options))
    buildVnniMatmul(b, loc, a, rows, c, codes, scales, mins, layout, n, k,
                    quant.getBits(), options.gfni);
  else
    fmaPath(b, loc);
}

struct MatmulToKernel : public KernelPattern<MatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lowerQuantized(MatmulOp op, OpAdaptor adaptor,
                               ConversionPatternRewriter &rewriter,
                               QuantAttr quant, Value bytes) const {
    auto weightType = op.getRhs().getType();
    int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
    QuantLayout layout = getQuantLayout(quant, n, k);
    if (!op.getTransposeB() || layout.group % 16 != 0 ||
        !cast<MemRefType>(adaptor.getLhs().getType()).getElementType().isF32())
      return op.emitOpError("the CPU lowering supports quantized weights as "
                            "the transposed rhs of f32 matmuls with groups of "
                            "a multiple of 16");
    MemRefType resultType = convertedResultType(op);
    std::string name = "__llm_matmul_q" + std::to_string(quant.getBits()) + "g" +
                       std::to_string(layout.group) +
                       (quant.getScheme() == QuantScheme::asymmetric ? "a" : "s") +
                       (useVnniKernel(quant, layout, k, options) ? "v" : "") +
                       mangle(TypeRange{adaptor.getLhs().getType()}) + "_" +
                       std::to_string(n) + "x" + std::to_string(k);
    SmallVector<Value> dyn;
    for (int64_t i = 0; i < resultType.getRank(); ++i)
      if (resultType.isDynamicDim(i))
        dyn.push_back(dimOf(rewriter, op.getLoc(), adaptor.getLhs(), i));
    emitKernelCall(rewriter, op, name, {adaptor.getLhs(), bytes}, resultType,
                   dyn, [&](OpBuilder &b, Location loc, ValueRange args) {
                     buildQuantizedMatmul(b, loc, args, quant, n, k, options);
                   });
    return success();
  }

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto lhsType = cast<MemRefType>(adaptor.getLhs().getType());
    if (auto cast = op.getRhs().getDefiningOp<UnrealizedConversionCastOp>())
      if (auto quant = cast->getAttrOfType<QuantAttr>(kQuantizedWeightAttr))
        return lowerQuantized(op, adaptor, rewriter, quant, cast.getOperand(0));
    auto rhsType = cast<MemRefType>(adaptor.getRhs().getType());
    if (!lhsType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "CPU kernels compute in f32");
    bool generic = rhsType.getRank() != 2 || !rhsType.hasStaticShape();
    MemRefType resultType = convertedResultType(op);
    bool transposed = op.getTransposeB();
    std::string name = (transposed ? "__llm_matmul_tb" : "__llm_matmul") +
                       mangle(TypeRange{lhsType, rhsType});
    // Dynamic result extents: leading ones from lhs, N from rhs.
    SmallVector<Value> dyn;
    int64_t rank = resultType.getRank(), rhsRank = rhsType.getRank();
    for (int64_t i = 0; i < rank; ++i) {
      if (!resultType.isDynamicDim(i))
        continue;
      if (i < rank - 1)
        dyn.push_back(dimOf(rewriter, op.getLoc(), adaptor.getLhs(), i));
      else
        dyn.push_back(dimOf(rewriter, op.getLoc(), adaptor.getRhs(),
                            transposed ? rhsRank - 2 : rhsRank - 1));
    }
    int64_t width = options.vectorWidth;
    emitKernelCall(rewriter, op, name, {adaptor.getLhs(), adaptor.getRhs()},
                   resultType, dyn,
                   [&](OpBuilder &b, Location loc, ValueRange args) {
                     if (generic)
                       buildGenericMatmul(b, loc, args, transposed);
                     else if (transposed)
                       buildTransposedMatmul(b, loc, args, width);
                     else
                       buildPlainMatmul(b, loc, args, width);
                   });
    return success();
  }
};

} // namespace

void kernels::populateMatmulKernelPatterns(const TypeConverter &converter,
                                           RewritePatternSet &patterns,
                                           const KernelOptions &options) {
  patterns.add<MatmulToKernel>(converter, patterns.getContext(), options);
}
