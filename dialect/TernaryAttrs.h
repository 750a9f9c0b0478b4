//===- TernaryAttrs.h - weight encodings and parameters ---------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_DIALECT_TERNARYATTRS_H
#define TERMINATOR_DIALECT_TERNARYATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialect/TernaryAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/TernaryAttrs.h.inc"

#endif // TERMINATOR_DIALECT_TERNARYATTRS_H
