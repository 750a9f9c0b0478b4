//===- TernaryOps.h - ternary dialect operations ----------------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_DIALECT_TERNARYOPS_H
#define TERMINATOR_DIALECT_TERNARYOPS_H

#include "dialect/TernaryAttrs.h"
#include "dialect/TernaryDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/TernaryOps.h.inc"

#endif // TERMINATOR_DIALECT_TERNARYOPS_H
