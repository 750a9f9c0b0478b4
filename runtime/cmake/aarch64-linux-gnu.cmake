#===- runtime/cmake/aarch64-linux-gnu.cmake - cross toolchain -------------===#
#
# Cross-build the runtime for aarch64 Linux with clang and Debian's GNU cross
# toolchain (g++-aarch64-linux-gnu: headers, libstdc++ and binutils):
#   cmake -S runtime -B build-rt-aarch64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=runtime/cmake/aarch64-linux-gnu.cmake \
#     -DXXHASH_INCLUDE_DIR=<a folder holding only xxhash.h>
# The top-level build does this by itself when the toolchain is installed.
#
#===----------------------------------------------------------------------===#
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
find_program(TERMINATOR_CLANG NAMES clang-22 clang REQUIRED)
find_program(TERMINATOR_CLANGXX NAMES clang++-22 clang++ REQUIRED)
set(CMAKE_C_COMPILER ${TERMINATOR_CLANG})
set(CMAKE_CXX_COMPILER ${TERMINATOR_CLANGXX})
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
