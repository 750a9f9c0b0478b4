//===- EmitObject.cpp - LLVM IR to an object file for a target ------------===//
//
// Part of TerMinator. See EmitObject.h.
//
//===----------------------------------------------------------------------===//

#include "lowering/ToLLVM/EmitObject.h"

#include "llvm/IR/InstIterator.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Operator.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

LogicalResult mlir::terminator::emitObjectFile(llvm::Module &module,
                                               const TargetDescription &target,
                                               StringRef objectPath,
                                               StringRef saveTemps,
                                               llvm::raw_ostream &errors) {
  std::string message;
  llvm::Triple triple(target.triple);
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, message);
  if (!llvmTarget) {
    errors << "no LLVM backend for " << target.triple << ": " << message
           << "\n";
    return failure();
  }
  llvm::TargetOptions to;
  std::unique_ptr<llvm::TargetMachine> tm(llvmTarget->createTargetMachine(
      triple, target.cpu, target.features, to, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm) {
    errors << "cannot create a target machine for " << target.triple << " cpu "
           << target.cpu << "\n";
    return failure();
  }
  module.setTargetTriple(triple);
  module.setDataLayout(tm->createDataLayout());
  for (llvm::Function &f : module)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", target.cpu);
      if (!target.features.empty())
        f.addFnAttr("target-features", target.features);
    }
  // Allow reassociation and contraction of floating-point arithmetic, so
  // that reductions (dot products, sums) vectorize and use FMA. No other
  // fast-math flag: the key mask relies on -inf.
  for (llvm::Function &f : module)
    for (llvm::Instruction &inst : llvm::instructions(f))
      if (isa<llvm::FPMathOperator>(inst)) {
        inst.setHasAllowReassoc(true);
        inst.setHasAllowContract(true);
      }
  if (llvm::verifyModule(module, &errors)) {
    errors << "internal: invalid LLVM IR\n";
    return failure();
  }

  auto save = [&](StringRef name) {
    if (saveTemps.empty())
      return;
    std::error_code ec;
    llvm::raw_fd_ostream os((saveTemps + "/" + name).str(), ec);
    if (!ec)
      module.print(os, nullptr);
  };
  save("model-unoptimized.ll");

  // -O2: on stories260K's prefill_512 (the reference loop code), `opt -O3`
  // took 4.9 s against 2.5 s for -O2 (one run each, 2026-11-23).
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm.get());
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2)
      .run(module, mam);

  save("model.ll");

  std::error_code ec;
  llvm::raw_fd_ostream os(objectPath, ec, llvm::sys::fs::OF_None);
  if (ec) {
    errors << "cannot write " << objectPath << ": " << ec.message() << "\n";
    return failure();
  }
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile)) {
    errors << "the " << target.triple << " backend cannot emit objects\n";
    return failure();
  }
  codegen.run(module);
  return success();
}
