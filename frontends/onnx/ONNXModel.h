//===- ONNXModel.h - the decoded subset of an ONNX model --------*- C++ -*-===//
//
// Part of Frugal. Decodes the parts of an ONNX ModelProto the importer
// uses: opset imports, and the main graph's nodes, attributes, initializers
// and value infos. The .onnx file and every external data file are
// memory-mapped; tensor data are views into those mappings (nothing is read
// until someone looks at the bytes). Only values that protobuf stores as
// varints, or as unpacked repeated fields, are decoded into owned storage.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_ONNXMODEL_H
#define FRUGAL_FRONTENDS_ONNX_ONNXMODEL_H

#include "frontends/TensorSource.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace frugal::onnx {

/// TensorProto.DataType values.
enum class DataType : int32_t {
  Undefined = 0,
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
  Complex64 = 14,
  Complex128 = 15,
  BFloat16 = 16,
  Float8E4M3FN = 17,
  Float8E4M3FNUZ = 18,
  Float8E5M2 = 19,
  Float8E5M2FNUZ = 20,
};

/// The spec's name of a data type ("FLOAT", "INT64", ...), or "unknown".
llvm::StringRef dataTypeName(int32_t type);

/// Bytes per element of a type whose tensors Frugal can hold, or 0 for the
/// others (strings, complex, sub-byte and unknown types).
unsigned dataTypeSize(int32_t type);

/// "FLOAT, UINT8, ..." for error messages.
std::string supportedDataTypeList();

/// One tensor: an initializer, or the value of a tensor attribute.
struct ONNXTensor {
  std::string name;
  DataType dataType = DataType::Undefined;
  llvm::SmallVector<int64_t, 4> dims;
  /// numElements() * dataTypeSize(dataType) bytes, little-endian: a view
  /// into the .onnx mapping, an external data file's mapping, or storage
  /// the model owns (values decoded from varints).
  llvm::ArrayRef<uint8_t> data;
  /// The file holding `data` (the .onnx file or the external data file).
  std::string file;
  /// Whether the data lives in an external file, and where.
  bool external = false;
  uint64_t externalOffset = 0;

  int64_t numElements() const;
};

/// AttributeProto.AttributeType values the importer reads.
enum class AttrType : int32_t {
  Undefined = 0,
  Float = 1,
  Int = 2,
  String = 3,
  Tensor = 4,
  Graph = 5,
  Floats = 6,
  Ints = 7,
  Strings = 8,
};

struct ONNXAttribute {
  std::string name;
  AttrType type = AttrType::Undefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::optional<ONNXTensor> t;
  llvm::SmallVector<float, 4> floats;
  llvm::SmallVector<int64_t, 4> ints;
  std::vector<std::string> strings;
};

struct ONNXNode {
  std::string name, opType, domain;
  /// Empty names stand for omitted optional inputs and outputs.
  llvm::SmallVector<std::string, 4> inputs, outputs;
  std::vector<ONNXAttribute> attributes;

  /// The attribute called `name`, or null.
  const ONNXAttribute *attr(llvm::StringRef name) const;
};

/// One dimension of a declared shape: a size, a symbolic name, or unknown.
struct ONNXDim {
  std::optional<int64_t> value;
  std::string param;
};

/// A ValueInfoProto whose type is a tensor type.
struct ONNXValueInfo {
  std::string name;
  int32_t elemType = 0;
  /// False when the type has no shape (not even a rank).
  bool hasShape = false;
  llvm::SmallVector<ONNXDim, 4> dims;
};

struct ONNXGraph {
  std::string name;
  std::vector<ONNXNode> nodes;
  std::vector<ONNXTensor> initializers;
  std::vector<ONNXValueInfo> inputs, outputs, valueInfo;
};

struct OpsetImport {
  /// "" (or "ai.onnx") is the default domain.
  std::string domain;
  int64_t version = 0;
};

/// A decoded model. As a TensorSource it serves its initializers, the
/// tensors that `llm.weight` ops of an imported module name.
class ONNXModel : public frugal::TensorSource {
public:
  /// Maps and decodes the model at `path`; external data is looked up next
  /// to it.
  static llvm::Expected<std::unique_ptr<ONNXModel>> open(llvm::StringRef path);

  /// Decodes the bytes of `buffer`, which the model keeps alive. Errors name
  /// `buffer`'s identifier as the file; external data locations are
  /// relative to `directory`.
  static llvm::Expected<std::unique_ptr<ONNXModel>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef directory);

  /// Maps and decodes a file holding one serialized TensorProto (as the
  /// ONNX backend tests store their inputs and outputs). The result holds
  /// it as its only initializer; its graph has no nodes and no opsets.
  static llvm::Expected<std::unique_ptr<ONNXModel>>
  openTensorProto(llvm::StringRef path);

  int64_t irVersion() const { return ir; }
  llvm::ArrayRef<OpsetImport> opsetImports() const { return opsets; }
  /// The opset version imported for `domain` ("" and "ai.onnx" are the
  /// same), or nullopt.
  std::optional<int64_t> opsetVersion(llvm::StringRef domain) const;

  const ONNXGraph &graph() const { return mainGraph; }

  /// The initializer called `name`, or null.
  const ONNXTensor *initializer(llvm::StringRef name) const;
  /// Like initializer, but a missing tensor is an error naming the model.
  llvm::Expected<const ONNXTensor *> require(llvm::StringRef name) const;

  // TensorSource: `llm.weight` names are initializer names; dtypes are
  // spelled as in the ONNX spec ("FLOAT", "FLOAT16", ...).
  //
  // The uint8 B initializer of a com.microsoft MatMulNBits node is served
  // as the logical [N, K] weight it quantizes (MatMulNBits.h): readAsF32
  // dequantizes it and readPacked transcodes it into #llm.quant storage.
  std::optional<Info> lookupTensor(llvm::StringRef name) const override;
  llvm::Error readAsF32(llvm::StringRef name,
                        llvm::MutableArrayRef<float> out) const override;
  llvm::Expected<bool> readPacked(llvm::StringRef name,
                                  mlir::llm::QuantAttr quant, int64_t rows,
                                  int64_t cols,
                                  llvm::MutableArrayRef<uint8_t> out) const override;
  std::string sourcePath() const override { return filePath; }

  llvm::StringRef path() const { return filePath; }
  llvm::StringRef directory() const { return dir; }

private:
  friend class ModelDecoder;
  ONNXModel() = default;

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::string filePath, dir;
  int64_t ir = 0;
  std::vector<OpsetImport> opsets;
  ONNXGraph mainGraph;
  llvm::StringMap<size_t> initializerIndex;
  /// External data files by location, mapped once each.
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> externalFiles;
  /// Tensor values decoded out of varints or unpacked fields.
  std::vector<std::unique_ptr<std::vector<uint8_t>>> ownedData;
};

/// Converts every element of `tensor` (FLOAT, FLOAT16, BFLOAT16 or DOUBLE)
/// into `out`, which must hold exactly tensor.numElements() floats. Errors
/// name the tensor and its file.
llvm::Error readAsF32(const ONNXTensor &tensor,
                      llvm::MutableArrayRef<float> out);

/// Whether readAsF32 converts this type.
bool isConvertibleToF32(DataType type);

/// Reads element `index` of an integer or bool tensor as int64.
int64_t readInteger(const ONNXTensor &tensor, int64_t index);

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_ONNXMODEL_H
