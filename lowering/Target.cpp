//===- Target.cpp - the target description of the lowering ----------------===//
//
// Part of TerMinator. See Target.h.
//
//===----------------------------------------------------------------------===//

#include "lowering/Target.h"

#include "dialect/TernaryDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::terminator;

StringRef mlir::terminator::kernelIsaName(KernelIsa isa) {
  switch (isa) {
  case KernelIsa::None:
    return "none";
  case KernelIsa::X86Avx2:
    return "avx2";
  case KernelIsa::X86Avx512Vnni:
    return "avx512-vnni";
  case KernelIsa::ArmNeonDot:
    return "neon-dotprod";
  }
  return "none";
}

std::optional<KernelIsa> mlir::terminator::parseKernelIsa(StringRef name) {
  for (KernelIsa isa : {KernelIsa::None, KernelIsa::X86Avx2,
                        KernelIsa::X86Avx512Vnni, KernelIsa::ArmNeonDot})
    if (kernelIsaName(isa) == name)
      return isa;
  return std::nullopt;
}

StringRef mlir::terminator::kernelIsaRuntimeFeatures(KernelIsa isa) {
  switch (isa) {
  case KernelIsa::None:
    return "";
  case KernelIsa::X86Avx2:
    return "avx2";
  case KernelIsa::X86Avx512Vnni:
    return "avx512f,avx512bw,avx512vnni";
  case KernelIsa::ArmNeonDot:
    return "neon,dotprod";
  }
  return "";
}

bool TargetDescription::hasFeature(StringRef name) const {
  SmallVector<StringRef> flags;
  StringRef(features).split(flags, ',', -1, false);
  bool on = false;
  for (StringRef f : flags) {
    f = f.trim();
    if (f.drop_front() == name)
      on = f.starts_with("+");
  }
  return on;
}

KernelIsa TargetDescription::kernelIsa() const {
  StringRef t(triple);
  if (t.starts_with("aarch64") || t.starts_with("arm64"))
    return hasFeature("dotprod") ? KernelIsa::ArmNeonDot : KernelIsa::None;
  if (t.starts_with("x86_64")) {
    if (hasFeature("avx512vnni") && hasFeature("avx512bw"))
      return KernelIsa::X86Avx512Vnni;
    if (hasFeature("avx2"))
      return KernelIsa::X86Avx2;
  }
  return KernelIsa::None;
}

void TargetDescription::attachTo(ModuleOp module) const {
  Builder b(module.getContext());
  module->setAttr(ternary::TernaryDialect::getTargetAttrName(),
                  b.getDictionaryAttr(
                      {b.getNamedAttr("triple", b.getStringAttr(triple)),
                       b.getNamedAttr("cpu", b.getStringAttr(cpu)),
                       b.getNamedAttr("features", b.getStringAttr(features))}));
}

std::optional<TargetDescription>
TargetDescription::fromModule(ModuleOp module) {
  auto dict = module->getAttrOfType<DictionaryAttr>(
      ternary::TernaryDialect::getTargetAttrName());
  if (!dict)
    return std::nullopt;
  TargetDescription t;
  if (auto s = dict.getAs<StringAttr>("triple"))
    t.triple = s.str();
  if (auto s = dict.getAs<StringAttr>("cpu"))
    t.cpu = s.str();
  if (auto s = dict.getAs<StringAttr>("features"))
    t.features = s.str();
  return t;
}
