//===- cpu.h - Host CPU feature detection and checks ------------*- C++ -*-===//
//
// Internal to terminator_rt: a compiled model records the CPU features its
// kernels use (LLVM names, the ones terminator-compile's --target accepts);
// before running, the program checks that the CPU it runs on has them, so a
// model built for AVX-512 fails with an explanation instead of SIGILL.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_RUNTIME_SRC_CPU_H
#define TERMINATOR_RUNTIME_SRC_CPU_H

#include <string>
#include <vector>

namespace trt {

/// What detectCpu() found about the CPU this process runs on.
struct CpuFeatures {
  /// "x86_64", "aarch64", or "unknown" when the runtime was built for an
  /// architecture it cannot inspect.
  std::string arch;
  /// Human-readable model: the x86 brand string (or vendor), "aarch64 CPU"
  /// on Arm, "unknown CPU" otherwise.
  std::string name;
  /// LLVM names of the features that both the CPU and the operating system
  /// support (e.g. "avx512f" only when the OS saves the AVX-512 state),
  /// sorted and unique.
  std::vector<std::string> features;

  /// Whether \p feature (an LLVM name) is in `features`.
  bool has(const std::string &feature) const;
};

/// Inspects the CPU (cpuid and XGETBV on x86-64, AT_HWCAP and AT_HWCAP2 on
/// aarch64 Linux). Never fails; the result does not change while the
/// process runs.
/// The environment variable TERMINATOR_CPU_FEATURES=a,b,... hides every
/// detected feature not in its list (to test the start-up check on this
/// machine); it never adds one.
CpuFeatures detectCpu();

/// The feature names detectCpu() can report for this build's architecture,
/// sorted. On other architectures the list is empty.
std::vector<std::string> knownCpuFeatures();

/// Checks that this CPU has every feature in \p required, a comma-separated
/// list of LLVM feature names ("avx2,fma,avx512f", "neon,dotprod"). Spaces
/// around names and a leading '+' are allowed; "-name" entries (features
/// the model was built without) and empty entries are skipped, so an empty
/// string requires nothing. Returns true and clears \p error when all are
/// present; otherwise returns false and sets \p error to a message naming
/// the unknown or missing features, the detected CPU and how to fix it.
bool checkCpu(const std::string &required, std::string &error);

} // namespace trt

#endif // TERMINATOR_RUNTIME_SRC_CPU_H
