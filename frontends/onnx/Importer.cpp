//===- Importer.cpp - ONNX model to llm IR --------------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/Importer.h"

#include "frontends/onnx/GraphImporter.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using llvm::Error;
using llvm::StringRef;

namespace frugal::onnx {

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static std::string formatDims(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k)
      s += ", ";
    s += ShapedType::isDynamic(shape[k]) ? std::string("?")
                                         : std::to_string(shape[k]);
  }
  return s + "]";
}

GraphImporter::GraphImporter(MLIRContext &context, const ONNXModel &model,
                             const ONNXImportOptions &options)
    : ctx(context), model(model), options(options), b(&context),
      curLoc(FileLineColLoc::get(&context, model.path(), 0, 0)) {}

Error GraphImporter::fail(const llvm::Twine &msg) const {
  return makeError(model.path() + ": " + msg);
}

Error GraphImporter::nodeError(const llvm::Twine &msg) const {
  std::string op = cur->opType;
  if (!cur->domain.empty() && cur->domain != "ai.onnx")
    op = cur->domain + "::" + op;
  std::string name = cur->name.empty() ? "" : " '" + cur->name + "'";
  return fail(llvm::formatv("node {0}{1} ({2}, opset {3}): ", curIndex, name,
                            op, opsetVersion) +
              msg);
}

const GraphImporter::Entry *GraphImporter::lookup(StringRef name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

Error GraphImporter::missing(StringRef name) const {
  return nodeError("input '" + name +
                   "' is neither a graph input, an initializer nor the "
                   "output of an earlier node");
}

bool GraphImporter::hasInput(size_t i) const {
  return i < cur->inputs.size() && !cur->inputs[i].empty();
}

const KnownTensor *GraphImporter::known(size_t i) {
  if (!hasInput(i))
    return nullptr;
  auto it = values.find(cur->inputs[i]);
  if (it == values.end())
    return nullptr;
  Entry &e = it->second;
  if (e.known)
    return &*e.known;
  if (!e.init)
    return nullptr;
  // Small float initializers and integer tensors of any reasonable size
  // take part in folding; large float ones are weights.
  int64_t n = e.init->numElements();
  bool isFloat = isConvertibleToF32(e.init->dataType);
  if ((isFloat && n > options.maxInlineElements) || n > (1 << 20))
    return nullptr;
  e.known = KnownTensor::fromTensor(*e.init);
  return e.known ? &*e.known : nullptr;
}

llvm::Expected<RankedTensorType> GraphImporter::typeOfName(StringRef name) {
  const Entry *e = lookup(name);
  if (!e)
    return missing(name);
  if (e->value)
    return cast<RankedTensorType>(e->value.getType());
  if (e->known)
    return tensorType(e->known->shape, elemType(b, e->known->kind));
  std::optional<ElemKind> kind = elemKindOf(int32_t(e->init->dataType));
  if (!kind)
    return nodeError("initializer '" + name + "' has unsupported data_type " +
                     dataTypeName(int32_t(e->init->dataType)) +
                     " (expected FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, "
                     "INT32 or BOOL)");
  return tensorType(e->init->dims, elemType(b, *kind));
}

llvm::Expected<RankedTensorType> GraphImporter::typeOf(size_t i) {
  if (!hasInput(i))
    return nodeError(llvm::formatv("missing input {0}", i));
  return typeOfName(cur->inputs[i]);
}

llvm::Expected<Value> GraphImporter::materialize(StringRef name,
                                                 std::optional<ElemKind> kind) {
  auto it = values.find(name);
  if (it == values.end())
    return missing(name);
  Entry &e = it->second;
  if (e.value) {
    if (kind && getElementTypeOrSelf(e.value.getType()) != elemType(b, *kind))
      return nodeError(llvm::formatv(
          "input '{0}' has element type {1}, "
          "expected {2}",
          name, getElementTypeOrSelf(e.value.getType()), elemKindName(*kind)));
    return e.value;
  }
  if (e.init && !e.known) {
    llvm::Expected<RankedTensorType> type = typeOfName(name);
    if (!type)
      return type.takeError();
    int64_t n = e.init->numElements();
    bool isFloat = isConvertibleToF32(e.init->dataType);
    if (isFloat && n > options.maxInlineElements &&
        (!kind || *kind == ElemKind::F32)) {
      // Weights stay in the model's files; the IR names them.
      Value w = llm::WeightOp::create(b, curLoc, *type, b.getStringAttr(name),
                                      llm::QuantAttr(), IntegerAttr());
      e.value = w;
      return w;
    }
    e.known = KnownTensor::fromTensor(*e.init);
    if (!e.known)
      return nodeError("cannot read initializer '" + name + "'");
  }
  KnownTensor t =
      kind && *kind != e.known->kind ? e.known->castTo(*kind) : *e.known;
  Value c = arith::ConstantOp::create(b, curLoc, t.toAttr(b));
  if (!kind || *kind == e.known->kind)
    e.value = c;
  return c;
}

llvm::Expected<Value> GraphImporter::value(size_t i,
                                           std::optional<ElemKind> kind) {
  if (!hasInput(i))
    return nodeError(llvm::formatv("missing input {0}", i));
  return materialize(cur->inputs[i], kind);
}

Value GraphImporter::transposedWeight(size_t i) {
  if (!hasInput(i))
    return Value();
  const Entry *e = lookup(cur->inputs[i]);
  if (!e || e->value || e->known || !e->init || e->init->dims.size() != 2 ||
      !isConvertibleToF32(e->init->dataType) ||
      e->init->numElements() <= options.maxInlineElements)
    return Value();
  auto type = RankedTensorType::get({e->init->dims[1], e->init->dims[0]},
                                    b.getF32Type());
  return llm::WeightOp::create(b, curLoc, type,
                               b.getStringAttr(cur->inputs[i]),
                               llm::QuantAttr(), IntegerAttr(),
                               b.getUnitAttr());
}

llvm::Expected<llvm::SmallVector<int64_t, 4>>
GraphImporter::knownInts(size_t i, StringRef what) {
  const KnownTensor *t = known(i);
  if (!t) {
    if (!hasInput(i))
      return nodeError("missing input '" + what + "'");
    return nodeError("input '" + what + "' ('" + cur->inputs[i] +
                     "') must be known at import time (computed from "
                     "constants and static shapes)");
  }
  if (t->isFloat())
    return nodeError("input '" + what + "' must be an integer tensor");
  llvm::SmallVector<int64_t, 4> out;
  for (int64_t k = 0, n = t->numElements(); k < n; ++k)
    out.push_back(t->intAt(k));
  return out;
}

Error GraphImporter::requireStatic(size_t i) {
  llvm::Expected<RankedTensorType> type = typeOf(i);
  if (!type)
    return type.takeError();
  for (int64_t d = 0; d < type->getRank(); ++d) {
    if (!type->isDynamicDim(d))
      continue;
    std::string dimName = "?";
    auto it = dimParams.find(cur->inputs[i]);
    if (it != dimParams.end() && size_t(d) < it->second.size() &&
        !it->second[d].empty())
      dimName = it->second[d];
    return nodeError(llvm::formatv("dynamic dimension '{0}' not supported "
                                   "yet (dimension {1} of '{2}')",
                                   dimName, d, cur->inputs[i]));
  }
  return Error::success();
}

int64_t GraphImporter::attrInt(StringRef name, int64_t def) const {
  const ONNXAttribute *a = cur->attr(name);
  return a ? a->i : def;
}

float GraphImporter::attrFloat(StringRef name, float def) const {
  const ONNXAttribute *a = cur->attr(name);
  return a ? a->f : def;
}

std::string GraphImporter::attrString(StringRef name, StringRef def) const {
  const ONNXAttribute *a = cur->attr(name);
  return a ? a->s : def.str();
}

std::optional<llvm::SmallVector<int64_t, 4>>
GraphImporter::attrInts(StringRef name) const {
  const ONNXAttribute *a = cur->attr(name);
  if (!a)
    return std::nullopt;
  return a->ints;
}

llvm::Expected<int64_t> GraphImporter::normalizeAxis(int64_t axis, int64_t rank,
                                                     StringRef what) const {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    return nodeError(llvm::formatv("{0} {1} is out of range for rank {2}", what,
                                   axis, rank));
  return a;
}

void GraphImporter::define(size_t i, Value v) {
  if (i < cur->outputs.size() && !cur->outputs[i].empty()) {
    Entry e;
    e.value = v;
    values[cur->outputs[i]] = std::move(e);
  }
}

void GraphImporter::defineKnown(size_t i, KnownTensor t) {
  if (i < cur->outputs.size() && !cur->outputs[i].empty()) {
    Entry e;
    e.known = std::move(t);
    values[cur->outputs[i]] = std::move(e);
  }
}

void GraphImporter::forward(size_t out, size_t in) {
  if (out < cur->outputs.size() && !cur->outputs[out].empty() && hasInput(in)) {
    const Entry *e = lookup(cur->inputs[in]);
    if (e)
      values[cur->outputs[out]] = *e;
  }
}

Value GraphImporter::scalarF32(double v) {
  auto type = RankedTensorType::get({1}, b.getF32Type());
  return arith::ConstantOp::create(b, curLoc,
                                   DenseElementsAttr::get(type, float(v)));
}

Error GraphImporter::importInputs() {
  const ONNXGraph &g = model.graph();
  for (const std::vector<ONNXValueInfo> *list :
       {&g.inputs, &g.valueInfo, &g.outputs})
    for (const ONNXValueInfo &info : *list) {
      llvm::SmallVector<std::string, 4> names;
      for (const ONNXDim &d : info.dims)
        names.push_back(d.param);
      dimParams[info.name] = std::move(names);
    }
  for (const ONNXTensor &t : g.initializers) {
    Entry e;
    e.init = &t;
    values[t.name] = std::move(e);
  }
  for (const auto &bound : options.knownInputs) {
    Entry e;
    e.init = bound.second;
    values[bound.first()] = std::move(e);
  }
  return Error::success();
}

Error GraphImporter::importNode(size_t index) {
  const ONNXNode &n = model.graph().nodes[index];
  cur = &n;
  curIndex = index;
  StringAttr nameAttr = b.getStringAttr(
      n.name.empty() ? n.opType + "_" + std::to_string(index) : n.name);
  curLoc =
      NameLoc::get(nameAttr, FileLineColLoc::get(&ctx, model.path(), 0, 0));
  bool defaultDomain = n.domain.empty() || n.domain == "ai.onnx";
  std::optional<int64_t> version = model.opsetVersion(n.domain);
  opsetVersion = version.value_or(0);
  if (!defaultDomain && n.domain != "com.microsoft")
    return nodeError("unsupported operator " + n.opType + " in domain '" +
                     n.domain + "'");
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (!n.inputs[i].empty() && !lookup(n.inputs[i]) && !droppedInput(i))
      return missing(n.inputs[i]);
  return importOp(*this);
}

bool GraphImporter::droppedInput(size_t i) const {
  if (cur->domain != "com.microsoft")
    return false;
  // GatherBlockQuantized reads its table from the initializer behind it.
  if (cur->opType == "GatherBlockQuantized")
    return i == 0;
  return dec && cur->opType == "GroupQueryAttention" && (i >= 3 && i <= 6);
}

Error GraphImporter::checkOpset() {
  std::optional<int64_t> opset = model.opsetVersion("");
  if (!opset)
    return fail("no opset_import for the default domain 'ai.onnx'");
  if (*opset < kMinOpset || *opset > kMaxOpset)
    return fail(llvm::formatv("opset {0} of domain 'ai.onnx' is not "
                              "supported (expected {1} to {2})",
                              *opset, kMinOpset, kMaxOpset));
  return Error::success();
}

Error GraphImporter::verifyModule(ModuleOp module) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    diagnostics += "\n  " + diag.str();
    return success();
  });
  if (failed(verify(module)))
    return fail("the imported IR does not verify:" + diagnostics);
  return Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> GraphImporter::run() {
  ctx.loadDialect<func::FuncDialect, arith::ArithDialect, llm::LLMDialect>();
  if (options.decoder)
    return runDecoder();
  const ONNXGraph &g = model.graph();
  if (Error err = checkOpset())
    return std::move(err);

  if (Error err = importInputs())
    return std::move(err);

  // Graph inputs without an initializer are the arguments of @main.
  llvm::SmallVector<Type> argTypes;
  llvm::SmallVector<const ONNXValueInfo *> args;
  for (const ONNXValueInfo &info : g.inputs) {
    if (model.initializer(info.name) || options.knownInputs.count(info.name))
      continue;
    std::optional<ElemKind> kind = elemKindOf(info.elemType);
    if (!kind ||
        (*kind == ElemKind::F32 && DataType(info.elemType) != DataType::Float))
      return fail("graph input '" + info.name + "' has element type " +
                  dataTypeName(info.elemType) +
                  " (expected FLOAT, INT64, INT32 or BOOL)");
    if (!info.hasShape)
      return fail("graph input '" + info.name + "' has no shape");
    llvm::SmallVector<int64_t, 4> shape;
    for (const ONNXDim &d : info.dims) {
      if (d.value) {
        shape.push_back(*d.value);
        continue;
      }
      auto bound = options.dimValues.find(d.param);
      shape.push_back(!d.param.empty() && bound != options.dimValues.end()
                          ? bound->second
                          : ShapedType::kDynamic);
    }
    llvm::SmallVector<int64_t, 4> staticDims;
    for (int64_t d : shape)
      staticDims.push_back(ShapedType::isDynamic(d) ? 1 : d);
    if (!checkedNumElements(staticDims))
      return fail("graph input '" + info.name + "' has an invalid shape " +
                  formatDims(shape));
    argTypes.push_back(RankedTensorType::get(shape, elemType(b, *kind)));
    args.push_back(&info);
  }

  Location fileLoc = FileLineColLoc::get(&ctx, model.path(), 0, 0);
  OwningOpRef<ModuleOp> module(ModuleOp::create(fileLoc));
  b.setInsertionPointToEnd(module->getBody());
  auto func =
      func::FuncOp::create(b, fileLoc, "main", b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (auto [info, arg] : llvm::zip(args, entry->getArguments())) {
    Entry e;
    e.value = arg;
    values[info->name] = std::move(e);
  }

  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (Error err = importNode(i))
      return std::move(err);

  curLoc = fileLoc;
  llvm::SmallVector<Value> results;
  for (const ONNXValueInfo &out : g.outputs) {
    if (!lookup(out.name))
      return fail("graph output '" + out.name +
                  "' is not computed by any "
                  "node");
    llvm::Expected<Value> v = materialize(out.name, std::nullopt);
    if (!v)
      return v.takeError();
    // A declared static shape must agree with the computed one.
    auto type = cast<RankedTensorType>(v->getType());
    if (out.hasShape) {
      bool mismatch = int64_t(out.dims.size()) != type.getRank();
      for (size_t d = 0; !mismatch && d < out.dims.size(); ++d)
        mismatch = out.dims[d].value && !type.isDynamicDim(d) &&
                   *out.dims[d].value != type.getDimSize(d);
      if (mismatch) {
        llvm::SmallVector<int64_t> declared;
        for (const ONNXDim &d : out.dims)
          declared.push_back(d.value.value_or(ShapedType::kDynamic));
        return fail("graph output '" + out.name + "' is declared with shape " +
                    formatDims(declared) + " but computes " +
                    formatDims(type.getShape()));
      }
    }
    results.push_back(*v);
  }
  func::ReturnOp::create(b, fileLoc, results);
  func.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));

  if (Error err = verifyModule(*module))
    return std::move(err);
  return std::move(module);
}

llvm::Expected<OwningOpRef<ModuleOp>>
importONNXModel(MLIRContext &context, const ONNXModel &model,
                const ONNXImportOptions &options) {
  GraphImporter importer(context, model, options);
  return importer.run();
}

llvm::Expected<OwningOpRef<ModuleOp>>
importONNXDecoder(MLIRContext &context, const ONNXModel &model,
                  const ONNXDecoderOptions &options) {
  ONNXImportOptions importOptions;
  importOptions.maxInlineElements = options.maxInlineElements;
  importOptions.decoder = options;
  GraphImporter importer(context, model, importOptions);
  return importer.run();
}

bool isDecoderGraph(const ONNXModel &model) {
  for (const ONNXNode &n : model.graph().nodes)
    if (n.domain == "com.microsoft" && n.opType == "GroupQueryAttention")
      return true;
  return false;
}

llvm::Expected<OwningOpRef<ModuleOp>>
importONNXModelFromPath(MLIRContext &context, StringRef path,
                        const ONNXImportOptions &options) {
  llvm::Expected<std::unique_ptr<ONNXModel>> model = ONNXModel::open(path);
  if (!model)
    return model.takeError();
  if (isDecoderGraph(**model)) {
    ONNXDecoderOptions decoder =
        options.decoder ? *options.decoder : ONNXDecoderOptions();
    return importONNXDecoder(context, **model, decoder);
  }
  return importONNXModel(context, **model, options);
}

} // namespace frugal::onnx
