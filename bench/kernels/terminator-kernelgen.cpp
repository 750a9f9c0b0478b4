//===- terminator-kernelgen.cpp - kernels for terminator-bench ------------===//
//
// Part of TerMinator. Build-time helper of terminator-bench: emits the
// compiler's ternary micro-kernels (lowering/TernaryToKernels) for a list of
// shapes and one ISA into an object file, and a C++ table naming them, so
// that the benchmark and the execution checks run exactly the code that
// terminator-compile puts into programs, for a target chosen here and not
// by the machine that builds.
//
//   terminator-kernelgen --isa avx512-vnni --shapes check,bench \
//       -o kernels-avx512-vnni.o --table kernels-avx512-vnni.cpp
//
//===----------------------------------------------------------------------===//

#include "lowering/TernaryToKernels/MicroKernel.h"
#include "lowering/ToLLVM/EmitObject.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::terminator;

namespace cl = llvm::cl;

static cl::opt<std::string> isaName("isa", cl::Required,
                                    cl::desc("avx512-vnni, avx2 or "
                                             "neon-dotprod"));
static cl::list<std::string>
    shapeSets("shapes", cl::CommaSeparated,
              cl::desc("check (awkward shapes for the execution checks), "
                       "bench (the benchmark shapes)"));
static cl::opt<std::string> objectPath("o", cl::Required,
                                       cl::desc("object file to write"));
static cl::opt<std::string> tablePath("table", cl::Required,
                                      cl::desc("C++ table to write"));

namespace {
struct Shape {
  int64_t m, n, k, group;
  const char *set;
  int64_t bits = 2;
  bool f16Meta = false;
};

/// N and K not multiples of the tiles, M = 1, 3, 7, 64, every group kind.
std::vector<Shape> checkShapes() {
  std::vector<Shape> out;
  for (int64_t m : {1, 3, 7, 64}) {
    out.push_back({m, 13, 300, 0, "check"});
    out.push_back({m, 6, 520, 64, "check"});
    out.push_back({m, 9, 700, 128, "check"});
    out.push_back({m, 5, 600, 256, "check"});
    out.push_back({m, 2, 64, 0, "check"});
    out.push_back({m, 11, 300, 0, "check", 8});
    out.push_back({m, 7, 520, 128, "check", 8});
    out.push_back({m, 13, 300, 0, "check", 2, true});
    out.push_back({m, 9, 700, 128, "check", 2, true});
    out.push_back({m, 7, 520, 128, "check", 8, true});
    out.push_back({m, 11, 300, 0, "check", 4});
    out.push_back({m, 6, 520, 64, "check", 4, true});
  }
  return out;
}

/// TinyLlama-1.1B's projections: decode (M = 1) and a prefill block; and
/// the int4 and int8 GEMV of mixed precision (and the head) on one of them,
/// which terminator-bench reports apart from its ternary summary.
std::vector<Shape> benchShapes() {
  std::vector<Shape> out;
  for (int64_t m : {1, 64})
    for (auto [n, k] :
         {std::pair<int64_t, int64_t>{2048, 2048}, {5632, 2048}, {2048, 5632}})
      out.push_back({m, n, k, 0, "bench"});
  out.push_back({1, 2048, 2048, 0, "bench", 4});
  out.push_back({1, 2048, 2048, 0, "bench", 8});
  return out;
}

TargetDescription targetFor(KernelIsa isa) {
  switch (isa) {
  case KernelIsa::X86Avx512Vnni:
    return {"x86_64-unknown-linux-gnu", "x86-64-v4", "+avx512vnni"};
  case KernelIsa::X86Avx2:
    return {"x86_64-unknown-linux-gnu", "x86-64-v3", ""};
  case KernelIsa::ArmNeonDot:
    return {"aarch64-unknown-linux-gnu", "generic", "+neon,+dotprod"};
  case KernelIsa::None:
    break;
  }
  return {};
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "TerMinator kernel generator\n");
  std::optional<KernelIsa> isa = parseKernelIsa(isaName);
  std::unique_ptr<MicroKernelIsa> kernels =
      isa ? createMicroKernel(*isa) : nullptr;
  if (!kernels) {
    llvm::errs() << "terminator-kernelgen: error: unknown --isa '" << isaName
                 << "'; use avx512-vnni, avx2 or neon-dotprod\n";
    return 2;
  }
  std::vector<Shape> shapes;
  for (const std::string &set : shapeSets) {
    std::vector<Shape> more = set == "check"   ? checkShapes()
                              : set == "bench" ? benchShapes()
                                               : std::vector<Shape>();
    if (more.empty()) {
      llvm::errs() << "terminator-kernelgen: error: unknown shape set '" << set
                   << "'; use check or bench\n";
      return 2;
    }
    shapes.insert(shapes.end(), more.begin(), more.end());
  }

  registerConversionPasses();
  DialectRegistry registry;
  registry.insert<arith::ArithDialect, cf::ControlFlowDialect,
                  LLVM::LLVMDialect, scf::SCFDialect, vector::VectorDialect>();
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  std::vector<std::string> names;
  std::vector<int64_t> tiles;
  for (const Shape &s : shapes) {
    LLVM::LLVMFuncOp f = emitTernaryKernel(*module, *kernels, s.m, s.n, s.k,
                                           s.group, s.bits, s.f16Meta);
    f.setLinkage(LLVM::Linkage::External);
    names.push_back(f.getName().str());
    tiles.push_back(kernelRowTile(*kernels, s.m));
  }
  auto pm = PassManager::on<ModuleOp>(&context);
  if (failed(parsePassPipeline("convert-scf-to-cf,convert-vector-to-llvm,"
                               "convert-arith-to-llvm,convert-cf-to-llvm,"
                               "reconcile-unrealized-casts",
                               pm, llvm::errs())) ||
      failed(pm.run(*module))) {
    llvm::errs() << "terminator-kernelgen: error: lowering failed\n";
    return 1;
  }
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "terminator-kernels");
  if (!llvmModule || failed(emitObjectFile(*llvmModule, targetFor(*isa),
                                           objectPath, "", llvm::errs()))) {
    llvm::errs() << "terminator-kernelgen: error: cannot emit " << objectPath
                 << "\n";
    return 1;
  }

  std::error_code ec;
  llvm::raw_fd_ostream os(tablePath, ec);
  if (ec) {
    llvm::errs() << "terminator-kernelgen: error: cannot write " << tablePath
                 << ": " << ec.message() << "\n";
    return 1;
  }
  std::string id = isaName;
  std::replace(id.begin(), id.end(), '-', '_');
  os << "// Generated by terminator-kernelgen --isa " << isaName
     << "; do not edit.\n#include \"bench/kernels/KernelTable.h\"\n\n";
  for (const std::string &name : names)
    os << "extern \"C\" void " << name
       << "(const void *, const void *, const void *, const void *, float *, "
          "int64_t, int64_t);\n";
  os << "\nextern const trt_bench_kernel trt_bench_kernels_" << id
     << "[] = {\n";
  for (size_t i = 0; i < shapes.size(); ++i)
    os << llvm::formatv(
        "  {{\"{0}\", \"{1}\", \"{2}\", {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
        "{10}},\n",
        isaName, kernelIsaRuntimeFeatures(*isa), shapes[i].set, shapes[i].m,
        shapes[i].n, shapes[i].k, shapes[i].group, shapes[i].bits,
        shapes[i].f16Meta ? 1 : 0, tiles[i], names[i]);
  os << "  {nullptr, nullptr, nullptr, 0, 0, 0, 0, 0, 0, 0, nullptr}};\n";
  return 0;
}
