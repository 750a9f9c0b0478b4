//===- memref.cpp - support functions that MLIR-generated code calls ------===//
//
// Part of TerMinator. MLIR's memref lowering calls `memrefCopy` for copies
// between buffers with non-identity layouts (slices of the KV cache, ...).
// Upstream implements it in libmlir_c_runner_utils; compiled programs must
// not depend on an LLVM library, so the runtime carries its own, with the
// same C ABI:
//
//   void memrefCopy(int64_t elemSize, UnrankedMemRef *src,
//                   UnrankedMemRef *dst);
//
// where an unranked memref is {int64_t rank; void *descriptor} and a ranked
// descriptor is {T *allocated; T *aligned; int64_t offset;
// int64_t sizes[rank]; int64_t strides[rank]}.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>

namespace {
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

struct View {
  char *base;
  const int64_t *sizes;
  const int64_t *strides;
};

View view(const UnrankedMemRef *m, int64_t elemSize) {
  auto *words = static_cast<int64_t *>(m->descriptor);
  char *aligned = reinterpret_cast<char *>(words[1]);
  int64_t offset = words[2];
  return {aligned + offset * elemSize, words + 3, words + 3 + m->rank};
}

/// Copies dimension `d` onward; the innermost contiguous run is one memcpy.
void copy(const View &src, const View &dst, int64_t rank, int64_t d,
          int64_t elemSize, char *s, char *t) {
  if (d == rank) {
    std::memcpy(t, s, size_t(elemSize));
    return;
  }
  int64_t n = src.sizes[d];
  if (d == rank - 1 && src.strides[d] == 1 && dst.strides[d] == 1) {
    std::memcpy(t, s, size_t(n * elemSize));
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    copy(src, dst, rank, d + 1, elemSize, s + i * src.strides[d] * elemSize,
         t + i * dst.strides[d] * elemSize);
}
} // namespace

extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef *src,
                           UnrankedMemRef *dst) {
  int64_t rank = src->rank;
  View s = view(src, elemSize), t = view(dst, elemSize);
  for (int64_t d = 0; d < rank; ++d)
    if (s.sizes[d] == 0)
      return;
  copy(s, t, rank, 0, elemSize, s.base, t.base);
}
