/*===- RuntimeHeaderC.c - terminator/runtime.h must compile as C11 -------===*\
|*                                                                            *|
|* Built as C11 with -Wpedantic into terminator-unit-tests; the function is   *|
|* called by ArchiveTest.PublicHeaderCompilesAsC.                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "terminator/runtime.h"

int trt_test_header_compiles_as_c(void);

int trt_test_header_compiles_as_c(void) {
  trt_entry entry = {0};
  trt_status status = TRT_OK;
  (void)entry;
  (void)status;
  return (int)trt_dtype_size(TRT_DTYPE_F32);
}
