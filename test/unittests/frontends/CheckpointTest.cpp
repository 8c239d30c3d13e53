//===- CheckpointTest.cpp - single and sharded checkpoints ----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Checkpoint.h"

#include "TestFiles.h"

#include "gtest/gtest.h"

using namespace frugal::safetensors;
using frugal::test::safetensors;
using frugal::test::TempDir;

namespace {

/// A file holding one U8 tensor of 2 bytes per name.
std::string shardWith(std::initializer_list<const char *> names) {
  std::string header = "{", data;
  for (const char *name : names) {
    if (header.size() > 1)
      header += ", ";
    header += "\"" + std::string(name) +
              "\": {\"dtype\": \"U8\", \"shape\": "
              "[2], \"data_offsets\": [" +
              std::to_string(data.size()) + ", " +
              std::to_string(data.size() + 2) + "]}";
    data += "..";
  }
  return safetensors(header + "}", data);
}

std::string errorOf(llvm::Expected<std::unique_ptr<Checkpoint>> ckpt) {
  return ckpt ? std::string("<no error>") : llvm::toString(ckpt.takeError());
}

TEST(Checkpoint, OpensADirectoryWithOneFile) {
  TempDir dir;
  dir.write("model.safetensors", shardWith({"a", "b"}));
  auto ckpt = Checkpoint::open(dir.root());
  ASSERT_TRUE(bool(ckpt)) << llvm::toString(ckpt.takeError());
  EXPECT_TRUE((*ckpt)->lookup("a"));
  EXPECT_EQ((*ckpt)->tensors().size(), 2u);
  EXPECT_EQ((*ckpt)->directory(), dir.root());
  auto missing = (*ckpt)->require("c");
  ASSERT_FALSE(bool(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "missing tensor 'c' in checkpoint " + dir.root());
}

TEST(Checkpoint, LooksUpAcrossShards) {
  TempDir dir;
  dir.write("s1.safetensors", shardWith({"a", "b"}));
  dir.write("s2.safetensors", shardWith({"c"}));
  dir.write("model.safetensors.index.json",
            R"({"metadata": {"total_size": 6}, "weight_map": )"
            R"({"a": "s1.safetensors", "b": "s1.safetensors",)"
            R"( "c": "s2.safetensors"}})");
  auto ckpt = Checkpoint::open(dir.root());
  ASSERT_TRUE(bool(ckpt)) << llvm::toString(ckpt.takeError());
  EXPECT_EQ((*ckpt)->files().size(), 2u);
  ASSERT_TRUE((*ckpt)->lookup("c"));
  EXPECT_EQ((*ckpt)->lookup("c")->file, dir.path("s2.safetensors"));
  EXPECT_EQ((*ckpt)->lookup("a")->file, dir.path("s1.safetensors"));
  EXPECT_EQ((*ckpt)->tensors().size(), 3u);
}

TEST(Checkpoint, IndexMustMatchTheShards) {
  TempDir dir;
  dir.write("s1.safetensors", shardWith({"a"}));
  dir.write(
      "model.safetensors.index.json",
      R"({"weight_map": {"a": "s1.safetensors", "z": "s1.safetensors"}})");
  EXPECT_EQ(errorOf(Checkpoint::open(dir.root())),
            dir.path("model.safetensors.index.json") +
                ": tensor 'z' is mapped to shard 's1.safetensors', which "
                "does not contain it");
}

TEST(Checkpoint, RejectsATensorInTwoShards) {
  TempDir dir;
  dir.write("s1.safetensors", shardWith({"a"}));
  dir.write("s2.safetensors", shardWith({"a", "b"}));
  dir.write(
      "model.safetensors.index.json",
      R"({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})");
  EXPECT_EQ(errorOf(Checkpoint::open(dir.root())),
            "tensor 'a' is in both " + dir.path("s1.safetensors") + " and " +
                dir.path("s2.safetensors"));
}

TEST(Checkpoint, RejectsMalformedIndexes) {
  TempDir dir;
  std::string index = dir.write("model.safetensors.index.json", "[1, 2");
  std::string err = errorOf(Checkpoint::open(dir.root()));
  EXPECT_EQ(err.rfind(index + ": not valid JSON: ", 0), 0u) << err;
  dir.write("model.safetensors.index.json", R"({"metadata": {}})");
  EXPECT_EQ(errorOf(Checkpoint::open(dir.root())),
            index + ": missing object 'weight_map'");
  dir.write("model.safetensors.index.json", R"({"weight_map": {"a": 3}})");
  EXPECT_EQ(errorOf(Checkpoint::open(dir.root())),
            index + ": weight_map entry 'a' is not a string");
}

TEST(Checkpoint, ShardErrorsNameTheShard) {
  TempDir dir;
  std::string shard = dir.write("s1.safetensors", "abc");
  dir.write("model.safetensors.index.json",
            R"({"weight_map": {"a": "s1.safetensors"}})");
  EXPECT_EQ(errorOf(Checkpoint::open(dir.root())),
            shard + ": file is truncated: 3 bytes, expected at least 8 (the "
                    "header length)");
}

} // namespace
