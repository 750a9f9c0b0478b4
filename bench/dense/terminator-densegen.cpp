//===- terminator-densegen.cpp - the MLIR path of the dense operators -----===//
//
// Part of TerMinator. Lowers bench/dense/ops.mlir (the importer's dense
// operators) through the pipeline terminator-compile uses for a program
// (terminator-aot-to-llvm, then emitObjectFile at -O2 for the target), so
// that terminator-bench times exactly the code a program runs for them.
//
//   terminator-densegen ops.mlir --cpu x86-64-v4 -o dense-mlir.o
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"
#include "lowering/Target.h"
#include "lowering/ToLLVM/EmitObject.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::terminator;

namespace cl = llvm::cl;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<ops.mlir>"));
static cl::opt<std::string> cpu("cpu", cl::init("x86-64-v4"),
                                cl::desc("x86-64 CPU to generate code for"));
static cl::opt<std::string> objectPath("o", cl::Required,
                                       cl::desc("object file to write"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "TerMinator dense-operator generator\n");
  registerAllPasses();
  ternary::registerTernaryPasses();
  registerTerminatorLoweringPasses();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<ternary::TernaryDialect>();
  MLIRContext context(registry);
  llvm::SourceMgr sources;
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(inputPath, sources, &context);
  if (!module) {
    llvm::errs() << "terminator-densegen: error: cannot parse " << inputPath
                 << "\n";
    return 1;
  }
  for (auto func : module->getOps<func::FuncOp>())
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
  auto pm = PassManager::on<ModuleOp>(&context);
  buildAotToLLVMPipeline(pm);
  if (failed(pm.run(*module))) {
    llvm::errs() << "terminator-densegen: error: lowering failed\n";
    return 1;
  }
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "terminator-dense");
  TargetDescription target{"x86_64-unknown-linux-gnu", cpu, ""};
  if (!llvmModule || failed(emitObjectFile(*llvmModule, target, objectPath, "",
                                           llvm::errs()))) {
    llvm::errs() << "terminator-densegen: error: cannot emit " << objectPath
                 << "\n";
    return 1;
  }
  return 0;
}
