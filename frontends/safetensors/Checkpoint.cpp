//===- Checkpoint.cpp - a model's safetensors files -----------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Checkpoint.h"

#include "frontends/safetensors/BoundedJson.h"
#include "frontends/safetensors/Convert.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <map>

using llvm::Error;
using llvm::StringRef;

namespace frugal::safetensors {

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::Expected<std::unique_ptr<Checkpoint>> Checkpoint::open(StringRef path) {
  std::unique_ptr<Checkpoint> ckpt(new Checkpoint());
  ckpt->rootPath = path.str();
  if (!llvm::sys::fs::exists(path))
    return makeError(path + ": no such file or directory");

  if (!llvm::sys::fs::is_directory(path)) {
    ckpt->dir = llvm::sys::path::parent_path(path).str();
    if (ckpt->dir.empty())
      ckpt->dir = ".";
    if (path.ends_with(".json")) {
      if (Error err = ckpt->openIndex(path))
        return std::move(err);
    } else if (Error err = ckpt->addShard(path)) {
      return std::move(err);
    }
    return std::move(ckpt);
  }

  ckpt->dir = path.str();
  llvm::SmallString<256> single(path), index(path);
  llvm::sys::path::append(single, "model.safetensors");
  llvm::sys::path::append(index, "model.safetensors.index.json");
  if (llvm::sys::fs::exists(single)) {
    if (Error err = ckpt->addShard(single))
      return std::move(err);
  } else if (llvm::sys::fs::exists(index)) {
    if (Error err = ckpt->openIndex(index))
      return std::move(err);
  } else {
    return makeError(path + ": no model.safetensors or "
                            "model.safetensors.index.json in the directory");
  }
  return std::move(ckpt);
}

Error Checkpoint::addShard(StringRef file) {
  llvm::Expected<std::unique_ptr<SafetensorsFile>> shard =
      SafetensorsFile::open(file);
  if (!shard)
    return shard.takeError();
  for (const TensorInfo &t : (*shard)->tensors()) {
    auto [it, inserted] = byName.try_emplace(t.name, &t);
    if (!inserted)
      return makeError("tensor '" + t.name + "' is in both " +
                       it->second->file + " and " + t.file);
  }
  shards.push_back(std::move(*shard));
  return Error::success();
}

Error Checkpoint::openIndex(StringRef indexPath) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
      llvm::MemoryBuffer::getFile(indexPath);
  if (!text)
    return makeError(indexPath + ": cannot open: " + text.getError().message());
  llvm::Expected<llvm::json::Value> json =
      parseBoundedJson((*text)->getBuffer());
  if (!json)
    return makeError(indexPath +
                     ": not valid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *weightMap =
      root ? root->getObject("weight_map") : nullptr;
  if (!weightMap)
    return makeError(indexPath + ": missing object 'weight_map'");

  // Shard file → tensors it should hold, in a stable order.
  std::map<std::string, std::vector<std::string>> byShard;
  for (const auto &entry : *weightMap) {
    std::optional<StringRef> shard = entry.second.getAsString();
    if (!shard)
      return makeError(indexPath + ": weight_map entry '" + entry.first.str() +
                       "' is not a string");
    byShard[shard->str()].push_back(entry.first.str());
  }
  for (auto &[shard, names] : byShard) {
    llvm::SmallString<256> shardPath(dir);
    llvm::sys::path::append(shardPath, shard);
    if (!llvm::sys::fs::exists(shardPath)) {
      llvm::sort(names);
      return makeError(indexPath + ": shard '" + shard + "' (holding '" +
                       names.front() + "') not found: " + shardPath);
    }
    if (Error err = addShard(shardPath))
      return err;
    const SafetensorsFile &file = *shards.back();
    for (const std::string &name : names)
      if (!file.lookup(name))
        return makeError(indexPath + ": tensor '" + name +
                         "' is mapped to shard '" + shard +
                         "', which does not contain it");
  }
  return Error::success();
}

const TensorInfo *Checkpoint::lookup(StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : it->second;
}

llvm::Expected<const TensorInfo *> Checkpoint::require(StringRef name) const {
  if (const TensorInfo *t = lookup(name))
    return t;
  return makeError("missing tensor '" + name + "' in checkpoint " + rootPath);
}

std::vector<const TensorInfo *> Checkpoint::tensors() const {
  std::vector<const TensorInfo *> all;
  for (const auto &shard : shards)
    for (const TensorInfo &t : shard->tensors())
      all.push_back(&t);
  return all;
}

} // namespace frugal::safetensors

namespace frugal::safetensors {

std::optional<frugal::TensorSource::Info>
Checkpoint::lookupTensor(StringRef name) const {
  const TensorInfo *t = lookup(name);
  if (!t)
    return std::nullopt;
  Info info;
  info.shape.assign(t->shape.begin(), t->shape.end());
  info.dtype = dtypeName(t->dtype).str();
  info.convertibleToF32 = isConvertibleToF32(t->dtype);
  info.file = t->file;
  return info;
}

llvm::Error Checkpoint::readAsF32(StringRef name,
                                  llvm::MutableArrayRef<float> out) const {
  llvm::Expected<const TensorInfo *> t = require(name);
  if (!t)
    return t.takeError();
  return frugal::safetensors::readAsF32(**t, out);
}

} // namespace frugal::safetensors
