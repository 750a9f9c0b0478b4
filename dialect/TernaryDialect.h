//===- TernaryDialect.h - the ternary dialect -------------------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_DIALECT_TERNARYDIALECT_H
#define TERMINATOR_DIALECT_TERNARYDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialect/TernaryDialect.h.inc"

#endif // TERMINATOR_DIALECT_TERNARYDIALECT_H
