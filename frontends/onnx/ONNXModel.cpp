//===- ONNXModel.cpp - the decoded subset of an ONNX model ----------------===//
//
// Part of Frugal. Field numbers follow onnx.proto (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto,
// TensorShapeProto); fields the importer does not need are skipped.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/ONNXModel.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "frontends/onnx/MatMulNBits.h"

#include "frontends/onnx/ProtoReader.h"
#include "frontends/safetensors/Convert.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

#include <cstring>

using llvm::ArrayRef;
using llvm::Error;
using llvm::StringRef;

namespace frugal::onnx {

//===----------------------------------------------------------------------===//
// Data types
//===----------------------------------------------------------------------===//

namespace {
struct DataTypeInfo {
  DataType type;
  const char *name;
  unsigned size; // 0: not representable
};
constexpr DataTypeInfo kDataTypes[] = {
    {DataType::Undefined, "UNDEFINED", 0},
    {DataType::Float, "FLOAT", 4},
    {DataType::UInt8, "UINT8", 1},
    {DataType::Int8, "INT8", 1},
    {DataType::UInt16, "UINT16", 2},
    {DataType::Int16, "INT16", 2},
    {DataType::Int32, "INT32", 4},
    {DataType::Int64, "INT64", 8},
    {DataType::String, "STRING", 0},
    {DataType::Bool, "BOOL", 1},
    {DataType::Float16, "FLOAT16", 2},
    {DataType::Double, "DOUBLE", 8},
    {DataType::UInt32, "UINT32", 4},
    {DataType::UInt64, "UINT64", 8},
    {DataType::Complex64, "COMPLEX64", 0},
    {DataType::Complex128, "COMPLEX128", 0},
    {DataType::BFloat16, "BFLOAT16", 2},
    {DataType::Float8E4M3FN, "FLOAT8E4M3FN", 1},
    {DataType::Float8E4M3FNUZ, "FLOAT8E4M3FNUZ", 1},
    {DataType::Float8E5M2, "FLOAT8E5M2", 1},
    {DataType::Float8E5M2FNUZ, "FLOAT8E5M2FNUZ", 1},
};
} // namespace

StringRef dataTypeName(int32_t type) {
  if (type >= 0 && size_t(type) < std::size(kDataTypes))
    return kDataTypes[type].name;
  return "unknown";
}

unsigned dataTypeSize(int32_t type) {
  if (type >= 0 && size_t(type) < std::size(kDataTypes))
    return kDataTypes[type].size;
  return 0;
}

std::string supportedDataTypeList() {
  std::string list;
  for (const DataTypeInfo &info : kDataTypes) {
    if (!info.size)
      continue;
    if (!list.empty())
      list += ", ";
    list += info.name;
  }
  return list;
}

int64_t ONNXTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

const ONNXAttribute *ONNXNode::attr(StringRef attrName) const {
  for (const ONNXAttribute &a : attributes)
    if (a.name == attrName)
      return &a;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Decoder
//===----------------------------------------------------------------------===//

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static StringRef asString(ArrayRef<uint8_t> bytes) {
  return StringRef(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

/// Decodes messages into an ONNXModel. `where` describes the message being
/// decoded ("graph.node[3] 'attn'") for error messages.
class ModelDecoder {
public:
  explicit ModelDecoder(ONNXModel &model) : m(model) {}

  Error decodeModel(ArrayRef<uint8_t> bytes);
  /// Decodes `bytes` (the whole buffer) as one TensorProto.
  Error decodeStandaloneTensor(ArrayRef<uint8_t> bytes) {
    ProtoField f;
    f.type = WireType::LengthDelimited;
    f.bytes = bytes;
    m.mainGraph.initializers.emplace_back();
    return decodeTensor(f, m.mainGraph.initializers.back(), "TensorProto");
  }

private:
  Error decodeGraph(const ProtoField &f);
  Error decodeNode(const ProtoField &f, ONNXNode &node,
                   const std::string &where);
  Error decodeAttribute(const ProtoField &f, ONNXAttribute &attr,
                        const std::string &where);
  Error decodeTensor(const ProtoField &f, ONNXTensor &tensor,
                     const std::string &where);
  Error decodeValueInfo(const ProtoField &f, ONNXValueInfo &info,
                        const std::string &where);
  Error decodeTypeProto(const ProtoField &f, ONNXValueInfo &info,
                        const std::string &where);
  Error decodeShape(const ProtoField &f, ONNXValueInfo &info,
                    const std::string &where);
  Error decodeStringEntry(const ProtoField &f, std::string &key,
                          std::string &value, const std::string &where);
  Error resolveExternal(ONNXTensor &tensor,
                        ArrayRef<std::pair<std::string, std::string>> entries,
                        const std::string &where);

  /// `file: where: msg`.
  Error fail(const std::string &where, const llvm::Twine &msg) {
    return makeError(m.filePath + ": " + where + ": " + msg);
  }
  /// Wraps a wire-format error with the message being decoded.
  Error wrap(const std::string &where, Error err) {
    return fail(where, llvm::toString(std::move(err)));
  }
  /// Checks that a known field has the wire type its declaration implies.
  Error expectType(const ProtoField &f, WireType type, StringRef fieldName,
                   StringRef message, const std::string &where) {
    if (f.type == type)
      return Error::success();
    return fail(where, llvm::formatv("field '{0}' ({1}) of {2} at byte {3} "
                                     "has wire type {4}, expected {5}",
                                     fieldName, f.number, message, f.offset,
                                     wireTypeName(f.type), wireTypeName(type)));
  }
  /// Repeated scalars may be packed (length-delimited) or not.
  Error expectRepeated(const ProtoField &f, WireType type, StringRef fieldName,
                       StringRef message, const std::string &where) {
    if (f.type == type || f.type == WireType::LengthDelimited)
      return Error::success();
    return fail(where, llvm::formatv("field '{0}' ({1}) of {2} at byte {3} "
                                     "has wire type {4}, expected {5} or "
                                     "packed",
                                     fieldName, f.number, message, f.offset,
                                     wireTypeName(f.type), wireTypeName(type)));
  }
  /// Skips an unknown field (groups included).
  Error skip(ProtoReader &reader, const ProtoField &f,
             const std::string &where) {
    if (f.type == WireType::StartGroup)
      if (Error err = reader.skipGroup(f))
        return wrap(where, std::move(err));
    if (f.type == WireType::EndGroup)
      return fail(where, llvm::formatv("unexpected end-group tag of field {0} "
                                       "at byte {1}",
                                       f.number, f.offset));
    return Error::success();
  }
  /// Offset of a field's payload in the .onnx buffer.
  uint64_t payloadOffset(const ProtoField &f) const {
    return uint64_t(f.bytes.data() - bufferStart());
  }
  const uint8_t *bufferStart() const {
    return reinterpret_cast<const uint8_t *>(m.buffer->getBufferStart());
  }
  ArrayRef<uint8_t> own(std::vector<uint8_t> bytes) {
    m.ownedData.push_back(
        std::make_unique<std::vector<uint8_t>>(std::move(bytes)));
    return *m.ownedData.back();
  }

  ONNXModel &m;
};

Error ModelDecoder::decodeModel(ArrayRef<uint8_t> bytes) {
  ProtoReader reader(bytes);
  const std::string where = "ModelProto";
  bool sawGraph = false;
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    switch (f.number) {
    case 1: // ir_version
      if (Error err = expectType(f, WireType::Varint, "ir_version",
                                 "ModelProto", where))
        return err;
      m.ir = int64_t(f.value);
      break;
    case 8: { // opset_import
      if (Error err = expectType(f, WireType::LengthDelimited, "opset_import",
                                 "ModelProto", where))
        return err;
      OpsetImport opset;
      std::string at = llvm::formatv("opset_import[{0}]", m.opsets.size());
      ProtoReader sub(f.bytes, payloadOffset(f));
      while (!sub.atEnd()) {
        ProtoField g;
        if (Error err = sub.next(g))
          return wrap(at, std::move(err));
        if (g.number == 1) {
          if (Error err = expectType(g, WireType::LengthDelimited, "domain",
                                     "OperatorSetIdProto", at))
            return err;
          opset.domain = asString(g.bytes).str();
        } else if (g.number == 2) {
          if (Error err = expectType(g, WireType::Varint, "version",
                                     "OperatorSetIdProto", at))
            return err;
          opset.version = int64_t(g.value);
        } else if (Error err = skip(sub, g, at)) {
          return err;
        }
      }
      m.opsets.push_back(std::move(opset));
      break;
    }
    case 7: // graph
      if (Error err = expectType(f, WireType::LengthDelimited, "graph",
                                 "ModelProto", where))
        return err;
      if (Error err = decodeGraph(f))
        return err;
      sawGraph = true;
      break;
    default:
      if (Error err = skip(reader, f, where))
        return err;
    }
  }
  if (!sawGraph)
    return fail(where, "the model has no graph (field 7)");
  return Error::success();
}

Error ModelDecoder::decodeGraph(const ProtoField &gf) {
  ONNXGraph &g = m.mainGraph;
  const std::string where = "graph";
  ProtoReader reader(gf.bytes, payloadOffset(gf));
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    switch (f.number) {
    case 1: { // node
      if (Error err = expectType(f, WireType::LengthDelimited, "node",
                                 "GraphProto", where))
        return err;
      g.nodes.emplace_back();
      std::string at = llvm::formatv("graph.node[{0}]", g.nodes.size() - 1);
      if (Error err = decodeNode(f, g.nodes.back(), at))
        return err;
      break;
    }
    case 2: // name
      if (Error err = expectType(f, WireType::LengthDelimited, "name",
                                 "GraphProto", where))
        return err;
      g.name = asString(f.bytes).str();
      break;
    case 5: { // initializer
      if (Error err = expectType(f, WireType::LengthDelimited, "initializer",
                                 "GraphProto", where))
        return err;
      g.initializers.emplace_back();
      std::string at =
          llvm::formatv("graph.initializer[{0}]", g.initializers.size() - 1);
      if (Error err = decodeTensor(f, g.initializers.back(), at))
        return err;
      break;
    }
    case 11:   // input
    case 12:   // output
    case 13: { // value_info
      StringRef fieldName = f.number == 11   ? "input"
                            : f.number == 12 ? "output"
                                             : "value_info";
      if (Error err = expectType(f, WireType::LengthDelimited, fieldName,
                                 "GraphProto", where))
        return err;
      std::vector<ONNXValueInfo> &list = f.number == 11   ? g.inputs
                                         : f.number == 12 ? g.outputs
                                                          : g.valueInfo;
      list.emplace_back();
      std::string at =
          llvm::formatv("graph.{0}[{1}]", fieldName, list.size() - 1);
      if (Error err = decodeValueInfo(f, list.back(), at))
        return err;
      break;
    }
    default:
      if (Error err = skip(reader, f, where))
        return err;
    }
  }
  for (size_t i = 0; i < g.initializers.size(); ++i) {
    auto [it, inserted] =
        m.initializerIndex.try_emplace(g.initializers[i].name, i);
    if (!inserted)
      return fail(where, "initializer '" + g.initializers[i].name +
                             "' is defined twice");
  }
  return Error::success();
}

Error ModelDecoder::decodeNode(const ProtoField &nf, ONNXNode &node,
                               const std::string &where) {
  ProtoReader reader(nf.bytes, payloadOffset(nf));
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    StringRef fieldName;
    switch (f.number) {
    case 1:
      fieldName = "input";
      break;
    case 2:
      fieldName = "output";
      break;
    case 3:
      fieldName = "name";
      break;
    case 4:
      fieldName = "op_type";
      break;
    case 7:
      fieldName = "domain";
      break;
    case 5:
      fieldName = "attribute";
      break;
    default:
      if (Error err = skip(reader, f, where))
        return err;
      continue;
    }
    if (Error err = expectType(f, WireType::LengthDelimited, fieldName,
                               "NodeProto", where))
      return err;
    StringRef text = asString(f.bytes);
    switch (f.number) {
    case 1:
      node.inputs.push_back(text.str());
      break;
    case 2:
      node.outputs.push_back(text.str());
      break;
    case 3:
      node.name = text.str();
      break;
    case 4:
      node.opType = text.str();
      break;
    case 7:
      node.domain = text.str();
      break;
    case 5: {
      node.attributes.emplace_back();
      std::string at = llvm::formatv("{0}.attribute[{1}]", where,
                                     node.attributes.size() - 1);
      if (Error err = decodeAttribute(f, node.attributes.back(), at))
        return err;
      break;
    }
    }
  }
  return Error::success();
}

Error ModelDecoder::decodeAttribute(const ProtoField &af, ONNXAttribute &attr,
                                    const std::string &where) {
  ProtoReader reader(af.bytes, payloadOffset(af));
  const StringRef msg = "AttributeProto";
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    switch (f.number) {
    case 1: // name
      if (Error err =
              expectType(f, WireType::LengthDelimited, "name", msg, where))
        return err;
      attr.name = asString(f.bytes).str();
      break;
    case 20: // type
      if (Error err = expectType(f, WireType::Varint, "type", msg, where))
        return err;
      attr.type = AttrType(int32_t(f.value));
      break;
    case 2: // f
      if (Error err = expectType(f, WireType::Fixed32, "f", msg, where))
        return err;
      attr.f = llvm::bit_cast<float>(uint32_t(f.value));
      break;
    case 3: // i
      if (Error err = expectType(f, WireType::Varint, "i", msg, where))
        return err;
      attr.i = int64_t(f.value);
      break;
    case 4: // s
      if (Error err = expectType(f, WireType::LengthDelimited, "s", msg, where))
        return err;
      attr.s = asString(f.bytes).str();
      break;
    case 5: // t
      if (Error err = expectType(f, WireType::LengthDelimited, "t", msg, where))
        return err;
      attr.t.emplace();
      if (Error err = decodeTensor(f, *attr.t, where + ".t"))
        return err;
      break;
    case 7: // floats
      if (Error err =
              expectRepeated(f, WireType::Fixed32, "floats", msg, where))
        return err;
      if (f.type == WireType::Fixed32) {
        attr.floats.push_back(llvm::bit_cast<float>(uint32_t(f.value)));
      } else {
        if (f.bytes.size() % 4)
          return fail(where, llvm::formatv("packed 'floats' at byte {0} holds "
                                           "{1} bytes, not a multiple of 4",
                                           f.offset, f.bytes.size()));
        for (size_t i = 0; i < f.bytes.size(); i += 4)
          attr.floats.push_back(llvm::bit_cast<float>(
              llvm::support::endian::read32le(f.bytes.data() + i)));
      }
      break;
    case 8: { // ints
      if (Error err = expectRepeated(f, WireType::Varint, "ints", msg, where))
        return err;
      llvm::SmallVector<uint64_t, 8> values;
      if (Error err = appendVarints(f, values))
        return wrap(where, std::move(err));
      for (uint64_t v : values)
        attr.ints.push_back(int64_t(v));
      break;
    }
    case 9: // strings
      if (Error err =
              expectType(f, WireType::LengthDelimited, "strings", msg, where))
        return err;
      attr.strings.push_back(asString(f.bytes).str());
      break;
    default:
      if (Error err = skip(reader, f, where))
        return err;
    }
  }
  return Error::success();
}

Error ModelDecoder::decodeStringEntry(const ProtoField &ef, std::string &key,
                                      std::string &value,
                                      const std::string &where) {
  ProtoReader reader(ef.bytes, payloadOffset(ef));
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    if (f.number == 1 || f.number == 2) {
      if (Error err = expectType(f, WireType::LengthDelimited,
                                 f.number == 1 ? "key" : "value",
                                 "StringStringEntryProto", where))
        return err;
      (f.number == 1 ? key : value) = asString(f.bytes).str();
    } else if (Error err = skip(reader, f, where)) {
      return err;
    }
  }
  return Error::success();
}

namespace {
/// Where a tensor's values were found while decoding it.
struct TensorPayload {
  /// raw_data, if present.
  std::optional<ArrayRef<uint8_t>> raw;
  /// float_data / double_data: packed chunks (views) and unpacked values.
  llvm::SmallVector<ArrayRef<uint8_t>, 1> fixedChunks;
  unsigned fixedSize = 0; // 4 or 8
  StringRef fixedField;
  std::vector<uint8_t> fixedLoose; // unpacked values, little-endian
  /// int32_data / int64_data / uint64_data: decoded varints.
  llvm::SmallVector<uint64_t, 0> varints;
  StringRef varintField;
  bool hasExternalLocation = false;
  std::vector<std::pair<std::string, std::string>> external;
};
} // namespace

Error ModelDecoder::decodeTensor(const ProtoField &tf, ONNXTensor &tensor,
                                 const std::string &whereIn) {
  ProtoReader reader(tf.bytes, payloadOffset(tf));
  const StringRef msg = "TensorProto";
  std::string where = whereIn;
  TensorPayload payload;
  int32_t dataType = 0;
  bool externalLocation = false;

  auto noteFixed = [&](const ProtoField &f, StringRef fieldName,
                       unsigned size) -> Error {
    if (!payload.fixedField.empty() && payload.fixedField != fieldName)
      return fail(where, "both '" + payload.fixedField + "' and '" + fieldName +
                             "' hold data");
    payload.fixedField = fieldName;
    payload.fixedSize = size;
    if (f.type == WireType::LengthDelimited) {
      if (f.bytes.size() % size)
        return fail(where,
                    llvm::formatv("packed '{0}' at byte {1} holds {2} "
                                  "bytes, not a multiple of {3}",
                                  fieldName, f.offset, f.bytes.size(), size));
      payload.fixedChunks.push_back(f.bytes);
    } else {
      payload.fixedLoose.insert(payload.fixedLoose.end(), f.bytes.begin(),
                                f.bytes.end());
      // An empty chunk marks where the loose values go in field order.
      payload.fixedChunks.push_back(ArrayRef<uint8_t>());
    }
    return Error::success();
  };
  auto noteVarints = [&](const ProtoField &f, StringRef fieldName) -> Error {
    if (!payload.varintField.empty() && payload.varintField != fieldName)
      return fail(where, "both '" + payload.varintField + "' and '" +
                             fieldName + "' hold data");
    payload.varintField = fieldName;
    if (Error err = appendVarints(f, payload.varints))
      return wrap(where, std::move(err));
    return Error::success();
  };

  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    switch (f.number) {
    case 1: { // dims
      if (Error err = expectRepeated(f, WireType::Varint, "dims", msg, where))
        return err;
      llvm::SmallVector<uint64_t, 4> dims;
      if (Error err = appendVarints(f, dims))
        return wrap(where, std::move(err));
      for (uint64_t d : dims)
        tensor.dims.push_back(int64_t(d));
      break;
    }
    case 2: // data_type
      if (Error err = expectType(f, WireType::Varint, "data_type", msg, where))
        return err;
      dataType = int32_t(f.value);
      break;
    case 8: // name
      if (Error err =
              expectType(f, WireType::LengthDelimited, "name", msg, where))
        return err;
      tensor.name = asString(f.bytes).str();
      where = whereIn + " '" + tensor.name + "'";
      break;
    case 9: // raw_data
      if (Error err =
              expectType(f, WireType::LengthDelimited, "raw_data", msg, where))
        return err;
      payload.raw = f.bytes;
      break;
    case 4: // float_data
      if (Error err =
              expectRepeated(f, WireType::Fixed32, "float_data", msg, where))
        return err;
      if (Error err = noteFixed(f, "float_data", 4))
        return err;
      break;
    case 10: // double_data
      if (Error err =
              expectRepeated(f, WireType::Fixed64, "double_data", msg, where))
        return err;
      if (Error err = noteFixed(f, "double_data", 8))
        return err;
      break;
    case 5:    // int32_data
    case 7:    // int64_data
    case 11: { // uint64_data
      StringRef fieldName = f.number == 5   ? "int32_data"
                            : f.number == 7 ? "int64_data"
                                            : "uint64_data";
      if (Error err =
              expectRepeated(f, WireType::Varint, fieldName, msg, where))
        return err;
      if (Error err = noteVarints(f, fieldName))
        return err;
      break;
    }
    case 13: { // external_data
      if (Error err = expectType(f, WireType::LengthDelimited, "external_data",
                                 msg, where))
        return err;
      std::string key, value;
      if (Error err = decodeStringEntry(f, key, value, where))
        return err;
      payload.external.emplace_back(std::move(key), std::move(value));
      break;
    }
    case 14: // data_location
      if (Error err =
              expectType(f, WireType::Varint, "data_location", msg, where))
        return err;
      externalLocation = f.value == 1;
      break;
    default:
      if (Error err = skip(reader, f, where))
        return err;
    }
  }

  // Type and size checks.
  unsigned elemSize = dataTypeSize(dataType);
  if (!elemSize)
    return fail(where, llvm::formatv("unsupported data_type {0} ({1}); "
                                     "supported: {2}",
                                     dataType, dataTypeName(dataType),
                                     supportedDataTypeList()));
  tensor.dataType = DataType(dataType);
  tensor.file = m.filePath;
  uint64_t expected = elemSize;
  bool overflow = false;
  for (int64_t d : tensor.dims) {
    if (d < 0)
      return fail(where, llvm::formatv("negative dimension {0} in dims", d));
    bool step = false;
    expected = llvm::SaturatingMultiply<uint64_t>(expected, uint64_t(d), &step);
    overflow |= step;
  }
  auto shapeText = [&] {
    std::string s = "[";
    llvm::interleave(
        tensor.dims, [&](int64_t d) { s += std::to_string(d); },
        [&] { s += ", "; });
    return s + "]";
  };
  auto sizeMismatch = [&](StringRef source, uint64_t found) {
    return fail(where,
                llvm::formatv("dims {0} of {1} need {2} bytes, but {3} holds "
                              "{4}",
                              shapeText(), dataTypeName(dataType),
                              overflow ? std::string("more than 2^64")
                                       : std::to_string(expected),
                              source, found));
  };

  unsigned sources = unsigned(payload.raw.has_value()) +
                     unsigned(!payload.fixedChunks.empty()) +
                     unsigned(!payload.varints.empty()) +
                     unsigned(externalLocation || !payload.external.empty());
  if (sources > 1)
    return fail(where, "data is given by more than one of raw_data, "
                       "external_data and the typed *_data fields");

  if (externalLocation || !payload.external.empty()) {
    if (!externalLocation)
      return fail(where, "external_data entries without data_location = "
                         "EXTERNAL");
    if (overflow)
      return sizeMismatch("the tensor", 0);
    return resolveExternal(tensor, payload.external, where);
  }
  if (payload.raw) {
    if (overflow || payload.raw->size() != expected)
      return sizeMismatch("raw_data", payload.raw->size());
    tensor.data = *payload.raw;
    return Error::success();
  }
  if (!payload.fixedChunks.empty()) {
    bool isFloat = payload.fixedSize == 4;
    if ((isFloat && tensor.dataType != DataType::Float) ||
        (!isFloat && tensor.dataType != DataType::Double))
      return fail(where, payload.fixedField + " holds the data of a " +
                             dataTypeName(dataType) + " tensor");
    uint64_t found = payload.fixedLoose.size();
    for (ArrayRef<uint8_t> chunk : payload.fixedChunks)
      found += chunk.size();
    if (overflow || found != expected)
      return sizeMismatch(payload.fixedField, found);
    if (payload.fixedChunks.size() == 1 && payload.fixedLoose.empty()) {
      // One packed run of little-endian values: view it in place.
      tensor.data = payload.fixedChunks.front();
      return Error::success();
    }
    std::vector<uint8_t> bytes;
    bytes.reserve(size_t(found));
    size_t loose = 0;
    for (ArrayRef<uint8_t> chunk : payload.fixedChunks) {
      if (chunk.empty()) {
        bytes.insert(bytes.end(), payload.fixedLoose.begin() + loose,
                     payload.fixedLoose.begin() + loose + payload.fixedSize);
        loose += payload.fixedSize;
      } else {
        bytes.insert(bytes.end(), chunk.begin(), chunk.end());
      }
    }
    tensor.data = own(std::move(bytes));
    return Error::success();
  }
  if (!payload.varints.empty()) {
    // int64_data: INT64; uint64_data: UINT32, UINT64; int32_data: every
    // other integer, bool, 16-bit and 8-bit float type (as raw bits).
    DataType t = tensor.dataType;
    bool ok = payload.varintField == "int64_data" ? t == DataType::Int64
              : payload.varintField == "uint64_data"
                  ? (t == DataType::UInt32 || t == DataType::UInt64)
                  : (t != DataType::Int64 && t != DataType::UInt32 &&
                     t != DataType::UInt64 && t != DataType::Float &&
                     t != DataType::Double);
    if (!ok)
      return fail(where, payload.varintField + " holds the data of a " +
                             dataTypeName(dataType) + " tensor");
    uint64_t found = uint64_t(payload.varints.size()) * elemSize;
    if (overflow || found != expected)
      return fail(where,
                  llvm::formatv("dims {0} have {1} elements, but {2} holds {3}",
                                shapeText(),
                                overflow ? std::string("more than 2^64")
                                         : std::to_string(expected / elemSize),
                                payload.varintField, payload.varints.size()));
    std::vector<uint8_t> bytes(static_cast<size_t>(found));
    for (size_t i = 0; i < payload.varints.size(); ++i) {
      uint64_t v = payload.varints[i];
      for (unsigned b = 0; b < elemSize; ++b)
        bytes[i * elemSize + b] = uint8_t(v >> (8 * b));
    }
    tensor.data = own(std::move(bytes));
    return Error::success();
  }
  // No data: only an empty tensor is valid.
  if (overflow || expected != 0)
    return sizeMismatch("the tensor (no data field)", 0);
  return Error::success();
}

Error ModelDecoder::resolveExternal(
    ONNXTensor &tensor, ArrayRef<std::pair<std::string, std::string>> entries,
    const std::string &where) {
  std::string location;
  std::optional<uint64_t> offset, length;
  for (const auto &[key, value] : entries) {
    if (key == "location") {
      location = value;
    } else if (key == "offset" || key == "length") {
      uint64_t n = 0;
      if (StringRef(value).getAsInteger(10, n))
        return fail(where, "external_data '" + key +
                               "' is not a "
                               "non-negative integer: '" +
                               value + "'");
      (key == "offset" ? offset : length) = n;
    }
  }
  if (location.empty())
    return fail(where, "external_data has no 'location'");
  // Locations are relative to the model's directory and stay inside it.
  StringRef loc(location);
  if (llvm::sys::path::is_absolute(loc) ||
      llvm::any_of(llvm::make_range(llvm::sys::path::begin(loc),
                                    llvm::sys::path::end(loc)),
                   [](StringRef c) { return c == ".."; }))
    return fail(where, "external data location '" + location +
                           "' must be a relative path inside the model's "
                           "directory");
  llvm::SmallString<256> fullPath(m.dir);
  llvm::sys::path::append(fullPath, location);

  auto it = m.externalFiles.find(location);
  if (it == m.externalFiles.end()) {
    if (!llvm::sys::fs::exists(fullPath))
      return fail(where, "external data file '" + location +
                             "' not found: " + fullPath);
    // Without a null terminator MemoryBuffer maps the file rather than
    // reading it; pages are only touched when a tensor's bytes are read.
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
        llvm::MemoryBuffer::getFile(fullPath, /*IsText=*/false,
                                    /*RequiresNullTerminator=*/false);
    if (!file)
      return fail(where, "cannot open external data file '" + location +
                             "': " + file.getError().message());
    it = m.externalFiles.try_emplace(location, std::move(*file)).first;
  }
  const llvm::MemoryBuffer &file = *it->second;
  uint64_t fileSize = file.getBufferSize();
  unsigned elemSize = dataTypeSize(int32_t(tensor.dataType));
  uint64_t expected = uint64_t(tensor.numElements()) * elemSize;
  uint64_t begin = offset.value_or(0);
  uint64_t size = length.value_or(begin <= fileSize ? fileSize - begin : 0);
  if (begin > fileSize || size > fileSize - begin)
    return fail(where,
                llvm::formatv("external data offset {0} + length {1} is out "
                              "of range of '{2}' ({3} bytes)",
                              begin, size, location, fileSize));
  if (size != expected)
    return fail(where, llvm::formatv("external data length {0} in '{1}' does "
                                     "not match the {2} bytes of dims "
                                     "of {3}",
                                     size, location, expected,
                                     dataTypeName(int32_t(tensor.dataType))));
  tensor.data = ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(file.getBufferStart()) + begin,
      size_t(size));
  tensor.file = std::string(fullPath);
  tensor.external = true;
  tensor.externalOffset = begin;
  return Error::success();
}

Error ModelDecoder::decodeValueInfo(const ProtoField &vf, ONNXValueInfo &info,
                                    const std::string &whereIn) {
  ProtoReader reader(vf.bytes, payloadOffset(vf));
  std::string where = whereIn;
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    if (f.number == 1) {
      if (Error err = expectType(f, WireType::LengthDelimited, "name",
                                 "ValueInfoProto", where))
        return err;
      info.name = asString(f.bytes).str();
      where = whereIn + " '" + info.name + "'";
    } else if (f.number == 2) {
      if (Error err = expectType(f, WireType::LengthDelimited, "type",
                                 "ValueInfoProto", where))
        return err;
      if (Error err = decodeTypeProto(f, info, where))
        return err;
    } else if (Error err = skip(reader, f, where)) {
      return err;
    }
  }
  return Error::success();
}

Error ModelDecoder::decodeTypeProto(const ProtoField &tf, ONNXValueInfo &info,
                                    const std::string &where) {
  // Only tensor_type (1) is read; sequences, maps and optionals are skipped
  // and leave elemType 0, which the importer reports.
  ProtoReader reader(tf.bytes, payloadOffset(tf));
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    if (f.number != 1) {
      if (Error err = skip(reader, f, where))
        return err;
      continue;
    }
    if (Error err = expectType(f, WireType::LengthDelimited, "tensor_type",
                               "TypeProto", where))
      return err;
    ProtoReader tensor(f.bytes, payloadOffset(f));
    while (!tensor.atEnd()) {
      ProtoField g;
      if (Error err = tensor.next(g))
        return wrap(where, std::move(err));
      if (g.number == 1) {
        if (Error err = expectType(g, WireType::Varint, "elem_type",
                                   "TypeProto.Tensor", where))
          return err;
        info.elemType = int32_t(g.value);
      } else if (g.number == 2) {
        if (Error err = expectType(g, WireType::LengthDelimited, "shape",
                                   "TypeProto.Tensor", where))
          return err;
        if (Error err = decodeShape(g, info, where))
          return err;
      } else if (Error err = skip(tensor, g, where)) {
        return err;
      }
    }
  }
  return Error::success();
}

Error ModelDecoder::decodeShape(const ProtoField &sf, ONNXValueInfo &info,
                                const std::string &where) {
  info.hasShape = true;
  info.dims.clear();
  ProtoReader reader(sf.bytes, payloadOffset(sf));
  while (!reader.atEnd()) {
    ProtoField f;
    if (Error err = reader.next(f))
      return wrap(where, std::move(err));
    if (f.number != 1) {
      if (Error err = skip(reader, f, where))
        return err;
      continue;
    }
    if (Error err = expectType(f, WireType::LengthDelimited, "dim",
                               "TensorShapeProto", where))
      return err;
    ONNXDim dim;
    ProtoReader d(f.bytes, payloadOffset(f));
    while (!d.atEnd()) {
      ProtoField g;
      if (Error err = d.next(g))
        return wrap(where, std::move(err));
      if (g.number == 1) {
        if (Error err = expectType(g, WireType::Varint, "dim_value",
                                   "TensorShapeProto.Dimension", where))
          return err;
        dim.value = int64_t(g.value);
        dim.param.clear();
      } else if (g.number == 2) {
        if (Error err = expectType(g, WireType::LengthDelimited, "dim_param",
                                   "TensorShapeProto.Dimension", where))
          return err;
        dim.param = asString(g.bytes).str();
        dim.value.reset();
      } else if (Error err = skip(d, g, where)) {
        return err;
      }
    }
    info.dims.push_back(std::move(dim));
  }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// ONNXModel
//===----------------------------------------------------------------------===//

llvm::Expected<std::unique_ptr<ONNXModel>> ONNXModel::open(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": cannot open: " + buffer.getError().message());
  std::string directory = llvm::sys::path::parent_path(path).str();
  if (directory.empty())
    directory = ".";
  return parse(std::move(*buffer), directory);
}

llvm::Expected<std::unique_ptr<ONNXModel>>
ONNXModel::parse(std::unique_ptr<llvm::MemoryBuffer> buffer,
                 StringRef directory) {
  std::unique_ptr<ONNXModel> model(new ONNXModel());
  model->filePath = buffer->getBufferIdentifier().str();
  model->dir = directory.str();
  model->buffer = std::move(buffer);
  ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>(model->buffer->getBufferStart()),
      model->buffer->getBufferSize());
  ModelDecoder decoder(*model);
  if (Error err = decoder.decodeModel(bytes))
    return std::move(err);
  return std::move(model);
}

llvm::Expected<std::unique_ptr<ONNXModel>>
ONNXModel::openTensorProto(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": cannot open: " + buffer.getError().message());
  std::unique_ptr<ONNXModel> model(new ONNXModel());
  model->filePath = path.str();
  model->dir = llvm::sys::path::parent_path(path).str();
  if (model->dir.empty())
    model->dir = ".";
  model->buffer = std::move(*buffer);
  ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>(model->buffer->getBufferStart()),
      model->buffer->getBufferSize());
  ModelDecoder decoder(*model);
  if (Error err = decoder.decodeStandaloneTensor(bytes))
    return std::move(err);
  model->initializerIndex[model->mainGraph.initializers[0].name] = 0;
  return std::move(model);
}

std::optional<int64_t> ONNXModel::opsetVersion(StringRef domain) const {
  auto isDefault = [](StringRef d) { return d.empty() || d == "ai.onnx"; };
  for (const OpsetImport &o : opsets)
    if (o.domain == domain || (isDefault(o.domain) && isDefault(domain)))
      return o.version;
  return std::nullopt;
}

const ONNXTensor *ONNXModel::initializer(StringRef name) const {
  auto it = initializerIndex.find(name);
  return it == initializerIndex.end() ? nullptr
                                      : &mainGraph.initializers[it->second];
}

llvm::Expected<const ONNXTensor *> ONNXModel::require(StringRef name) const {
  if (const ONNXTensor *t = initializer(name))
    return t;
  return makeError("missing initializer '" + name + "' in model " + filePath);
}

std::optional<frugal::TensorSource::Info>
ONNXModel::lookupTensor(StringRef name) const {
  const ONNXTensor *t = initializer(name);
  if (!t)
    return std::nullopt;
  Info info;
  if (const ONNXNode *node = findNBitsConsumer(*this, name)) {
    llvm::Expected<NBitsWeight> w = describeNBits(*this, *node);
    if (w) {
      info.shape = {w->n, w->k};
      info.dtype = ("MatMulNBits" + llvm::Twine(w->bits)).str();
      info.convertibleToF32 = true;
      info.file = t->file;
      return info;
    }
    llvm::consumeError(w.takeError());
  }
  info.shape.assign(t->dims.begin(), t->dims.end());
  info.dtype = dataTypeName(int32_t(t->dataType)).str();
  info.convertibleToF32 = isConvertibleToF32(t->dataType);
  info.file = t->file;
  return info;
}

Error ONNXModel::readAsF32(StringRef name,
                           llvm::MutableArrayRef<float> out) const {
  llvm::Expected<const ONNXTensor *> t = require(name);
  if (!t)
    return t.takeError();
  if (const ONNXNode *node = findNBitsConsumer(*this, name)) {
    llvm::Expected<NBitsWeight> w = describeNBits(*this, *node);
    if (!w)
      return makeError(filePath + ": MatMulNBits weight '" + name +
                       "': " + llvm::toString(w.takeError()));
    if (int64_t(out.size()) != w->n * w->k)
      return makeError(filePath + ": MatMulNBits weight '" + name +
                       "' has " + llvm::Twine(w->n * w->k) + " elements");
    dequantizeNBits(*w, out);
    return Error::success();
  }
  return onnx::readAsF32(**t, out);
}

llvm::Expected<bool> ONNXModel::readPacked(StringRef name,
                                           mlir::llm::QuantAttr quant,
                                           int64_t rows, int64_t cols,
                                           llvm::MutableArrayRef<uint8_t> out) const {
  const ONNXNode *node = initializer(name) ? findNBitsConsumer(*this, name)
                                           : nullptr;
  if (!node || !quant)
    return false;
  llvm::Expected<NBitsWeight> w = describeNBits(*this, *node);
  if (!w)
    return makeError(filePath + ": MatMulNBits weight '" + name +
                     "': " + llvm::toString(w.takeError()));
  if (rows != w->n || cols != w->k)
    return false;
  return transcodeNBits(*w, quant.getBits(), quant.getGroup(),
                        quant.getScheme() == mlir::llm::QuantScheme::asymmetric,
                        out);
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

bool isConvertibleToF32(DataType type) {
  return type == DataType::Float || type == DataType::Float16 ||
         type == DataType::BFloat16 || type == DataType::Double;
}

Error readAsF32(const ONNXTensor &tensor, llvm::MutableArrayRef<float> out) {
  auto fail = [&](const llvm::Twine &msg) {
    return makeError(tensor.file + ": tensor '" + tensor.name + "': " + msg);
  };
  if (!isConvertibleToF32(tensor.dataType))
    return fail("data_type " + dataTypeName(int32_t(tensor.dataType)) +
                " cannot be converted to f32 (expected FLOAT, FLOAT16, "
                "BFLOAT16 or DOUBLE)");
  size_t count = tensor.data.size() / dataTypeSize(int32_t(tensor.dataType));
  if (out.size() != count)
    return fail(llvm::formatv("output holds {0} floats, the tensor has {1} "
                              "elements",
                              out.size(), count));
  const uint8_t *src = tensor.data.data();
  namespace endian = llvm::support::endian;
  switch (tensor.dataType) {
  case DataType::Float:
    for (size_t i = 0; i < count; ++i)
      out[i] = llvm::bit_cast<float>(endian::read32le(src + 4 * i));
    break;
  case DataType::Float16:
    for (size_t i = 0; i < count; ++i)
      out[i] = frugal::safetensors::halfToFloat(endian::read16le(src + 2 * i));
    break;
  case DataType::BFloat16:
    for (size_t i = 0; i < count; ++i)
      out[i] = frugal::safetensors::bfloat16ToFloat(endian::read16le(src + 2 * i));
    break;
  case DataType::Double:
    for (size_t i = 0; i < count; ++i)
      out[i] = float(llvm::bit_cast<double>(endian::read64le(src + 8 * i)));
    break;
  default:
    break;
  }
  return Error::success();
}

int64_t readInteger(const ONNXTensor &tensor, int64_t index) {
  const uint8_t *p = tensor.data.data();
  namespace endian = llvm::support::endian;
  switch (tensor.dataType) {
  case DataType::Int64:
  case DataType::UInt64:
    return int64_t(endian::read64le(p + 8 * index));
  case DataType::Int32:
    return int32_t(endian::read32le(p + 4 * index));
  case DataType::UInt32:
    return int64_t(endian::read32le(p + 4 * index));
  case DataType::Int16:
    return int16_t(endian::read16le(p + 2 * index));
  case DataType::UInt16:
    return endian::read16le(p + 2 * index);
  case DataType::Int8:
    return int8_t(p[index]);
  case DataType::UInt8:
  case DataType::Bool:
    return p[index];
  default:
    return 0;
  }
}

} // namespace frugal::onnx
