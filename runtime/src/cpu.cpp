//===- cpu.cpp - Host CPU feature detection and checks --------------------===//
//
// x86-64: cpuid leaves 1, 7 (subleaves 0 and 1), 0xD, 0x80000001 and
// 0x80000008, and XGETBV for the register state the OS saves: AVX features
// need XMM and YMM state (XCR0 bits 1-2), AVX-512 features also opmask, ZMM
// upper halves and ZMM16-31 (bits 5-7), as LLVM's getHostCPUFeatures()
// checks. aarch64 (Linux): the AT_HWCAP and AT_HWCAP2 bits of
// arch/arm64/include/uapi/asm/hwcap.h, spelled out here so old kernel
// headers do not matter. Names are LLVM's target feature names.
//
// Each architecture's code is compiled only for that architecture; the
// runtime cross-builds for aarch64.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/cpu.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace trt {

namespace {

#if defined(__x86_64__)

//===----------------------------------------------------------------------===//
// x86-64
//===----------------------------------------------------------------------===//

constexpr const char *kArch = "x86_64";

enum Reg : uint8_t { Eax, Ebx, Ecx, Edx };

/// Register state the OS must save (enabled in XCR0) for a feature.
enum class OsState : uint8_t { None, Avx, Avx512 };

struct FeatureBit {
  const char *name;
  uint32_t leaf, subleaf;
  Reg reg;
  uint8_t bit;
  OsState state;
};

constexpr FeatureBit kFeatures[] = {
    // Leaf 1.
    {"x87", 1, 0, Edx, 0, OsState::None},
    {"cx8", 1, 0, Edx, 8, OsState::None},
    {"cmov", 1, 0, Edx, 15, OsState::None},
    {"mmx", 1, 0, Edx, 23, OsState::None},
    {"fxsr", 1, 0, Edx, 24, OsState::None},
    {"sse", 1, 0, Edx, 25, OsState::None},
    {"sse2", 1, 0, Edx, 26, OsState::None},
    {"sse3", 1, 0, Ecx, 0, OsState::None},
    {"pclmul", 1, 0, Ecx, 1, OsState::None},
    {"ssse3", 1, 0, Ecx, 9, OsState::None},
    {"fma", 1, 0, Ecx, 12, OsState::Avx},
    {"cx16", 1, 0, Ecx, 13, OsState::None},
    {"sse4.1", 1, 0, Ecx, 19, OsState::None},
    {"sse4.2", 1, 0, Ecx, 20, OsState::None},
    {"crc32", 1, 0, Ecx, 20, OsState::None},
    {"movbe", 1, 0, Ecx, 22, OsState::None},
    {"popcnt", 1, 0, Ecx, 23, OsState::None},
    {"aes", 1, 0, Ecx, 25, OsState::None},
    {"xsave", 1, 0, Ecx, 26, OsState::None},
    {"avx", 1, 0, Ecx, 28, OsState::Avx},
    {"f16c", 1, 0, Ecx, 29, OsState::Avx},
    {"rdrnd", 1, 0, Ecx, 30, OsState::None},
    // Leaf 7, subleaf 0.
    {"fsgsbase", 7, 0, Ebx, 0, OsState::None},
    {"bmi", 7, 0, Ebx, 3, OsState::None},
    {"avx2", 7, 0, Ebx, 5, OsState::Avx},
    {"bmi2", 7, 0, Ebx, 8, OsState::None},
    {"invpcid", 7, 0, Ebx, 10, OsState::None},
    {"rtm", 7, 0, Ebx, 11, OsState::None},
    {"avx512f", 7, 0, Ebx, 16, OsState::Avx512},
    {"evex512", 7, 0, Ebx, 16, OsState::Avx512},
    {"avx512dq", 7, 0, Ebx, 17, OsState::Avx512},
    {"rdseed", 7, 0, Ebx, 18, OsState::None},
    {"adx", 7, 0, Ebx, 19, OsState::None},
    {"avx512ifma", 7, 0, Ebx, 21, OsState::Avx512},
    {"clflushopt", 7, 0, Ebx, 23, OsState::None},
    {"clwb", 7, 0, Ebx, 24, OsState::None},
    {"avx512cd", 7, 0, Ebx, 28, OsState::Avx512},
    {"sha", 7, 0, Ebx, 29, OsState::None},
    {"avx512bw", 7, 0, Ebx, 30, OsState::Avx512},
    {"avx512vl", 7, 0, Ebx, 31, OsState::Avx512},
    {"avx512vbmi", 7, 0, Ecx, 1, OsState::Avx512},
    {"pku", 7, 0, Ecx, 4, OsState::None},
    {"waitpkg", 7, 0, Ecx, 5, OsState::None},
    {"avx512vbmi2", 7, 0, Ecx, 6, OsState::Avx512},
    {"shstk", 7, 0, Ecx, 7, OsState::None},
    {"gfni", 7, 0, Ecx, 8, OsState::None},
    {"vaes", 7, 0, Ecx, 9, OsState::Avx},
    {"vpclmulqdq", 7, 0, Ecx, 10, OsState::Avx},
    {"avx512vnni", 7, 0, Ecx, 11, OsState::Avx512},
    {"avx512bitalg", 7, 0, Ecx, 12, OsState::Avx512},
    {"avx512vpopcntdq", 7, 0, Ecx, 14, OsState::Avx512},
    {"rdpid", 7, 0, Ecx, 22, OsState::None},
    {"cldemote", 7, 0, Ecx, 25, OsState::None},
    {"movdiri", 7, 0, Ecx, 27, OsState::None},
    {"movdir64b", 7, 0, Ecx, 28, OsState::None},
    {"enqcmd", 7, 0, Ecx, 29, OsState::None},
    {"uintr", 7, 0, Edx, 5, OsState::None},
    {"avx512vp2intersect", 7, 0, Edx, 8, OsState::Avx512},
    {"serialize", 7, 0, Edx, 14, OsState::None},
    {"tsxldtrk", 7, 0, Edx, 16, OsState::None},
    {"avx512fp16", 7, 0, Edx, 23, OsState::Avx512},
    // Leaf 7, subleaf 1.
    {"sha512", 7, 1, Eax, 0, OsState::Avx},
    {"sm3", 7, 1, Eax, 1, OsState::Avx},
    {"sm4", 7, 1, Eax, 2, OsState::Avx},
    {"avxvnni", 7, 1, Eax, 4, OsState::Avx},
    {"avx512bf16", 7, 1, Eax, 5, OsState::Avx512},
    {"cmpccxadd", 7, 1, Eax, 7, OsState::None},
    {"avxifma", 7, 1, Eax, 23, OsState::Avx},
    {"avxvnniint8", 7, 1, Edx, 4, OsState::Avx},
    {"avxneconvert", 7, 1, Edx, 5, OsState::Avx},
    {"avxvnniint16", 7, 1, Edx, 10, OsState::Avx},
    // Leaf 0xD, subleaf 1.
    {"xsaveopt", 0xD, 1, Eax, 0, OsState::None},
    {"xsavec", 0xD, 1, Eax, 1, OsState::None},
    {"xsaves", 0xD, 1, Eax, 3, OsState::None},
    // Extended leaves.
    {"sahf", 0x80000001, 0, Ecx, 0, OsState::None},
    {"lzcnt", 0x80000001, 0, Ecx, 5, OsState::None},
    {"sse4a", 0x80000001, 0, Ecx, 6, OsState::None},
    {"prfchw", 0x80000001, 0, Ecx, 8, OsState::None},
    {"xop", 0x80000001, 0, Ecx, 11, OsState::Avx},
    {"fma4", 0x80000001, 0, Ecx, 16, OsState::Avx},
    {"tbm", 0x80000001, 0, Ecx, 21, OsState::None},
    {"64bit", 0x80000001, 0, Edx, 29, OsState::None},
    {"clzero", 0x80000008, 0, Ebx, 0, OsState::None},
    {"wbnoinvd", 0x80000008, 0, Ebx, 9, OsState::None},
};

/// Runs cpuid (\p leaf, \p subleaf) into \p regs if the CPU has that leaf;
/// otherwise zeroes \p regs.
void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
  regs[Eax] = regs[Ebx] = regs[Ecx] = regs[Edx] = 0;
  // __get_cpuid_count checks the leaf against the highest basic or
  // extended leaf; subleaves are checked by the callers.
  __get_cpuid_count(leaf, subleaf, &regs[Eax], &regs[Ebx], &regs[Ecx],
                    &regs[Edx]);
}

/// XCR0: the register state the OS saves on context switches.
uint64_t readXcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return uint64_t(edx) << 32 | eax;
}

void detect(CpuFeatures &cpu) {
  uint32_t regs[4];
  cpuid(0, 0, regs);
  char vendor[13] = {};
  std::memcpy(vendor, &regs[Ebx], 4);
  std::memcpy(vendor + 4, &regs[Edx], 4);
  std::memcpy(vendor + 8, &regs[Ecx], 4);
  cpu.name = vendor;

  uint32_t brand[12];
  cpuid(0x80000000, 0, regs);
  if (regs[Eax] >= 0x80000004) {
    for (uint32_t i = 0; i < 3; ++i)
      cpuid(0x80000002 + i, 0, brand + 4 * i);
    char text[sizeof(brand) + 1] = {};
    std::memcpy(text, brand, sizeof(brand));
    std::string name(text);
    size_t first = name.find_first_not_of(' ');
    size_t last = name.find_last_not_of(' ');
    if (first != std::string::npos)
      cpu.name = name.substr(first, last - first + 1);
  }

  uint32_t leaf1[4];
  cpuid(1, 0, leaf1);
  bool osAvx = false, osAvx512 = false;
  if (leaf1[Ecx] >> 27 & 1) { // OSXSAVE: XGETBV is usable.
    uint64_t xcr0 = readXcr0();
    osAvx = (xcr0 & 0x6) == 0x6;
    osAvx512 = osAvx && (xcr0 & 0xE0) == 0xE0;
  }
  uint32_t leaf7[4], leaf7s1[4];
  cpuid(7, 0, leaf7);
  cpuid(7, 1, leaf7s1);
  if (leaf7[Eax] < 1) // Highest subleaf of leaf 7.
    std::memset(leaf7s1, 0, sizeof(leaf7s1));

  for (const FeatureBit &f : kFeatures) {
    const uint32_t *r = regs;
    if (f.leaf == 1)
      r = leaf1;
    else if (f.leaf == 7)
      r = f.subleaf == 0 ? leaf7 : leaf7s1;
    else
      cpuid(f.leaf, f.subleaf, regs);
    if (!(r[f.reg] >> f.bit & 1))
      continue;
    if ((f.state == OsState::Avx && !osAvx) ||
        (f.state == OsState::Avx512 && !osAvx512))
      continue;
    cpu.features.push_back(f.name);
  }
}

#elif defined(__aarch64__)

//===----------------------------------------------------------------------===//
// aarch64
//===----------------------------------------------------------------------===//

constexpr const char *kArch = "aarch64";

struct FeatureBit {
  const char *name;
  /// 1: AT_HWCAP, 2: AT_HWCAP2.
  uint8_t word;
  /// All of these bits must be set.
  uint64_t mask;
};

// Bits of arch/arm64/include/uapi/asm/hwcap.h (a stable kernel ABI).
constexpr FeatureBit kFeatures[] = {
    {"fp-armv8", 1, 1ull << 0},   // HWCAP_FP
    {"neon", 1, 1ull << 1},       // HWCAP_ASIMD
    {"aes", 1, 1ull << 3},        // HWCAP_AES
    {"sha2", 1, 1ull << 6},       // HWCAP_SHA2
    {"crc", 1, 1ull << 7},        // HWCAP_CRC32
    {"lse", 1, 1ull << 8},        // HWCAP_ATOMICS
    {"fullfp16", 1, 3ull << 9},   // HWCAP_FPHP | HWCAP_ASIMDHP
    {"rdm", 1, 1ull << 12},       // HWCAP_ASIMDRDM
    {"jsconv", 1, 1ull << 13},    // HWCAP_JSCVT
    {"complxnum", 1, 1ull << 14}, // HWCAP_FCMA
    {"rcpc", 1, 1ull << 15},      // HWCAP_LRCPC
    {"ccpp", 1, 1ull << 16},      // HWCAP_DCPOP
    {"sha3", 1, 1ull << 17},      // HWCAP_SHA3
    {"sm4", 1, 3ull << 18},       // HWCAP_SM3 | HWCAP_SM4
    {"dotprod", 1, 1ull << 20},   // HWCAP_ASIMDDP
    {"sve", 1, 1ull << 22},       // HWCAP_SVE
    {"fp16fml", 1, 1ull << 23},   // HWCAP_ASIMDFHM
    {"dit", 1, 1ull << 24},       // HWCAP_DIT
    {"flagm", 1, 1ull << 27},     // HWCAP_FLAGM
    {"ssbs", 1, 1ull << 28},      // HWCAP_SSBS
    {"sb", 1, 1ull << 29},        // HWCAP_SB
    {"sve2", 2, 1ull << 1},       // HWCAP2_SVE2
    {"i8mm", 2, 1ull << 13},      // HWCAP2_I8MM
    {"bf16", 2, 1ull << 14},      // HWCAP2_BF16
    {"rand", 2, 1ull << 16},      // HWCAP2_RNG
    {"bti", 2, 1ull << 17},       // HWCAP2_BTI
    {"mte", 2, 1ull << 18},       // HWCAP2_MTE
    {"sme", 2, 1ull << 23},       // HWCAP2_SME
};

void detect(CpuFeatures &cpu) {
  cpu.name = "aarch64 CPU";
#if defined(__linux__)
  // AT_HWCAP and AT_HWCAP2 of <elf.h>, in case the libc headers are old.
  const uint64_t hwcap[3] = {0, uint64_t(getauxval(16)),
                             uint64_t(getauxval(26))};
  for (const FeatureBit &f : kFeatures)
    if ((hwcap[f.word] & f.mask) == f.mask)
      cpu.features.push_back(f.name);
#else
  // Without AT_HWCAP, report only what every AArch64 CPU has.
  cpu.features = {"fp-armv8", "neon"};
#endif
}

#else

constexpr const char *kArch = "unknown";

struct FeatureBit {
  const char *name;
};
constexpr FeatureBit kFeatures[] = {{nullptr}};

void detect(CpuFeatures &cpu) { cpu.name = "unknown CPU"; }

#endif

/// Joins \p names with ", ".
std::string join(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &name : names) {
    if (!out.empty())
      out += ", ";
    out += name;
  }
  return out;
}

} // namespace

//===----------------------------------------------------------------------===//
// Public functions
//===----------------------------------------------------------------------===//

bool CpuFeatures::has(const std::string &feature) const {
  return std::binary_search(features.begin(), features.end(), feature);
}

CpuFeatures detectCpu() {
  // cpuid is slow under a hypervisor (it traps): detect once per process.
  static const CpuFeatures detected = [] {
    CpuFeatures cpu;
    cpu.arch = kArch;
    detect(cpu);
    // TERMINATOR_CPU_FEATURES=a,b,... hides every detected feature not in
    // the list: a program then behaves as on a smaller CPU of the same
    // architecture (to test the start-up check, or to reproduce a report).
    // It can only remove features, never add one the CPU lacks.
    if (const char *only = std::getenv("TERMINATOR_CPU_FEATURES")) {
      std::string list = std::string(",") + only + ",";
      cpu.features.erase(
          std::remove_if(cpu.features.begin(), cpu.features.end(),
                         [&](const std::string &f) {
                           return list.find("," + f + ",") == std::string::npos;
                         }),
          cpu.features.end());
    }
    std::sort(cpu.features.begin(), cpu.features.end());
    cpu.features.erase(std::unique(cpu.features.begin(), cpu.features.end()),
                       cpu.features.end());
    return cpu;
  }();
  return detected;
}

std::vector<std::string> knownCpuFeatures() {
  std::vector<std::string> names;
  for (const FeatureBit &f : kFeatures)
    if (f.name)
      names.push_back(f.name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

bool checkCpu(const std::string &required, std::string &error) {
  error.clear();
  std::vector<std::string> known = knownCpuFeatures();
  std::vector<std::string> unknown, wanted;
  for (size_t start = 0; start <= required.size();) {
    size_t end = required.find(',', start);
    if (end == std::string::npos)
      end = required.size();
    std::string name = required.substr(start, end - start);
    start = end + 1;
    // Trim spaces, lower-case, drop a leading '+'; skip "-name" and "".
    size_t first = name.find_first_not_of(" \t");
    size_t last = name.find_last_not_of(" \t");
    name =
        first == std::string::npos ? "" : name.substr(first, last - first + 1);
    for (char &c : name)
      c = char(std::tolower(uint8_t(c)));
    if (!name.empty() && name[0] == '+')
      name.erase(0, 1);
    if (name.empty() || name[0] == '-')
      continue;
    if (!std::binary_search(known.begin(), known.end(), name))
      unknown.push_back(name);
    else
      wanted.push_back(name);
  }

  CpuFeatures cpu = detectCpu();
  const std::string detected =
      "this CPU is " + cpu.arch + " \"" + cpu.name + "\" with features: " +
      (cpu.features.empty() ? std::string("none") : join(cpu.features));
  if (!unknown.empty()) {
    error = "the compiled model requires CPU features this runtime does not "
            "know for " +
            cpu.arch + ": " + join(unknown) + " (the required list is \"" +
            required +
            "\"); it was compiled for another architecture or by a newer "
            "terminator-compile; " +
            detected +
            "; recompile with terminator-compile --target=... matching this "
            "CPU, e.g. --target=host";
    return false;
  }
  std::vector<std::string> missing;
  for (const std::string &name : wanted)
    if (!cpu.has(name) &&
        std::find(missing.begin(), missing.end(), name) == missing.end())
      missing.push_back(name);
  if (!missing.empty()) {
    error = "the compiled model requires CPU features this CPU lacks: " +
            join(missing) + "; " + detected +
            "; recompile with terminator-compile --target=... matching this "
            "CPU, e.g. --target=host";
    return false;
  }
  return true;
}

} // namespace trt
