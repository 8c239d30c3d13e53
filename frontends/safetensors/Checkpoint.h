//===- Checkpoint.h - a model's safetensors files ---------------*- C++ -*-===//
//
// Part of Frugal. Opens a Hugging Face checkpoint: a directory holding
// `model.safetensors`, or shards listed by `model.safetensors.index.json`,
// or a single .safetensors file. Lookups span every shard.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_CHECKPOINT_H
#define FRUGAL_FRONTENDS_SAFETENSORS_CHECKPOINT_H

#include "frontends/TensorSource.h"
#include "frontends/safetensors/SafetensorsFile.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace frugal::safetensors {

class Checkpoint : public frugal::TensorSource {
public:
  /// Opens `path`: a model directory or a .safetensors file.
  static llvm::Expected<std::unique_ptr<Checkpoint>> open(llvm::StringRef path);

  /// The tensor called `name` in any shard, or null.
  const TensorInfo *lookup(llvm::StringRef name) const;

  /// Like lookup, but a missing tensor is an error naming it and the
  /// checkpoint.
  llvm::Expected<const TensorInfo *> require(llvm::StringRef name) const;

  /// Every tensor of every shard, ordered by shard then data offset.
  std::vector<const TensorInfo *> tensors() const;

  const std::vector<std::unique_ptr<SafetensorsFile>> &files() const {
    return shards;
  }

  /// The path this checkpoint was opened from.
  llvm::StringRef path() const { return rootPath; }

  /// The directory holding the weights (and normally config.json).
  llvm::StringRef directory() const { return dir; }

  // TensorSource.
  std::optional<Info> lookupTensor(llvm::StringRef name) const override;
  llvm::Error readAsF32(llvm::StringRef name,
                        llvm::MutableArrayRef<float> out) const override;
  std::string sourcePath() const override { return rootPath; }

private:
  Checkpoint() = default;
  llvm::Error addShard(llvm::StringRef file);
  llvm::Error openIndex(llvm::StringRef indexPath);

  std::string rootPath, dir;
  std::vector<std::unique_ptr<SafetensorsFile>> shards;
  llvm::StringMap<const TensorInfo *> byName;
};

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_CHECKPOINT_H
