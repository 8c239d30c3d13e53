//===- llm-onnx-test.cpp - Run one ONNX backend node test -----------------===//
//
// Part of Frugal. Runs one test directory of the ONNX backend test suite
// (model.onnx plus test_data_set_*/input_*.pb and output_*.pb): imports the
// model with static shapes, JIT-runs it through the CPU pipeline on each
// data set's inputs and compares the results with the expected outputs
// (|got - want| <= absTol + relTol * |want|, exact for integers and bools).
// Prints one line:
//   PASS
//   FAIL <why>          the model imported but ran wrongly or not at all
//   UNSUPPORTED <why>   the importer rejects an op, attribute or type
// and exits 0, 1 or 2 respectively.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"
#include "frontends/onnx/Importer.h"
#include "frontends/onnx/ONNXModel.h"
#include "tools/llm-run/Runner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace frugal;
using frugal::onnx::DataType;
using frugal::onnx::ONNXModel;
using frugal::onnx::ONNXTensor;

static llvm::cl::opt<std::string> testDir(llvm::cl::Positional,
                                          llvm::cl::desc("<node test dir>"),
                                          llvm::cl::Required);
static llvm::cl::opt<double> relTol("rtol", llvm::cl::init(1e-4),
                                  llvm::cl::desc("relative tolerance"));
static llvm::cl::opt<double> absTol("atol", llvm::cl::init(1e-4),
                                  llvm::cl::desc("absolute tolerance"));
static llvm::cl::opt<bool> printIR("print-ir",
                                   llvm::cl::desc("print the imported IR"));

namespace {
enum class Verdict { Pass = 0, Fail = 1, Unsupported = 2 };

/// Lays out the `llm.weight`s the import left (all initializers are
/// inlined, so only MatMulNBits' quantized ones) in a weights blob, the way
/// llm-compile's packer does: quantized ones as the model transcodes them.
llvm::Expected<std::vector<uint8_t>> packWeights(ModuleOp module,
                                                 const ONNXModel &model) {
  std::vector<uint8_t> blob;
  std::vector<float> values;
  Builder b(module.getContext());
  llvm::Error error = llvm::Error::success();
  module.walk([&](llm::WeightOp op) {
    if (error)
      return;
    int64_t offset = (int64_t(blob.size()) + 63) / 64 * 64;
    int64_t bytes = op.getStorageBytes();
    blob.resize(offset + bytes);
    op.setOffsetAttr(b.getI64IntegerAttr(offset));
    auto type = op.getResult().getType();
    llvm::MutableArrayRef<uint8_t> out(blob.data() + offset, bytes);
    if (auto quant = op.getQuantAttr()) {
      llvm::Expected<bool> direct =
          model.readPacked(op.getName(), quant, type.getDimSize(0),
                           type.getDimSize(1), out);
      if (!direct) {
        error = direct.takeError();
        return;
      }
      if (*direct)
        return;
    }
    values.resize(type.getNumElements());
    if ((error = model.readAsF32(op.getName(), values)))
      return;
    if (auto quant = op.getQuantAttr()) {
      llm::QuantLayout layout = llm::getQuantLayout(
          quant, type.getDimSize(0), type.getDimSize(1));
      llm::quantizeRTN(quant, layout, values.data(), out.data());
    } else {
      std::memcpy(out.data(), values.data(), bytes);
    }
  });
  if (error)
    return std::move(error);
  return blob;
}

int report(Verdict v, const llvm::Twine &why = "") {
  static const char *names[] = {"PASS", "FAIL", "UNSUPPORTED"};
  std::string text = why.str();
  for (char &c : text)
    if (c == '\n')
      c = ' ';
  llvm::outs() << names[int(v)] << (text.empty() ? "" : " ") << text << "\n";
  return int(v);
}

/// The tensor decoded from one input_N.pb / output_N.pb file.
struct PbTensor {
  std::unique_ptr<ONNXModel> file;
  const ONNXTensor *tensor = nullptr;
};

llvm::Expected<PbTensor> readPb(const std::string &path) {
  llvm::Expected<std::unique_ptr<ONNXModel>> m =
      ONNXModel::openTensorProto(path);
  if (!m)
    return m.takeError();
  PbTensor t;
  t.file = std::move(*m);
  t.tensor = &t.file->graph().initializers[0];
  return t;
}

/// Converts `t` into a host tensor of `kind` (the function argument's).
llvm::Expected<HostTensor> toHost(const ONNXTensor &t, ElementKind kind) {
  HostTensor h{kind, std::vector<int64_t>(t.dims.begin(), t.dims.end()), {}};
  int64_t n = t.numElements();
  h.data.resize(n * HostTensor::elementSize(kind));
  if (kind == ElementKind::F32) {
    if (!onnx::isConvertibleToF32(t.dataType))
      return llvm::createStringError("input '" + t.name + "' is not float");
    llvm::MutableArrayRef<float> out(reinterpret_cast<float *>(h.data.data()),
                                     n);
    if (llvm::Error err = onnx::readAsF32(t, out))
      return std::move(err);
    return h;
  }
  for (int64_t k = 0; k < n; ++k) {
    int64_t v = onnx::readInteger(t, k);
    if (kind == ElementKind::I64)
      std::memcpy(&h.data[k * 8], &v, 8);
    else if (kind == ElementKind::I32) {
      int32_t w = int32_t(v);
      std::memcpy(&h.data[k * 4], &w, 4);
    } else if (kind == ElementKind::I1) {
      h.data[k] = v != 0;
    } else {
      return llvm::createStringError("unsupported input element kind");
    }
  }
  return h;
}

double elementAt(const HostTensor &h, int64_t k) {
  switch (h.kind) {
  case ElementKind::F32: {
    float v;
    std::memcpy(&v, &h.data[k * 4], 4);
    return v;
  }
  case ElementKind::I64: {
    int64_t v;
    std::memcpy(&v, &h.data[k * 8], 8);
    return double(v);
  }
  case ElementKind::I32: {
    int32_t v;
    std::memcpy(&v, &h.data[k * 4], 4);
    return v;
  }
  case ElementKind::I1:
    return h.data[k];
  case ElementKind::F16:
    return std::numeric_limits<double>::quiet_NaN();
  }
  return 0;
}

/// Compares `got` with the expected tensor; an empty string means equal.
std::string compare(const HostTensor &got, const ONNXTensor &want,
                    size_t index) {
  std::vector<int64_t> wantShape(want.dims.begin(), want.dims.end());
  if (got.shape != wantShape) {
    auto text = [](llvm::ArrayRef<int64_t> s) {
      std::string r = "[";
      for (size_t k = 0; k < s.size(); ++k)
        r += (k ? "," : "") + std::to_string(s[k]);
      return r + "]";
    };
    return llvm::formatv("output {0}: shape {1}, expected {2}", index,
                         text(got.shape), text(wantShape));
  }
  int64_t n = want.numElements();
  bool isFloat = onnx::isConvertibleToF32(want.dataType);
  std::vector<float> wantF;
  if (isFloat) {
    wantF.resize(n);
    if (llvm::Error err = onnx::readAsF32(want, wantF))
      return llvm::toString(std::move(err));
  }
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (int64_t k = 0; k < n; ++k) {
    double g = elementAt(got, k);
    double w = isFloat ? double(wantF[k]) : double(onnx::readInteger(want, k));
    bool ok;
    if (!isFloat || got.kind != ElementKind::F32)
      ok = g == w;
    else if (std::isnan(w))
      ok = std::isnan(g);
    else if (std::isinf(w))
      ok = g == w;
    else
      ok = std::fabs(g - w) <= absTol + relTol * std::fabs(w);
    if (!ok) {
      ++bad;
      if (first < 0)
        first = k;
      if (std::isfinite(g - w))
        worst = std::max(worst, std::fabs(g - w));
    }
  }
  if (!bad)
    return "";
  double g = elementAt(got, first);
  double w = isFloat ? double(wantF[first]) : double(onnx::readInteger(want, first));
  return llvm::formatv("output {0}: {1} of {2} elements differ (first at "
                       "{3}: got {4}, expected {5}; max |diff| {6})",
                       index, bad, n, first, g, w, worst);
}

std::vector<std::string> numberedFiles(const std::string &dir,
                                       llvm::StringRef prefix) {
  std::vector<std::string> out;
  for (int k = 0;; ++k) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, (prefix + llvm::Twine(k) + ".pb").str());
    if (!llvm::sys::fs::exists(p))
      return out;
    out.push_back(std::string(p));
  }
}

int runTest() {
  llvm::SmallString<256> modelPath(testDir);
  llvm::sys::path::append(modelPath, "model.onnx");
  llvm::Expected<std::unique_ptr<ONNXModel>> model =
      ONNXModel::open(modelPath);
  if (!model)
    return report(Verdict::Unsupported, llvm::toString(model.takeError()));

  std::vector<std::string> sets;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(testDir, ec), end;
       it != end && !ec; it.increment(ec))
    if (llvm::sys::path::filename(it->path()).starts_with("test_data_set_"))
      sets.push_back(it->path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty())
    return report(Verdict::Fail, "no test_data_set_* directory");

  for (const std::string &set : sets) {
    // The data set's inputs, in the order of the graph inputs that are not
    // initializers.
    std::vector<const onnx::ONNXValueInfo *> graphInputs;
    for (const onnx::ONNXValueInfo &info : (*model)->graph().inputs)
      if (!(*model)->initializer(info.name))
        graphInputs.push_back(&info);
    for (const onnx::ONNXValueInfo *info : graphInputs)
      if (info->elemType == 0)
        return report(Verdict::Unsupported,
                      "graph input '" + info->name +
                          "' is not a tensor (a sequence or an optional)");
    std::vector<std::string> inFiles = numberedFiles(set, "input_");
    std::vector<std::string> outFiles = numberedFiles(set, "output_");
    if (inFiles.size() != graphInputs.size())
      return report(Verdict::Fail,
                    llvm::formatv("the graph has {0} inputs, the data set {1}",
                                  graphInputs.size(), inFiles.size()));
    std::vector<PbTensor> pbs;
    for (const std::string &file : inFiles) {
      llvm::Expected<PbTensor> t = readPb(file);
      if (!t) {
        std::string msg = llvm::toString(t.takeError());
        return report(llvm::StringRef(msg).contains("unsupported data_type")
                          ? Verdict::Unsupported
                          : Verdict::Fail,
                      msg);
      }
      pbs.push_back(std::move(*t));
    }

    // Lowering rewrites the module, so every data set imports afresh. A
    // model that needs an integer input at import time (a shape, axes)
    // gets the data set's integer inputs bound as constants.
    MLIRContext context;
    onnx::ONNXImportOptions options;
    options.maxInlineElements = std::numeric_limits<int64_t>::max();
    auto module = onnx::importONNXModel(context, **model, options);
    if (!module) {
      std::string msg = llvm::toString(module.takeError());
      if (!llvm::StringRef(msg).contains("must be known at import time"))
        return report(Verdict::Unsupported, msg);
      for (auto [info, pb] : llvm::zip(graphInputs, pbs))
        if (!onnx::isConvertibleToF32(pb.tensor->dataType))
          options.knownInputs[info->name] = pb.tensor;
      module = onnx::importONNXModel(context, **model, options);
      if (!module)
        return report(Verdict::Unsupported, llvm::toString(module.takeError()));
    }
    if (printIR)
      (*module)->print(llvm::errs());
    auto func = (*module)->lookupSymbol<func::FuncOp>("main");
    FunctionType type = func.getFunctionType();
    if (outFiles.size() != type.getNumResults())
      return report(Verdict::Fail,
                    llvm::formatv("@main has {0} results, the data set {1}",
                                  type.getNumResults(), outFiles.size()));
    std::vector<HostTensor> inputs;
    for (auto [info, pb] : llvm::zip(graphInputs, pbs)) {
      if (options.knownInputs.count(info->name))
        continue;
      Type elem =
          cast<ShapedType>(type.getInput(inputs.size())).getElementType();
      ElementKind kind = elem.isF32()          ? ElementKind::F32
                         : elem.isInteger(64)  ? ElementKind::I64
                         : elem.isInteger(32)  ? ElementKind::I32
                                               : ElementKind::I1;
      llvm::Expected<HostTensor> h = toHost(*pb.tensor, kind);
      if (!h)
        return report(Verdict::Unsupported, llvm::toString(h.takeError()));
      inputs.push_back(std::move(*h));
    }
    llvm::Expected<std::vector<uint8_t>> weights = packWeights(**module, **model);
    if (!weights)
      return report(Verdict::Fail, llvm::toString(weights.takeError()));
    llvm::Expected<std::vector<HostTensor>> outputs =
        runFunction(**module, "main", inputs, *weights);
    if (!outputs)
      return report(Verdict::Fail, "run: " + llvm::toString(outputs.takeError()));
    for (auto [k, file] : llvm::enumerate(outFiles)) {
      llvm::Expected<PbTensor> want = readPb(file);
      if (!want)
        return report(Verdict::Fail, llvm::toString(want.takeError()));
      std::string diff = compare((*outputs)[k], *want->tensor, k);
      if (!diff.empty())
        return report(Verdict::Fail,
                      llvm::sys::path::filename(set) + ": " + diff);
    }
  }
  return report(Verdict::Pass);
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "Runs one ONNX backend node test\n");
  return runTest();
}
