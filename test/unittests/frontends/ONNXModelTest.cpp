//===- ONNXModelTest.cpp - ONNX model decoding and tensor views -----------===//
//
// Part of Frugal. Checks what lit cannot see: that tensor data are views
// into the mapped files (raw_data, packed float_data, external data at an
// offset), and the values of varint-encoded tensors.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/ONNXModel.h"

#include "TestFiles.h"

#include "llvm/ADT/bit.h"
#include "gtest/gtest.h"

#include <cstring>
#include <string>
#include <vector>

using namespace frugal::onnx;
using frugal::test::TempDir;

namespace {

/// A minimal protobuf encoder for building models in memory.
std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(char(v ? b | 0x80 : b));
  } while (v);
  return out;
}
std::string vfield(unsigned field, uint64_t v) {
  return varint(field << 3) + varint(v);
}
std::string bfield(unsigned field, const std::string &payload) {
  return varint((field << 3) | 2) + varint(payload.size()) + payload;
}
std::string floatsLE(std::initializer_list<float> values) {
  std::string out;
  for (float f : values) {
    uint32_t bits = llvm::bit_cast<uint32_t>(f);
    for (int i = 0; i < 4; ++i)
      out.push_back(char(bits >> (8 * i)));
  }
  return out;
}
std::string modelWith(const std::string &initializers) {
  std::string graph = bfield(2, "g") + initializers;
  return vfield(1, 8) + bfield(8, bfield(1, "") + vfield(2, 17)) +
         bfield(7, graph);
}
std::string tensorProto(const std::string &name, std::vector<int64_t> dims,
                        int dataType, const std::string &payload) {
  std::string t;
  for (int64_t d : dims)
    t += vfield(1, uint64_t(d));
  return t + vfield(2, uint64_t(dataType)) + bfield(8, name) + payload;
}

llvm::Expected<std::unique_ptr<ONNXModel>>
parseBytes(const std::string &bytes, llvm::StringRef dir = ".") {
  return ONNXModel::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "mem.onnx"), dir);
}

bool isInside(llvm::ArrayRef<uint8_t> view, const llvm::MemoryBuffer &buf) {
  auto *begin = reinterpret_cast<const uint8_t *>(buf.getBufferStart());
  return view.data() >= begin &&
         view.data() + view.size() <= begin + buf.getBufferSize();
}

TEST(ONNXModel, RawDataAndPackedFloatDataAreViews) {
  std::string values = floatsLE({1.0f, -2.0f, 3.5f});
  std::string bytes =
      modelWith(bfield(5, tensorProto("raw", {3}, 1, bfield(9, values))) +
                bfield(5, tensorProto("packed", {3}, 1, bfield(4, values))));
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(bytes, "mem.onnx");
  const llvm::MemoryBuffer *raw = buffer.get();
  auto model = ONNXModel::parse(std::move(buffer), ".");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  for (const char *name : {"raw", "packed"}) {
    const ONNXTensor *t = (*model)->initializer(name);
    ASSERT_TRUE(t) << name;
    EXPECT_EQ(t->dataType, DataType::Float);
    EXPECT_EQ(t->dims, (llvm::SmallVector<int64_t, 4>{3}));
    EXPECT_TRUE(isInside(t->data, *raw)) << name << " was copied";
    std::vector<float> out(3);
    ASSERT_FALSE(bool(readAsF32(*t, out)));
    EXPECT_EQ(out, (std::vector<float>{1.0f, -2.0f, 3.5f}));
  }
  EXPECT_FALSE((*model)->initializer("missing"));

  // The same tensors through the TensorSource interface the packer uses.
  const frugal::TensorSource &source = **model;
  std::optional<frugal::TensorSource::Info> info = source.lookupTensor("raw");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->dtype, "FLOAT");
  EXPECT_TRUE(info->convertibleToF32);
  EXPECT_EQ(info->shape, (llvm::SmallVector<int64_t, 4>{3}));
  EXPECT_EQ(info->file, "mem.onnx");
  EXPECT_FALSE(source.lookupTensor("missing").has_value());
  std::vector<float> viaSource(3);
  ASSERT_FALSE(bool(source.readAsF32("packed", viaSource)));
  EXPECT_EQ(viaSource, (std::vector<float>{1.0f, -2.0f, 3.5f}));
  EXPECT_EQ(source.sourcePath(), "mem.onnx");
  auto missing = (*model)->require("missing");
  ASSERT_FALSE(bool(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "missing initializer 'missing' in model mem.onnx");
}

TEST(ONNXModel, UnpackedFloatsAndVarintsAreDecoded) {
  // float_data as three separate fixed32 fields; int64_data packed with a
  // negative value; int32_data holding float16 bits.
  std::string unpacked;
  for (float f : {1.0f, 2.0f, 4.0f}) {
    unpacked += varint((4 << 3) | 5);
    unpacked += floatsLE({f});
  }
  std::string ints = bfield(7, varint(7) + varint(uint64_t(int64_t(-3))));
  std::string halves = vfield(5, 0x3c00) + vfield(5, 0xc000); // 1.0, -2.0
  auto model =
      parseBytes(modelWith(bfield(5, tensorProto("f", {3}, 1, unpacked)) +
                           bfield(5, tensorProto("i", {2}, 7, ints)) +
                           bfield(5, tensorProto("h", {2}, 10, halves))));
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  std::vector<float> out(3);
  ASSERT_FALSE(bool(readAsF32(*(*model)->initializer("f"), out)));
  EXPECT_EQ(out, (std::vector<float>{1.0f, 2.0f, 4.0f}));
  const ONNXTensor *i = (*model)->initializer("i");
  EXPECT_EQ(readInteger(*i, 0), 7);
  EXPECT_EQ(readInteger(*i, 1), -3);
  std::vector<float> h(2);
  ASSERT_FALSE(bool(readAsF32(*(*model)->initializer("h"), h)));
  EXPECT_EQ(h, (std::vector<float>{1.0f, -2.0f}));
}

TEST(ONNXModel, ExternalDataIsAViewAtTheOffset) {
  TempDir dir;
  std::string data = std::string(100, 'x') + floatsLE({5.0f, 6.0f}) + "tail";
  dir.write("weights.bin", data);
  auto external = [](uint64_t offset, uint64_t length) {
    auto entry = [](const std::string &k, const std::string &v) {
      return bfield(13, bfield(1, k) + bfield(2, v));
    };
    return entry("location", "weights.bin") +
           entry("offset", std::to_string(offset)) +
           entry("length", std::to_string(length)) + vfield(14, 1);
  };
  std::string path = dir.write(
      "m.onnx",
      modelWith(bfield(5, tensorProto("w", {2}, 1, external(100, 8)))));
  auto model = ONNXModel::open(path);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  const ONNXTensor *w = (*model)->initializer("w");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->external);
  EXPECT_EQ(w->externalOffset, 100u);
  EXPECT_EQ(w->file, dir.path("weights.bin"));
  std::vector<float> out(2);
  ASSERT_FALSE(bool(readAsF32(*w, out)));
  EXPECT_EQ(out, (std::vector<float>{5.0f, 6.0f}));

  // One byte past the end of the file.
  std::string bad = dir.write(
      "bad.onnx",
      modelWith(bfield(5, tensorProto("w", {2}, 1, external(105, 8)))));
  auto badModel = ONNXModel::open(bad);
  ASSERT_FALSE(bool(badModel));
  EXPECT_EQ(llvm::toString(badModel.takeError()),
            bad + ": graph.initializer[0] 'w': external data offset 105 + "
                  "length 8 is out of range of 'weights.bin' (112 bytes)");

  // The length must match the tensor's size.
  std::string shortLen = dir.write(
      "short.onnx",
      modelWith(bfield(5, tensorProto("w", {2}, 1, external(100, 4)))));
  auto shortModel = ONNXModel::open(shortLen);
  ASSERT_FALSE(bool(shortModel));
  EXPECT_EQ(llvm::toString(shortModel.takeError()),
            shortLen + ": graph.initializer[0] 'w': external data length 4 "
                       "in 'weights.bin' does not match the 8 bytes of dims "
                       "of FLOAT");
}

TEST(ONNXModel, RejectsTwoDataSources) {
  std::string values = floatsLE({1.0f});
  auto model = parseBytes(modelWith(bfield(
      5, tensorProto("w", {1}, 1, bfield(9, values) + bfield(4, values)))));
  ASSERT_FALSE(bool(model));
  EXPECT_EQ(llvm::toString(model.takeError()),
            "mem.onnx: graph.initializer[0] 'w': data is given by more than "
            "one of raw_data, external_data and the typed *_data fields");
}

TEST(ONNXModel, ReadsOpsetsNodesAndValueInfos) {
  std::string attr =
      bfield(1, "perm") + vfield(20, 7) + bfield(8, varint(1) + varint(0));
  std::string node = bfield(1, "x") + bfield(2, "y") + bfield(3, "t") +
                     bfield(4, "Transpose") + bfield(5, attr);
  std::string dims = bfield(1, vfield(1, 2)) + bfield(1, bfield(2, "seq"));
  std::string type = bfield(1, vfield(1, 1) + bfield(2, dims));
  std::string input = bfield(1, "x") + bfield(2, type);
  std::string graph = bfield(1, node) + bfield(11, input);
  std::string bytes = vfield(1, 9) +
                      bfield(8, bfield(1, "com.microsoft") + vfield(2, 1)) +
                      bfield(8, vfield(2, 21)) + bfield(7, graph);
  auto model = parseBytes(bytes);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  const ONNXModel &m = **model;
  EXPECT_EQ(m.irVersion(), 9);
  EXPECT_EQ(m.opsetVersion(""), 21);
  EXPECT_EQ(m.opsetVersion("ai.onnx"), 21);
  EXPECT_EQ(m.opsetVersion("com.microsoft"), 1);
  ASSERT_EQ(m.graph().nodes.size(), 1u);
  const ONNXNode &n = m.graph().nodes[0];
  EXPECT_EQ(n.opType, "Transpose");
  EXPECT_EQ(n.name, "t");
  ASSERT_TRUE(n.attr("perm"));
  EXPECT_EQ(n.attr("perm")->ints, (llvm::SmallVector<int64_t, 4>{1, 0}));
  ASSERT_EQ(m.graph().inputs.size(), 1u);
  const ONNXValueInfo &x = m.graph().inputs[0];
  EXPECT_EQ(x.elemType, 1);
  ASSERT_EQ(x.dims.size(), 2u);
  EXPECT_EQ(x.dims[0].value, 2);
  EXPECT_EQ(x.dims[1].param, "seq");
}

} // namespace
