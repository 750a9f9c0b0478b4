//===- terminator-archive.cpp - Inspect and create parameter archives -----===//
//
// A small command-line front end to the runtime's TPAR reader and writer
// (terminator/runtime.h): list, verify and dump archives, and create test
// archives from the command line. Plain C++, links terminator_rt only.
//
//===----------------------------------------------------------------------===//

#include "terminator/runtime.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr const char *kTool = "terminator-archive";

const char *const kUsage =
    R"(usage: terminator-archive <command> [arguments]

Inspect and create TerMinator parameter archives (.tpar files; the format is
described in docs/archive-format.md).

commands:
  list FILE              print one line per entry:
                           NAME DTYPE SHAPE offset=O nbytes=N xxh3=CHECKSUM
                         (checks the header and index, not the data)
  verify FILE            check everything, data checksums included, and
                         print "ok: N entries, B bytes" (B = data bytes)
  dump FILE NAME [--limit N]
                         print the values of one entry (first N, default
                         256; 0 prints all); bytes entries print as hex
  create OUT SPEC...     write a new archive OUT (replaced atomically) with
                         one entry per SPEC, in order
  --help, -h             print this help

SPEC is NAME=DTYPE:SHAPE[:FILL]
  NAME   entry name (may not contain '=')
  DTYPE  f32 f16 bf16 i8 u8 i32 i64 bytes
  SHAPE  dims separated by 'x' (4x8, 16), or 'scalar' / empty for rank 0
  FILL   zero       all zeros (default)
         iota       0, 1, 2, ... (wraps around in narrow integer types)
         <number>   every element set to this value (e.g. 1.5, -3)
         @PATH      the raw bytes of file PATH; for 'bytes' entries its size
                    is free, otherwise it must match the shape
  A 'bytes' entry without @PATH has one byte per element of its shape.

examples:
  terminator-archive create model.tpar w=f32:4x8:iota b=i8:8:-1 s=f32:scalar:2
  terminator-archive create codes.tpar packed=bytes:64x32:@codes.bin
  terminator-archive list model.tpar
  terminator-archive verify model.tpar

exit status: 0 on success, 1 if an archive or input file is bad, 2 on a
usage error.
)";

/// Exit codes.
enum : int { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

__attribute__((format(printf, 1, 2))) int usageError(const char *format, ...) {
  std::fprintf(stderr, "%s: error: ", kTool);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fprintf(stderr, "\nrun '%s --help' for usage\n", kTool);
  return kExitUsage;
}

__attribute__((format(printf, 1, 2))) int failure(const char *format, ...) {
  std::fprintf(stderr, "%s: error: ", kTool);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  return kExitFailure;
}

std::string shapeString(const trt_entry &entry) {
  if (entry.rank == 0)
    return "scalar";
  std::string out;
  for (uint32_t i = 0; i < entry.rank; ++i) {
    if (i)
      out += 'x';
    out += std::to_string(entry.dims[i]);
  }
  return out;
}

/// Owns an open archive.
struct ArchiveCloser {
  void operator()(trt_archive *archive) const { trt_archive_close(archive); }
};
using ArchivePtr = std::unique_ptr<trt_archive, ArchiveCloser>;

/// Owns a writer; destroying it without finish discards the archive.
struct WriterDestroyer {
  void operator()(trt_writer *writer) const { trt_writer_destroy(writer); }
};
using WriterPtr = std::unique_ptr<trt_writer, WriterDestroyer>;

/// Opens \p path or prints the runtime's message.
ArchivePtr openArchive(const char *path, uint32_t flags) {
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_archive *archive = nullptr;
  if (trt_archive_open(path, flags, &archive, err, sizeof(err)) != TRT_OK)
    failure("%s", err);
  return ArchivePtr(archive);
}

//===----------------------------------------------------------------------===//
// list, verify, dump
//===----------------------------------------------------------------------===//

int runList(const char *path) {
  ArchivePtr archive = openArchive(path, TRT_ARCHIVE_NO_VERIFY);
  if (!archive)
    return kExitFailure;
  uint32_t count = trt_archive_entry_count(archive.get());
  for (uint32_t i = 0; i < count; ++i) {
    const trt_entry *entry = trt_archive_entry_at(archive.get(), i);
    std::printf("%s  %s  %s  offset=%" PRIu64 "  nbytes=%" PRIu64
                "  xxh3=%016" PRIx64 "\n",
                entry->name, trt_dtype_name(entry->dtype),
                shapeString(*entry).c_str(), entry->offset, entry->nbytes,
                entry->checksum);
  }
  return kExitOk;
}

int runVerify(const char *path) {
  ArchivePtr archive = openArchive(path, 0);
  if (!archive)
    return kExitFailure;
  uint32_t count = trt_archive_entry_count(archive.get());
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < count; ++i)
    bytes += trt_archive_entry_at(archive.get(), i)->nbytes;
  std::printf("ok: %u entries, %" PRIu64 " bytes\n", count, bytes);
  return kExitOk;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  float magnitude;
  if (exp == 0)
    magnitude = std::ldexp(float(mant), -24);
  else if (exp == 31)
    magnitude = mant ? NAN : INFINITY;
  else
    magnitude = std::ldexp(float(mant | 0x400), int(exp) - 25);
  return sign ? -magnitude : magnitude;
}

float bf16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

template <typename T> T loadAt(const void *data, uint64_t i) {
  T value;
  std::memcpy(&value, static_cast<const char *>(data) + i * sizeof(T),
              sizeof(T));
  return value;
}

/// Prints element \p i of \p entry.
void printElement(const trt_entry &entry, uint64_t i) {
  const void *data = entry.data;
  switch (entry.dtype) {
  case TRT_DTYPE_F32:
    std::printf("%g", double(loadAt<float>(data, i)));
    return;
  case TRT_DTYPE_F16:
    std::printf("%g", double(halfToFloat(loadAt<uint16_t>(data, i))));
    return;
  case TRT_DTYPE_BF16:
    std::printf("%g", double(bf16ToFloat(loadAt<uint16_t>(data, i))));
    return;
  case TRT_DTYPE_I8:
    std::printf("%d", int(loadAt<int8_t>(data, i)));
    return;
  case TRT_DTYPE_U8:
    std::printf("%u", unsigned(loadAt<uint8_t>(data, i)));
    return;
  case TRT_DTYPE_I32:
    std::printf("%" PRId32, loadAt<int32_t>(data, i));
    return;
  case TRT_DTYPE_I64:
    std::printf("%" PRId64, loadAt<int64_t>(data, i));
    return;
  case TRT_DTYPE_BYTES:
    std::printf("%02x", unsigned(loadAt<uint8_t>(data, i)));
    return;
  case TRT_DTYPE_INVALID:
  case TRT_DTYPE_FORCE_32BIT:
    return;
  }
}

int runDump(const char *path, const char *name, uint64_t limit) {
  ArchivePtr archive = openArchive(path, TRT_ARCHIVE_NO_VERIFY);
  if (!archive)
    return kExitFailure;
  char err[TRT_ERROR_MESSAGE_SIZE];
  const trt_entry *entry = nullptr;
  if (trt_archive_find(archive.get(), name, &entry, err, sizeof(err)) !=
          TRT_OK ||
      trt_archive_verify_entry(archive.get(), entry, err, sizeof(err)) !=
          TRT_OK)
    return failure("%s", err);
  uint32_t size = trt_dtype_size(entry->dtype);
  uint64_t count = size ? entry->nbytes / size : entry->nbytes;
  std::printf("%s: %s %s, %" PRIu64 " bytes\n", entry->name,
              trt_dtype_name(entry->dtype), shapeString(*entry).c_str(),
              entry->nbytes);
  uint64_t shown = limit && limit < count ? limit : count;
  for (uint64_t i = 0; i < shown; ++i) {
    printElement(*entry, i);
    std::fputc((i + 1) % 8 == 0 || i + 1 == shown ? '\n' : ' ', stdout);
  }
  if (shown < count)
    std::printf("... (%" PRIu64 " more; pass --limit 0 to print all)\n",
                count - shown);
  return kExitOk;
}

//===----------------------------------------------------------------------===//
// create
//===----------------------------------------------------------------------===//

/// How the elements of a created entry are filled.
enum class FillKind { Zero, Iota, Constant, File };

/// One parsed NAME=DTYPE:SHAPE[:FILL].
struct Spec {
  std::string name;
  trt_dtype dtype = TRT_DTYPE_INVALID;
  std::vector<uint64_t> dims;
  FillKind fill = FillKind::Zero;
  double constant = 0;     // Floating constant.
  int64_t intConstant = 0; // Integer constant.
  std::string file;        // FillKind::File.
};

bool parseU64(const std::string &text, uint64_t &value) {
  if (text.empty() || text[0] < '0' || text[0] > '9')
    return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long parsed = std::strtoull(text.c_str(), &end, 10);
  if (errno || *end)
    return false;
  value = parsed;
  return true;
}

bool isFloat(trt_dtype dtype) {
  return dtype == TRT_DTYPE_F32 || dtype == TRT_DTYPE_F16 ||
         dtype == TRT_DTYPE_BF16;
}

/// Parses \p text into \p spec; on failure prints why and returns false.
bool parseSpec(const std::string &text, Spec &spec) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    usageError("bad entry spec '%s': expected NAME=DTYPE:SHAPE[:FILL], "
               "e.g. w=f32:4x8:iota",
               text.c_str());
    return false;
  }
  spec.name = text.substr(0, eq);
  std::string rest = text.substr(eq + 1);
  size_t colon1 = rest.find(':');
  if (colon1 == std::string::npos) {
    usageError("bad entry spec '%s': missing ':SHAPE' after the dtype, "
               "e.g. %s=f32:4x8",
               text.c_str(), spec.name.c_str());
    return false;
  }
  std::string dtypeText = rest.substr(0, colon1);
  size_t colon2 = rest.find(':', colon1 + 1);
  std::string shapeText = rest.substr(colon1 + 1, colon2 == std::string::npos
                                                      ? std::string::npos
                                                      : colon2 - colon1 - 1);
  std::string fillText =
      colon2 == std::string::npos ? "zero" : rest.substr(colon2 + 1);

  spec.dtype = trt_dtype_from_name(dtypeText.c_str());
  if (spec.dtype == TRT_DTYPE_INVALID) {
    usageError("entry '%s': unknown dtype '%s'; use one of f32 f16 bf16 i8 "
               "u8 i32 i64 bytes",
               spec.name.c_str(), dtypeText.c_str());
    return false;
  }

  if (!shapeText.empty() && shapeText != "scalar") {
    size_t start = 0;
    while (true) {
      size_t x = shapeText.find('x', start);
      std::string dim = shapeText.substr(
          start, x == std::string::npos ? std::string::npos : x - start);
      uint64_t value;
      if (!parseU64(dim, value)) {
        usageError("entry '%s': bad shape '%s'; write dims as non-negative "
                   "integers separated by 'x' (4x8), or 'scalar'",
                   spec.name.c_str(), shapeText.c_str());
        return false;
      }
      spec.dims.push_back(value);
      if (x == std::string::npos)
        break;
      start = x + 1;
    }
  }

  if (fillText == "zero") {
    spec.fill = FillKind::Zero;
  } else if (fillText == "iota") {
    spec.fill = FillKind::Iota;
  } else if (!fillText.empty() && fillText[0] == '@') {
    spec.fill = FillKind::File;
    spec.file = fillText.substr(1);
  } else {
    spec.fill = FillKind::Constant;
    errno = 0;
    char *end = nullptr;
    bool ok;
    if (isFloat(spec.dtype)) {
      spec.constant = std::strtod(fillText.c_str(), &end);
      ok = !fillText.empty() && !*end;
    } else {
      long long value = std::strtoll(fillText.c_str(), &end, 0);
      spec.intConstant = value;
      ok = !fillText.empty() && !*end && errno == 0;
      long long lo = 0, hi = 0;
      switch (spec.dtype) {
      case TRT_DTYPE_I8:
        lo = -128, hi = 127;
        break;
      case TRT_DTYPE_U8:
      case TRT_DTYPE_BYTES:
        lo = 0, hi = 255;
        break;
      case TRT_DTYPE_I32:
        lo = INT32_MIN, hi = INT32_MAX;
        break;
      default:
        lo = INT64_MIN, hi = INT64_MAX;
        break;
      }
      if (ok && (value < lo || value > hi)) {
        usageError("entry '%s': fill value %lld is out of range for %s "
                   "(%lld to %lld)",
                   spec.name.c_str(), value, trt_dtype_name(spec.dtype), lo,
                   hi);
        return false;
      }
    }
    if (!ok) {
      usageError("entry '%s': bad fill '%s'; use zero, iota, a number valid "
                 "for %s, or @PATH",
                 spec.name.c_str(), fillText.c_str(),
                 trt_dtype_name(spec.dtype));
      return false;
    }
  }
  return true;
}

/// Rounds \p f to the nearest IEEE half (ties to even).
uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof(x));
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t exp = (x >> 23) & 0xFF;
  uint32_t mant = x & 0x7FFFFF;
  if (exp == 0xFF)
    return uint16_t(sign | 0x7C00 | (mant ? 0x200 : 0));
  int e = int(exp) - 127 + 15;
  if (e >= 31)
    return uint16_t(sign | 0x7C00);
  if (e <= 0) {
    if (e < -10)
      return uint16_t(sign);
    mant |= 0x800000;
    int shift = 14 - e;
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = (uint32_t(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    ++half; // A carry into the exponent is the correct rounding.
  return uint16_t(sign | half);
}

/// Rounds \p f to the nearest bfloat16 (ties to even).
uint16_t floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof(x));
  if ((x & 0x7FFFFFFF) > 0x7F800000)
    return uint16_t((x >> 16) | 0x40); // Quiet NaN.
  x += 0x7FFF + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

/// Writes element value \p v (already chosen for the dtype) at \p out.
void storeElement(trt_dtype dtype, double v, int64_t iv, char *out) {
  switch (dtype) {
  case TRT_DTYPE_F32: {
    float f = float(v);
    std::memcpy(out, &f, 4);
    return;
  }
  case TRT_DTYPE_F16: {
    uint16_t h = floatToHalf(float(v));
    std::memcpy(out, &h, 2);
    return;
  }
  case TRT_DTYPE_BF16: {
    uint16_t b = floatToBf16(float(v));
    std::memcpy(out, &b, 2);
    return;
  }
  case TRT_DTYPE_I8:
  case TRT_DTYPE_U8:
  case TRT_DTYPE_BYTES:
    *out = char(uint8_t(uint64_t(iv)));
    return;
  case TRT_DTYPE_I32: {
    uint32_t i = uint32_t(uint64_t(iv));
    std::memcpy(out, &i, 4);
    return;
  }
  case TRT_DTYPE_I64:
    std::memcpy(out, &iv, 8);
    return;
  case TRT_DTYPE_INVALID:
  case TRT_DTYPE_FORCE_32BIT:
    return;
  }
}

/// Streams the data of \p spec into \p writer in bounded chunks.
int writeEntry(trt_writer *writer, const Spec &spec) {
  char err[TRT_ERROR_MESSAGE_SIZE];
  uint32_t rank = uint32_t(spec.dims.size());
  const uint64_t *dims = spec.dims.empty() ? nullptr : spec.dims.data();
  uint64_t elements = 1;
  for (uint64_t d : spec.dims)
    if (__builtin_mul_overflow(elements, d, &elements))
      return failure("entry '%s': the shape has too many elements",
                     spec.name.c_str());
  uint32_t elementSize = trt_dtype_size(spec.dtype);
  if (elementSize == 0)
    elementSize = 1; // bytes: one byte per element unless read from a file.

  std::vector<char> chunk(1 << 16);
  if (spec.fill == FillKind::File) {
    std::FILE *file = std::fopen(spec.file.c_str(), "rb");
    if (!file)
      return failure("entry '%s': cannot open fill file '%s': %s",
                     spec.name.c_str(), spec.file.c_str(),
                     std::strerror(errno));
    std::unique_ptr<std::FILE, int (*)(std::FILE *)> closer(file, &std::fclose);
    if (std::fseek(file, 0, SEEK_END) != 0)
      return failure("entry '%s': cannot seek in fill file '%s': %s",
                     spec.name.c_str(), spec.file.c_str(),
                     std::strerror(errno));
    long size = std::ftell(file);
    std::rewind(file);
    if (size < 0)
      return failure("entry '%s': cannot size fill file '%s': %s",
                     spec.name.c_str(), spec.file.c_str(),
                     std::strerror(errno));
    if (trt_writer_begin_entry(writer, spec.name.c_str(), spec.dtype, rank,
                               dims, uint64_t(size), err,
                               sizeof(err)) != TRT_OK)
      return failure("%s (fill file '%s' has %ld bytes)", err,
                     spec.file.c_str(), size);
    size_t got;
    while ((got = std::fread(chunk.data(), 1, chunk.size(), file)) > 0)
      if (trt_writer_write(writer, chunk.data(), got, err, sizeof(err)) !=
          TRT_OK)
        return failure("%s", err);
    if (std::ferror(file))
      return failure("entry '%s': cannot read fill file '%s'",
                     spec.name.c_str(), spec.file.c_str());
  } else {
    uint64_t nbytes;
    if (__builtin_mul_overflow(elements, uint64_t(elementSize), &nbytes))
      return failure("entry '%s': the shape has too many elements",
                     spec.name.c_str());
    if (trt_writer_begin_entry(writer, spec.name.c_str(), spec.dtype, rank,
                               dims, nbytes, err, sizeof(err)) != TRT_OK)
      return failure("%s", err);
    uint64_t perChunk = chunk.size() / elementSize;
    for (uint64_t first = 0; first < elements; first += perChunk) {
      uint64_t n = std::min<uint64_t>(perChunk, elements - first);
      for (uint64_t i = 0; i < n; ++i) {
        double v = 0;
        int64_t iv = 0;
        if (spec.fill == FillKind::Iota)
          v = double(first + i), iv = int64_t(first + i);
        else if (spec.fill == FillKind::Constant)
          v = spec.constant, iv = spec.intConstant;
        storeElement(spec.dtype, v, iv, chunk.data() + i * elementSize);
      }
      if (trt_writer_write(writer, chunk.data(), size_t(n * elementSize), err,
                           sizeof(err)) != TRT_OK)
        return failure("%s", err);
    }
  }
  if (trt_writer_end_entry(writer, err, sizeof(err)) != TRT_OK)
    return failure("%s", err);
  return kExitOk;
}

int runCreate(const char *out, int count, char **specTexts) {
  // Parse everything first, so a typo never costs a half-written archive.
  std::vector<Spec> specs(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i)
    if (!parseSpec(specTexts[i], specs[static_cast<size_t>(i)]))
      return kExitUsage;

  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_writer *raw = nullptr;
  if (trt_writer_create(out, &raw, err, sizeof(err)) != TRT_OK)
    return failure("%s", err);
  WriterPtr writer(raw);
  for (const Spec &spec : specs)
    if (int status = writeEntry(writer.get(), spec))
      return status; // The writer is destroyed: nothing reaches OUT.
  if (trt_writer_finish(writer.get(), err, sizeof(err)) != TRT_OK)
    return failure("%s", err);
  return kExitOk;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return usageError("missing command (list, verify, dump or create)");
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (command == "list" || command == "verify") {
    if (argc != 3)
      return usageError("'%s' takes exactly one FILE", command.c_str());
    return command == "list" ? runList(argv[2]) : runVerify(argv[2]);
  }
  if (command == "dump") {
    uint64_t limit = 256;
    if (argc == 6 && std::strcmp(argv[4], "--limit") == 0) {
      if (!parseU64(argv[5], limit))
        return usageError("--limit takes a non-negative integer, not '%s'",
                          argv[5]);
    } else if (argc != 4) {
      return usageError("'dump' takes FILE NAME [--limit N]");
    }
    return runDump(argv[2], argv[3], limit);
  }
  if (command == "create") {
    if (argc < 3)
      return usageError("'create' needs an output file, then entry specs "
                        "NAME=DTYPE:SHAPE[:FILL]");
    return runCreate(argv[2], argc - 3, argv + 3);
  }
  return usageError("unknown command '%s'; use list, verify, dump or create",
                    command.c_str());
}
