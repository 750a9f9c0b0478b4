//===- terminator-import.cpp - ONNX model to MLIR and a weight archive ----===//
//
// Part of TerMinator.
//
//   terminator-import model.onnx -o model.mlir [--archive model.tpar]
//                     [--dim sequence_length=7 ...]
//
// Writes both outputs atomically: a failure leaves neither behind.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImporter.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required);
static cl::opt<std::string> outputPath("o", cl::desc("Output MLIR file"),
                                       cl::value_desc("file"), cl::Required);
static cl::opt<std::string>
    archivePath("archive",
                cl::desc("Output parameter archive (default: the output "
                         "file with extension .tpar)"),
                cl::value_desc("file"));
static cl::list<std::string>
    dims("dim", cl::desc("Size of a symbolic input dimension, NAME=N"),
         cl::value_desc("NAME=N"));

static cl::opt<int64_t> keyMaskLength(
    "key-mask-length",
    cl::desc("Add a last argument key_mask : tensor<N x f32>, added before "
             "every Softmax over a last axis of length N (a fixed-length KV "
             "cache; 0: none)"),
    cl::value_desc("N"), cl::init(0));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "terminator-import: ONNX model -> MLIR (ternary dialect + linalg) and "
      "a parameter archive\n");

  mlir::terminator::OnnxImportOptions options;
  for (const std::string &d : dims) {
    StringRef name, value;
    std::tie(name, value) = StringRef(d).split('=');
    int64_t size;
    if (name.empty() || value.getAsInteger(10, size) || size < 0) {
      errs() << "terminator-import: error: --dim expects NAME=N with N >= 0, "
                "got '"
             << d << "'\n";
      return 2;
    }
    options.dimSizes[name] = size;
  }
  if (keyMaskLength < 0) {
    errs() << "terminator-import: error: --key-mask-length expects N >= 0\n";
    return 2;
  }
  options.keyMaskLength = keyMaskLength;
  SmallString<256> archive(archivePath);
  if (archive.empty()) {
    archive = outputPath;
    sys::path::replace_extension(archive, "tpar");
  }
  options.archivePath = std::string(archive);
  // The module refers to the archive relative to the MLIR file's folder when
  // both are in the same folder.
  if (sys::path::parent_path(archive) == sys::path::parent_path(outputPath))
    options.archiveRef = sys::path::filename(archive).str();
  else
    options.archiveRef = options.archivePath;

  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  auto module = mlir::terminator::importOnnxModel(context, inputPath, options);
  if (failed(module))
    return 1;

  std::string text;
  raw_string_ostream os(text);
  (*module)->print(os);
  if (Error e = writeToOutput(outputPath, [&](raw_ostream &out) {
        out << text;
        return Error::success();
      })) {
    errs() << "terminator-import: error: cannot write " << outputPath << ": "
           << toString(std::move(e)) << "\n";
    sys::fs::remove(options.archivePath);
    return 1;
  }
  return 0;
}
