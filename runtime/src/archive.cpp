//===- archive.cpp - Parameter archive (TPAR) reader and writer -----------===//
//
// Implements the `trt_archive_*` and `trt_writer_*` functions of
// terminator/runtime.h. The byte layout is specified in
// docs/archive-format.md; keep the two in sync.
//
// Every public function is a thin `extern "C"` shim around a C++ function
// that reports failures through an `ErrorSink`; `guarded` turns a stray
// exception (only std::bad_alloc can occur) into a status, so none crosses
// the C API.
//
//===----------------------------------------------------------------------===//

#define _FILE_OFFSET_BITS 64

#include "terminator/runtime.h"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// XXH3 is used header-only, so the runtime needs no extra library when it is
// cross-built; see docs/archive-format.md for the choice of hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the TerMinator runtime supports little-endian targets only"
#endif

namespace {

//===----------------------------------------------------------------------===//
// Format constants
//===----------------------------------------------------------------------===//

constexpr uint64_t kHeaderSize = TRT_ARCHIVE_HEADER_SIZE;
constexpr uint64_t kAlignment = TRT_ARCHIVE_ALIGNMENT;
constexpr uint32_t kMaxRank = TRT_ARCHIVE_MAX_RANK;
constexpr uint32_t kMaxNameLength = TRT_ARCHIVE_MAX_NAME_LENGTH;
constexpr char kMagic[8] = {'T', 'M', 'N', 'P', 'A', 'R', 'A', 'M'};

// Header field offsets (docs/archive-format.md, "Header").
constexpr size_t kOffVersion = 8;
constexpr size_t kOffFlags = 12;
constexpr size_t kOffEntryCount = 16;
constexpr size_t kOffIndexOffset = 24;
constexpr size_t kOffIndexSize = 32;
constexpr size_t kOffDataOffset = 40;
constexpr size_t kOffIndexChecksum = 48;
constexpr size_t kOffReserved = 56;

/// Smallest index record: u16 name length, a 1-byte name, u8 dtype, u8 rank,
/// u64 offset, u64 nbytes, u64 checksum.
constexpr uint64_t kMinRecordSize = 2 + 1 + 1 + 1 + 3 * 8;

/// What to tell the user when an archive is damaged.
constexpr const char *kRecreateHint = "re-create it with terminator-import";

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Formats messages into the caller's optional error buffer.
class ErrorSink {
public:
  ErrorSink(char *message, size_t messageSize)
      : buffer(message), size(messageSize) {
    if (buffer && size)
      buffer[0] = '\0';
  }

  /// Writes the printf-style message and returns \p status.
  __attribute__((format(printf, 3, 4))) trt_status
  fail(trt_status status, const char *format, ...) {
    if (buffer && size) {
      va_list args;
      va_start(args, format);
      std::vsnprintf(buffer, size, format, args);
      va_end(args);
    }
    return status;
  }

private:
  char *buffer;
  size_t size;
};

/// Runs \p body, converting an escaping exception into a status after
/// calling \p onException (which must not throw).
template <typename Body, typename OnException>
trt_status guarded(ErrorSink &sink, Body &&body, OnException &&onException) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  try {
    return body();
  } catch (const std::bad_alloc &) {
    onException();
    return sink.fail(TRT_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (...) {
    onException();
    return sink.fail(TRT_ERR_OUT_OF_MEMORY,
                     "internal error: unexpected C++ exception");
  }
#else
  (void)sink;
  (void)onException;
  return body();
#endif
}

template <typename Body> trt_status guarded(ErrorSink &sink, Body &&body) {
  return guarded(sink, body, [] {});
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

uint64_t alignUp(uint64_t value) {
  return (value + kAlignment - 1) & ~(kAlignment - 1);
}

template <typename T> T load(const uint8_t *bytes) {
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

template <typename T> void store(uint8_t *bytes, T value) {
  std::memcpy(bytes, &value, sizeof(T));
}

template <typename T> void append(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

uint64_t checksum(const void *data, uint64_t nbytes) {
  return XXH3_64bits(data, static_cast<size_t>(nbytes));
}

/// Whether \p name is non-empty, at most kMaxNameLength bytes of valid UTF-8
/// without NUL; otherwise stores the reason in \p why.
bool isValidName(std::string_view name, const char *&why) {
  if (name.empty()) {
    why = "is empty";
    return false;
  }
  if (name.size() > kMaxNameLength) {
    why = "is longer than 1024 bytes";
    return false;
  }
  const auto *bytes = reinterpret_cast<const unsigned char *>(name.data());
  size_t size = name.size();
  for (size_t i = 0; i < size;) {
    unsigned char c = bytes[i];
    if (c == 0) {
      why = "contains a NUL byte";
      return false;
    }
    size_t length;
    uint32_t min;
    uint32_t code;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2, min = 0x80, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, min = 0x800, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, min = 0x10000, code = c & 0x07;
    } else {
      why = "is not valid UTF-8";
      return false;
    }
    if (size - i < length) {
      why = "is not valid UTF-8";
      return false;
    }
    for (size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) {
        why = "is not valid UTF-8";
        return false;
      }
      code = (code << 6) | (bytes[i + k] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      why = "is not valid UTF-8";
      return false;
    }
    i += length;
  }
  return true;
}

/// Formats a shape as "4x8" ("scalar" for rank 0).
std::string shapeString(uint32_t rank, const uint64_t *dims) {
  if (rank == 0)
    return "scalar";
  std::string out;
  for (uint32_t i = 0; i < rank; ++i) {
    if (i)
      out += 'x';
    out += std::to_string(dims[i]);
  }
  return out;
}

/// Checks dtype, rank and byte count of one tensor. \p where prefixes the
/// message ("model.tpar: entry 'w'" or similar); \p fix says what to do.
trt_status checkTensor(ErrorSink &sink, const std::string &where,
                       uint32_t dtype, uint32_t rank, const uint64_t *dims,
                       uint64_t nbytes, const char *fix) {
  if (dtype < TRT_DTYPE_F32 || dtype > TRT_DTYPE_BYTES)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s has unknown dtype %u (known: 1=f32 2=f16 3=bf16 4=i8 "
                     "5=u8 6=i32 7=i64 8=bytes); %s",
                     where.c_str(), dtype, fix);
  if (rank > kMaxRank)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s has rank %u, more than the maximum of %u; %s",
                     where.c_str(), rank, kMaxRank, fix);
  uint64_t elements = 1;
  for (uint32_t i = 0; i < rank; ++i) {
    if (__builtin_mul_overflow(elements, dims[i], &elements))
      return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                       "%s has shape %s whose element count overflows 64 "
                       "bits; %s",
                       where.c_str(), shapeString(rank, dims).c_str(), fix);
  }
  if (dtype == TRT_DTYPE_BYTES)
    return TRT_OK;
  uint32_t elementSize = trt_dtype_size(static_cast<trt_dtype>(dtype));
  uint64_t expected;
  if (__builtin_mul_overflow(elements, uint64_t(elementSize), &expected) ||
      expected != nbytes)
    return sink.fail(
        TRT_ERR_INVALID_ARGUMENT,
        "%s has dtype %s and shape %s, which need %llu bytes, but it has "
        "%llu bytes; %s",
        where.c_str(), trt_dtype_name(static_cast<trt_dtype>(dtype)),
        shapeString(rank, dims).c_str(),
        static_cast<unsigned long long>(elements * elementSize),
        static_cast<unsigned long long>(nbytes), fix);
  return TRT_OK;
}

std::string quoted(std::string_view name) {
  std::string out = "'";
  out.append(name.data(), name.size());
  out += '\'';
  return out;
}

} // namespace

//===----------------------------------------------------------------------===//
// Dtypes
//===----------------------------------------------------------------------===//

extern "C" uint32_t trt_dtype_size(trt_dtype dtype) {
  switch (dtype) {
  case TRT_DTYPE_F32:
  case TRT_DTYPE_I32:
    return 4;
  case TRT_DTYPE_F16:
  case TRT_DTYPE_BF16:
    return 2;
  case TRT_DTYPE_I8:
  case TRT_DTYPE_U8:
    return 1;
  case TRT_DTYPE_I64:
    return 8;
  case TRT_DTYPE_BYTES:
  case TRT_DTYPE_INVALID:
  case TRT_DTYPE_FORCE_32BIT:
    return 0;
  }
  return 0;
}

extern "C" const char *trt_dtype_name(trt_dtype dtype) {
  switch (dtype) {
  case TRT_DTYPE_F32:
    return "f32";
  case TRT_DTYPE_F16:
    return "f16";
  case TRT_DTYPE_BF16:
    return "bf16";
  case TRT_DTYPE_I8:
    return "i8";
  case TRT_DTYPE_U8:
    return "u8";
  case TRT_DTYPE_I32:
    return "i32";
  case TRT_DTYPE_I64:
    return "i64";
  case TRT_DTYPE_BYTES:
    return "bytes";
  case TRT_DTYPE_INVALID:
  case TRT_DTYPE_FORCE_32BIT:
    return "invalid";
  }
  return "invalid";
}

extern "C" trt_dtype trt_dtype_from_name(const char *name) {
  if (!name)
    return TRT_DTYPE_INVALID;
  for (uint32_t d = TRT_DTYPE_F32; d <= TRT_DTYPE_BYTES; ++d)
    if (std::strcmp(name, trt_dtype_name(static_cast<trt_dtype>(d))) == 0)
      return static_cast<trt_dtype>(d);
  return TRT_DTYPE_INVALID;
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

struct trt_archive {
  std::string path;
  const uint8_t *base = nullptr;
  uint64_t size = 0;
  std::vector<trt_entry> entries;
  /// NUL-terminated copies of the names, which `trt_entry::name` points into.
  std::unique_ptr<char[]> names;
  std::unordered_map<std::string_view, uint32_t> byName;

  ~trt_archive() {
    if (base)
      munmap(const_cast<uint8_t *>(base), static_cast<size_t>(size));
  }
};

namespace {

/// Compares \p entry's stored checksum with one computed from its data.
trt_status verifyEntry(const trt_archive &archive, const trt_entry &entry,
                       ErrorSink &sink) {
  uint64_t computed = checksum(entry.data, entry.nbytes);
  if (computed == entry.checksum)
    return TRT_OK;
  return sink.fail(TRT_ERR_CHECKSUM,
                   "%s: entry '%s' (offset %llu, %llu bytes) checksum "
                   "mismatch (stored 0x%016llx, computed 0x%016llx); the data "
                   "is corrupt, %s",
                   archive.path.c_str(), entry.name,
                   static_cast<unsigned long long>(entry.offset),
                   static_cast<unsigned long long>(entry.nbytes),
                   static_cast<unsigned long long>(entry.checksum),
                   static_cast<unsigned long long>(computed), kRecreateHint);
}

/// Checks the header and the index and fills \p archive's entries.
trt_status parseArchive(trt_archive &archive, uint32_t flags, ErrorSink &sink) {
  const char *path = archive.path.c_str();
  const uint8_t *base = archive.base;
  const uint64_t size = archive.size;
  const unsigned long long fileSize = size;

  //--- Header.
  if (std::memcmp(base, kMagic, sizeof(kMagic)) != 0) {
    char shown[8 * 4 + 1];
    char *p = shown;
    for (size_t i = 0; i < sizeof(kMagic); ++i) {
      unsigned char c = base[i];
      if (c >= 0x20 && c < 0x7F && c != '\\')
        *p++ = static_cast<char>(c);
      else
        p += std::snprintf(p, 5, "\\x%02x", c);
    }
    *p = '\0';
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: bad magic \"%s\" (expected \"TMNPARAM\"); this is "
                     "not a TerMinator parameter archive",
                     path, shown);
  }
  uint32_t version = load<uint32_t>(base + kOffVersion);
  if (version != TRT_ARCHIVE_VERSION)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: archive format version %u is not supported (this "
                     "runtime reads version %u); re-create the archive with "
                     "a matching terminator-import",
                     path, version, TRT_ARCHIVE_VERSION);
  uint32_t fileFlags = load<uint32_t>(base + kOffFlags);
  if (fileFlags != 0)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: header flags are 0x%x, but version 1 defines none; "
                     "the header is corrupt, %s",
                     path, fileFlags, kRecreateHint);
  uint64_t reserved = load<uint64_t>(base + kOffReserved);
  if (reserved != 0)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: reserved header bytes 56..63 are not zero; the "
                     "header is corrupt, %s",
                     path, kRecreateHint);
  uint64_t entryCount = load<uint64_t>(base + kOffEntryCount);
  uint64_t indexOffset = load<uint64_t>(base + kOffIndexOffset);
  uint64_t indexSize = load<uint64_t>(base + kOffIndexSize);
  uint64_t dataOffset = load<uint64_t>(base + kOffDataOffset);
  uint64_t indexChecksum = load<uint64_t>(base + kOffIndexChecksum);
  auto ull = [](uint64_t v) { return static_cast<unsigned long long>(v); };

  if (dataOffset < kHeaderSize || dataOffset % kAlignment != 0)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: data offset %llu is not a multiple of %llu at or "
                     "after the header; the header is corrupt, %s",
                     path, ull(dataOffset), ull(kAlignment), kRecreateHint);
  if (indexOffset < dataOffset)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: index offset %llu lies before the data offset "
                     "%llu; the header is corrupt, %s",
                     path, ull(indexOffset), ull(dataOffset), kRecreateHint);
  if (indexOffset > size || indexSize > size - indexOffset)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: the index at offset %llu with %llu bytes runs past "
                     "the end of the file (%llu bytes); the archive is "
                     "truncated, %s",
                     path, ull(indexOffset), ull(indexSize), fileSize,
                     kRecreateHint);
  if (indexOffset + indexSize != size)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: the file has %llu bytes after the index (which "
                     "ends at byte %llu); the archive is corrupt, %s",
                     path, ull(size - indexOffset - indexSize),
                     ull(indexOffset + indexSize), kRecreateHint);
  const uint8_t *index = base + indexOffset;
  uint64_t computed = checksum(index, indexSize);
  if (computed != indexChecksum)
    return sink.fail(TRT_ERR_CHECKSUM,
                     "%s: index checksum mismatch (stored 0x%016llx, computed "
                     "0x%016llx); the index is corrupt, %s",
                     path, ull(indexChecksum), ull(computed), kRecreateHint);
  if (entryCount > UINT32_MAX || entryCount > indexSize / kMinRecordSize)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: header claims %llu entries, which cannot fit in an "
                     "index of %llu bytes; the archive is corrupt, %s",
                     path, ull(entryCount), ull(indexSize), kRecreateHint);

  //--- Index records.
  archive.entries.resize(static_cast<size_t>(entryCount));
  archive.names.reset(new char[static_cast<size_t>(indexSize) + 1]);
  char *namesEnd = archive.names.get();
  uint64_t pos = 0;
  for (uint64_t i = 0; i < entryCount; ++i) {
    trt_entry &entry = archive.entries[static_cast<size_t>(i)];
    uint64_t recordStart = pos;
    auto cutShort = [&](uint64_t need) {
      return sink.fail(TRT_ERR_FORMAT,
                       "%s: index record %llu (at index byte %llu) is cut "
                       "short: it needs %llu more bytes but the index has "
                       "%llu left; the archive is corrupt, %s",
                       path, ull(i), ull(recordStart), ull(need),
                       ull(indexSize - pos), kRecreateHint);
    };
    if (indexSize - pos < 2)
      return cutShort(2);
    uint16_t nameLength = load<uint16_t>(index + pos);
    pos += 2;
    if (indexSize - pos < uint64_t(nameLength) + 2)
      return cutShort(uint64_t(nameLength) + 2);
    std::string_view name(reinterpret_cast<const char *>(index + pos),
                          nameLength);
    pos += nameLength;
    const char *why = nullptr;
    if (!isValidName(name, why))
      return sink.fail(TRT_ERR_FORMAT,
                       "%s: the name of index record %llu %s; the archive is "
                       "corrupt, %s",
                       path, ull(i), why, kRecreateHint);
    uint8_t dtype = index[pos];
    uint8_t rank = index[pos + 1];
    pos += 2;
    std::string where = std::string(path) + ": entry " + quoted(name);
    if (rank > kMaxRank)
      return sink.fail(TRT_ERR_FORMAT,
                       "%s has rank %u, more than the maximum of %u; the "
                       "archive is corrupt, %s",
                       where.c_str(), rank, kMaxRank, kRecreateHint);
    uint64_t need = 8 * uint64_t(rank) + 24;
    if (indexSize - pos < need)
      return cutShort(need);
    std::memset(entry.dims, 0, sizeof(entry.dims));
    for (uint32_t d = 0; d < rank; ++d, pos += 8)
      entry.dims[d] = load<uint64_t>(index + pos);
    entry.offset = load<uint64_t>(index + pos);
    entry.nbytes = load<uint64_t>(index + pos + 8);
    entry.checksum = load<uint64_t>(index + pos + 16);
    pos += 24;

    std::string fix = std::string("the archive is corrupt, ") + kRecreateHint;
    trt_status status = checkTensor(sink, where, dtype, rank, entry.dims,
                                    entry.nbytes, fix.c_str());
    if (status != TRT_OK)
      return status == TRT_ERR_INVALID_ARGUMENT ? TRT_ERR_FORMAT : status;
    if (entry.offset > size || entry.nbytes > size - entry.offset)
      return sink.fail(TRT_ERR_FORMAT,
                       "%s at offset %llu with %llu bytes runs past the end "
                       "of the file (%llu bytes); the archive is truncated, "
                       "%s",
                       where.c_str(), ull(entry.offset), ull(entry.nbytes),
                       fileSize, kRecreateHint);
    if (entry.offset < dataOffset || entry.offset + entry.nbytes > indexOffset)
      return sink.fail(TRT_ERR_FORMAT,
                       "%s at offset %llu with %llu bytes lies outside the "
                       "data region (bytes %llu to %llu); the archive is "
                       "corrupt, %s",
                       where.c_str(), ull(entry.offset), ull(entry.nbytes),
                       ull(dataOffset), ull(indexOffset), kRecreateHint);
    if (entry.offset % kAlignment != 0)
      return sink.fail(TRT_ERR_FORMAT,
                       "%s at offset %llu is not aligned to %llu bytes; the "
                       "archive is corrupt, %s",
                       where.c_str(), ull(entry.offset), ull(kAlignment),
                       kRecreateHint);

    std::memcpy(namesEnd, name.data(), name.size());
    namesEnd[name.size()] = '\0';
    entry.name = namesEnd;
    entry.name_length = nameLength;
    namesEnd += name.size() + 1;
    entry.dtype = static_cast<trt_dtype>(dtype);
    entry.rank = rank;
    entry.index = static_cast<uint32_t>(i);
    entry.data = base + entry.offset;

    auto inserted = archive.byName.emplace(
        std::string_view(entry.name, entry.name_length), entry.index);
    if (!inserted.second)
      return sink.fail(TRT_ERR_FORMAT,
                       "%s: entries %u and %llu are both named %s; the "
                       "archive is corrupt, %s",
                       path, inserted.first->second, ull(i),
                       quoted(name).c_str(), kRecreateHint);
  }
  if (pos != indexSize)
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: the index has %llu bytes left over after its %llu "
                     "records; the archive is corrupt, %s",
                     path, ull(indexSize - pos), ull(entryCount),
                     kRecreateHint);

  //--- Overlapping data.
  std::vector<const trt_entry *> byOffset;
  byOffset.reserve(archive.entries.size());
  for (const trt_entry &entry : archive.entries)
    if (entry.nbytes)
      byOffset.push_back(&entry);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const trt_entry *a, const trt_entry *b) {
              return a->offset < b->offset;
            });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const trt_entry *prev = byOffset[i - 1];
    const trt_entry *next = byOffset[i];
    if (prev->offset + prev->nbytes > next->offset)
      return sink.fail(TRT_ERR_FORMAT,
                       "%s: the data of entries '%s' (offset %llu, %llu "
                       "bytes) and '%s' (offset %llu) overlap; the archive "
                       "is corrupt, %s",
                       path, prev->name, ull(prev->offset), ull(prev->nbytes),
                       next->name, ull(next->offset), kRecreateHint);
  }

  //--- Data checksums.
  if (!(flags & TRT_ARCHIVE_NO_VERIFY))
    for (const trt_entry &entry : archive.entries)
      if (trt_status status = verifyEntry(archive, entry, sink))
        return status;
  return TRT_OK;
}

trt_status openArchive(const char *path, uint32_t flags, trt_archive **out,
                       ErrorSink &sink) {
  if (!out)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "trt_archive_open: the output pointer is NULL");
  *out = nullptr;
  if (!path)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "trt_archive_open: the path is NULL");
  if (flags & ~TRT_ARCHIVE_NO_VERIFY)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: unknown open flags 0x%x (known: "
                     "TRT_ARCHIVE_NO_VERIFY = 0x1)",
                     path, flags);

  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sink.fail(TRT_ERR_IO,
                     "%s: cannot open the archive: %s; check the path and "
                     "its permissions",
                     path, std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return sink.fail(TRT_ERR_IO, "%s: cannot stat the archive: %s", path,
                     std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return sink.fail(TRT_ERR_IO,
                     "%s: not a regular file; pass the path of a .tpar "
                     "archive",
                     path);
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size < kHeaderSize) {
    ::close(fd);
    return sink.fail(TRT_ERR_FORMAT,
                     "%s: the file has %llu bytes, too few for the %llu-byte "
                     "archive header; it is truncated or not a parameter "
                     "archive, %s",
                     path, static_cast<unsigned long long>(size),
                     static_cast<unsigned long long>(kHeaderSize),
                     kRecreateHint);
  }
  if (size > SIZE_MAX) {
    ::close(fd);
    return sink.fail(TRT_ERR_IO,
                     "%s: the file (%llu bytes) is too large to map on this "
                     "target",
                     path, static_cast<unsigned long long>(size));
  }
  void *mapped =
      mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  int mapError = errno;
  ::close(fd);
  if (mapped == MAP_FAILED)
    return sink.fail(TRT_ERR_IO, "%s: cannot map the archive: %s", path,
                     std::strerror(mapError));

  std::unique_ptr<trt_archive> archive(new trt_archive);
  archive->base = static_cast<const uint8_t *>(mapped);
  archive->size = size;
  archive->path = path;
  trt_status status = parseArchive(*archive, flags, sink);
  if (status != TRT_OK)
    return status;
  *out = archive.release();
  return TRT_OK;
}

} // namespace

extern "C" trt_status trt_archive_open(const char *path, uint32_t flags,
                                       trt_archive **out, char *err,
                                       size_t err_size) {
  ErrorSink sink(err, err_size);
  if (out)
    *out = nullptr;
  return guarded(sink, [&] { return openArchive(path, flags, out, sink); });
}

extern "C" void trt_archive_close(trt_archive *archive) { delete archive; }

extern "C" const char *trt_archive_path(const trt_archive *archive) {
  return archive ? archive->path.c_str() : "";
}

extern "C" uint64_t trt_archive_file_size(const trt_archive *archive) {
  return archive ? archive->size : 0;
}

extern "C" uint32_t trt_archive_entry_count(const trt_archive *archive) {
  return archive ? static_cast<uint32_t>(archive->entries.size()) : 0;
}

extern "C" const trt_entry *trt_archive_entry_at(const trt_archive *archive,
                                                 uint32_t index) {
  if (!archive || index >= archive->entries.size())
    return nullptr;
  return &archive->entries[index];
}

extern "C" trt_status trt_archive_find(const trt_archive *archive,
                                       const char *name, const trt_entry **out,
                                       char *err, size_t err_size) {
  ErrorSink sink(err, err_size);
  if (out)
    *out = nullptr;
  if (!archive || !name || !out)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "trt_archive_find: the archive, name or output pointer "
                     "is NULL");
  auto it = archive->byName.find(std::string_view(name));
  if (it == archive->byName.end())
    return sink.fail(TRT_ERR_NOT_FOUND,
                     "%s: no entry named '%s' among its %zu entries; check "
                     "that the model was compiled against this archive "
                     "(list its entries with terminator-archive list %s)",
                     archive->path.c_str(), name, archive->entries.size(),
                     archive->path.c_str());
  *out = &archive->entries[it->second];
  return TRT_OK;
}

extern "C" void trt_archive_release_entry(const trt_archive *archive,
                                          const trt_entry *entry) {
  if (!archive || !entry || entry->index >= archive->entries.size() ||
      entry != &archive->entries[entry->index] || entry->nbytes == 0)
    return;
  // Whole pages around the data: the mapping is read-only and private, so
  // dropping them loses nothing (a later read faults them in again).
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = uintptr_t(entry->data) & ~(page - 1);
  const uintptr_t end =
      (uintptr_t(entry->data) + uintptr_t(entry->nbytes) + page - 1) &
      ~(page - 1);
  madvise(reinterpret_cast<void *>(begin), size_t(end - begin), MADV_DONTNEED);
}

extern "C" trt_status trt_archive_verify_entry(const trt_archive *archive,
                                               const trt_entry *entry,
                                               char *err, size_t err_size) {
  ErrorSink sink(err, err_size);
  if (!archive || !entry)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "trt_archive_verify_entry: the archive or entry is NULL");
  if (entry->index >= archive->entries.size() ||
      entry != &archive->entries[entry->index])
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: trt_archive_verify_entry was given an entry that "
                     "does not belong to this archive",
                     archive->path.c_str());
  return verifyEntry(*archive, *entry, sink);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

struct trt_writer {
  enum class State { Ready, InEntry, Finished, Failed };

  std::string dest;
  std::string temp;
  int fd = -1;
  State state = State::Ready;
  /// File offset where the next byte goes.
  uint64_t pos = kHeaderSize;
  /// The serialized index records so far.
  std::string index;
  uint64_t entryCount = 0;
  std::unordered_set<std::string> names;

  // The entry being written (state InEntry).
  std::string entryName;
  uint64_t entryOffset = 0;
  uint64_t entryNbytes = 0;
  uint64_t entryWritten = 0;
  size_t entryRecordStart = 0;
  XXH3_state_t hash;

  /// Closes and removes the temporary file (if still there).
  void discard() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
    if (state != State::Finished && !temp.empty()) {
      ::unlink(temp.c_str());
      temp.clear();
    }
  }

  ~trt_writer() { discard(); }
};

namespace {

/// Writes all of \p size bytes at \p offset, retrying short writes.
bool writeAll(int fd, const void *data, size_t size, uint64_t offset) {
  const char *bytes = static_cast<const char *>(data);
  while (size) {
    ssize_t written = ::pwrite(fd, bytes, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    if (written == 0) {
      errno = EIO;
      return false;
    }
    bytes += written;
    size -= static_cast<size_t>(written);
    offset += static_cast<uint64_t>(written);
  }
  return true;
}

/// Marks \p writer failed, removes its temporary file and reports an I/O
/// error about \p what.
trt_status failIO(trt_writer &writer, ErrorSink &sink, const char *what) {
  int error = errno;
  std::string temp = writer.temp;
  writer.state = trt_writer::State::Failed;
  writer.discard();
  return sink.fail(TRT_ERR_IO,
                   "%s: cannot %s the temporary file '%s': %s; the "
                   "destination was left as it was, check free space and "
                   "permissions and try again",
                   writer.dest.c_str(), what, temp.c_str(),
                   std::strerror(error));
}

/// Checks that \p writer can take a call \p fn in its state.
trt_status checkState(trt_writer *writer, ErrorSink &sink, const char *fn,
                      bool inEntry) {
  if (!writer)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT, "%s: the writer is NULL", fn);
  switch (writer->state) {
  case trt_writer::State::Failed:
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: %s: the writer already failed; destroy it and "
                     "start again",
                     writer->dest.c_str(), fn);
  case trt_writer::State::Finished:
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: %s: the archive is already finished; destroy the "
                     "writer",
                     writer->dest.c_str(), fn);
  case trt_writer::State::Ready:
    if (inEntry)
      return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                       "%s: %s: no entry is open; call "
                       "trt_writer_begin_entry first",
                       writer->dest.c_str(), fn);
    return TRT_OK;
  case trt_writer::State::InEntry:
    if (!inEntry)
      return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                       "%s: %s: entry '%s' is still open; call "
                       "trt_writer_end_entry first",
                       writer->dest.c_str(), fn, writer->entryName.c_str());
    return TRT_OK;
  }
  return TRT_OK;
}

/// Builds a unique temporary path next to \p dest and creates it with
/// O_EXCL (mode 0666 minus the umask, like any new file).
int createTemp(const std::string &dest, std::string &temp) {
  static const char kChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static unsigned counter = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t seed[4] = {static_cast<uint64_t>(now.tv_sec),
                        static_cast<uint64_t>(now.tv_nsec),
                        static_cast<uint64_t>(getpid()),
                        __atomic_fetch_add(&counter, 1u, __ATOMIC_RELAXED)};
    uint64_t bits = XXH3_64bits(seed, sizeof(seed));
    temp = dest + ".tmp.";
    for (int i = 0; i < 6; ++i, bits >>= 6)
      temp += kChars[bits % 62];
    int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}

trt_status createWriter(const char *path, trt_writer **out, ErrorSink &sink) {
  if (!out)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "trt_writer_create: the output pointer is NULL");
  *out = nullptr;
  if (!path || !*path)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "trt_writer_create: the path is NULL or empty");
  struct stat info;
  if (::stat(path, &info) == 0 && S_ISDIR(info.st_mode))
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: is a folder; pass the path of the archive file to "
                     "create",
                     path);
  std::unique_ptr<trt_writer> writer(new trt_writer);
  writer->dest = path;
  writer->fd = createTemp(writer->dest, writer->temp);
  if (writer->fd < 0) {
    int error = errno;
    std::string temp = writer->temp;
    writer->temp.clear(); // Nothing to remove.
    return sink.fail(TRT_ERR_IO,
                     "%s: cannot create the temporary file '%s': %s; check "
                     "that the folder exists and is writable",
                     path, temp.c_str(), std::strerror(error));
  }
  // The header is written last; zeros until then, so a crash never leaves a
  // file that looks like a valid archive.
  static const uint8_t zeros[kHeaderSize] = {};
  if (!writeAll(writer->fd, zeros, sizeof(zeros), 0))
    return failIO(*writer, sink, "write");
  *out = writer.release();
  return TRT_OK;
}

trt_status beginEntry(trt_writer *writer, const char *name, trt_dtype dtype,
                      uint32_t rank, const uint64_t *dims, uint64_t nbytes,
                      ErrorSink &sink, const char *fn) {
  if (trt_status status = checkState(writer, sink, fn, /*inEntry=*/false))
    return status;
  const char *dest = writer->dest.c_str();
  if (!name)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT, "%s: %s: the name is NULL", dest,
                     fn);
  std::string_view nameView(name);
  const char *why = nullptr;
  if (!isValidName(nameView, why))
    return sink.fail(
        TRT_ERR_INVALID_ARGUMENT,
        "%s: cannot add entry %s: the name %s; names must be "
        "1 to 1024 bytes of UTF-8",
        dest,
        quoted(nameView.substr(0, std::min<size_t>(nameView.size(), 64)))
            .c_str(),
        why);
  std::string where =
      std::string(dest) + ": cannot add entry " + quoted(nameView) + ": it";
  if (writer->names.count(std::string(nameView)))
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: cannot add entry %s: an entry with that name was "
                     "already added; names must be unique",
                     dest, quoted(nameView).c_str());
  if (rank > 0 && !dims)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: cannot add entry %s: rank is %u but dims is NULL",
                     dest, quoted(nameView).c_str(), rank);
  uint64_t noDims[1] = {0};
  if (trt_status status = checkTensor(
          sink, where, dtype, rank, rank ? dims : noDims, nbytes,
          "pass nbytes = product(dims) * element size, or use dtype bytes "
          "for packed data"))
    return status;
  if (writer->entryCount >= UINT32_MAX)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: cannot add entry %s: the archive already has the "
                     "maximum of %u entries",
                     dest, quoted(nameView).c_str(), UINT32_MAX);

  uint64_t offset = alignUp(writer->pos);
  if (offset != writer->pos) {
    static const uint8_t zeros[kAlignment] = {};
    if (!writeAll(writer->fd, zeros, static_cast<size_t>(offset - writer->pos),
                  writer->pos))
      return failIO(*writer, sink, "write");
    writer->pos = offset;
  }
  // Record now, patch nothing later: the checksum is filled in at the end.
  writer->entryRecordStart = writer->index.size();
  append<uint16_t>(writer->index, static_cast<uint16_t>(nameView.size()));
  writer->index.append(nameView.data(), nameView.size());
  append<uint8_t>(writer->index, static_cast<uint8_t>(dtype));
  append<uint8_t>(writer->index, static_cast<uint8_t>(rank));
  for (uint32_t d = 0; d < rank; ++d)
    append<uint64_t>(writer->index, dims[d]);
  append<uint64_t>(writer->index, offset);
  append<uint64_t>(writer->index, nbytes);
  append<uint64_t>(writer->index, 0); // Checksum, set by endEntry.

  writer->entryName = nameView;
  writer->entryOffset = offset;
  writer->entryNbytes = nbytes;
  writer->entryWritten = 0;
  XXH3_64bits_reset(&writer->hash);
  writer->state = trt_writer::State::InEntry;
  return TRT_OK;
}

/// Drops the open entry: its record and data are forgotten and the next
/// entry overwrites its bytes.
void dropEntry(trt_writer &writer) {
  writer.index.resize(writer.entryRecordStart);
  writer.pos = writer.entryOffset;
  writer.state = trt_writer::State::Ready;
}

trt_status writeData(trt_writer *writer, const void *data, size_t size,
                     ErrorSink &sink, const char *fn) {
  if (trt_status status = checkState(writer, sink, fn, /*inEntry=*/true))
    return status;
  if (size == 0)
    return TRT_OK;
  if (!data)
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: %s: entry '%s': data is NULL", writer->dest.c_str(),
                     fn, writer->entryName.c_str());
  if (size > writer->entryNbytes - writer->entryWritten) {
    unsigned long long announced = writer->entryNbytes;
    unsigned long long total = writer->entryWritten + size;
    dropEntry(*writer);
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: entry '%s' was begun with %llu bytes but %llu "
                     "bytes were written; the entry is discarded, begin it "
                     "again with the right size",
                     writer->dest.c_str(), writer->entryName.c_str(), announced,
                     total);
  }
  if (!writeAll(writer->fd, data, size, writer->pos))
    return failIO(*writer, sink, "write");
  XXH3_64bits_update(&writer->hash, data, size);
  writer->pos += size;
  writer->entryWritten += size;
  return TRT_OK;
}

trt_status endEntry(trt_writer *writer, ErrorSink &sink, const char *fn) {
  if (trt_status status = checkState(writer, sink, fn, /*inEntry=*/true))
    return status;
  if (writer->entryWritten != writer->entryNbytes) {
    unsigned long long announced = writer->entryNbytes;
    unsigned long long written = writer->entryWritten;
    dropEntry(*writer);
    return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                     "%s: entry '%s' was begun with %llu bytes but only %llu "
                     "bytes were written; the entry is discarded, write all "
                     "its bytes before ending it",
                     writer->dest.c_str(), writer->entryName.c_str(), announced,
                     written);
  }
  store<uint64_t>(reinterpret_cast<uint8_t *>(&writer->index[0]) +
                      writer->index.size() - 8,
                  XXH3_64bits_digest(&writer->hash));
  writer->names.insert(writer->entryName);
  ++writer->entryCount;
  writer->state = trt_writer::State::Ready;
  return TRT_OK;
}

/// fsyncs the folder holding \p path so the rename is durable. Best effort:
/// some file systems refuse fsync on folders, and the archive itself is
/// already complete.
void syncParentFolder(const std::string &path) {
  size_t slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "."
                       : slash == 0               ? "/"
                                                  : path.substr(0, slash);
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void)::fsync(fd);
  ::close(fd);
}

trt_status finishWriter(trt_writer *writer, ErrorSink &sink) {
  const char *fn = "trt_writer_finish";
  if (trt_status status = checkState(writer, sink, fn, /*inEntry=*/false))
    return status;
  uint64_t indexOffset = writer->pos;
  uint64_t indexSize = writer->index.size();
  if (!writeAll(writer->fd, writer->index.data(), writer->index.size(),
                indexOffset))
    return failIO(*writer, sink, "write the index to");

  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof(kMagic));
  store<uint32_t>(header + kOffVersion, TRT_ARCHIVE_VERSION);
  store<uint32_t>(header + kOffFlags, 0);
  store<uint64_t>(header + kOffEntryCount, writer->entryCount);
  store<uint64_t>(header + kOffIndexOffset, indexOffset);
  store<uint64_t>(header + kOffIndexSize, indexSize);
  store<uint64_t>(header + kOffDataOffset, kHeaderSize);
  store<uint64_t>(header + kOffIndexChecksum,
                  checksum(writer->index.data(), indexSize));
  store<uint64_t>(header + kOffReserved, 0);
  if (!writeAll(writer->fd, header, sizeof(header), 0))
    return failIO(*writer, sink, "write the header to");
  // Discarded entries may have left bytes beyond the index.
  if (::ftruncate(writer->fd, static_cast<off_t>(indexOffset + indexSize)) != 0)
    return failIO(*writer, sink, "truncate");
  if (::fsync(writer->fd) != 0)
    return failIO(*writer, sink, "fsync");
  int fd = writer->fd;
  writer->fd = -1;
  if (::close(fd) != 0)
    return failIO(*writer, sink, "close");
  if (::rename(writer->temp.c_str(), writer->dest.c_str()) != 0) {
    int error = errno;
    std::string temp = writer->temp;
    writer->state = trt_writer::State::Failed;
    writer->discard();
    return sink.fail(TRT_ERR_IO,
                     "%s: cannot rename the temporary file '%s' onto it: %s; "
                     "the destination was left as it was",
                     writer->dest.c_str(), temp.c_str(), std::strerror(error));
  }
  writer->state = trt_writer::State::Finished;
  syncParentFolder(writer->dest);
  return TRT_OK;
}

/// Like `guarded`, but an exception also discards \p writer's archive: its
/// index may be half-updated.
template <typename Body>
trt_status guardedWriter(trt_writer *writer, ErrorSink &sink, Body &&body) {
  return guarded(sink, body, [writer] {
    if (writer && writer->state != trt_writer::State::Finished) {
      writer->state = trt_writer::State::Failed;
      writer->discard();
    }
  });
}

} // namespace

extern "C" trt_status trt_writer_create(const char *path, trt_writer **out,
                                        char *err, size_t err_size) {
  ErrorSink sink(err, err_size);
  if (out)
    *out = nullptr;
  return guarded(sink, [&] { return createWriter(path, out, sink); });
}

extern "C" trt_status trt_writer_add(trt_writer *writer, const char *name,
                                     trt_dtype dtype, uint32_t rank,
                                     const uint64_t *dims, const void *data,
                                     uint64_t nbytes, char *err,
                                     size_t err_size) {
  ErrorSink sink(err, err_size);
  return guardedWriter(writer, sink, [&] {
    const char *fn = "trt_writer_add";
    if (trt_status status =
            beginEntry(writer, name, dtype, rank, dims, nbytes, sink, fn))
      return status;
    if (nbytes > SIZE_MAX) {
      dropEntry(*writer);
      return sink.fail(TRT_ERR_INVALID_ARGUMENT,
                       "%s: entry '%s': %llu bytes do not fit in memory on "
                       "this target",
                       writer->dest.c_str(), name,
                       static_cast<unsigned long long>(nbytes));
    }
    if (trt_status status =
            writeData(writer, data, static_cast<size_t>(nbytes), sink, fn)) {
      if (writer->state == trt_writer::State::InEntry)
        dropEntry(*writer);
      return status;
    }
    return endEntry(writer, sink, fn);
  });
}

extern "C" trt_status
trt_writer_begin_entry(trt_writer *writer, const char *name, trt_dtype dtype,
                       uint32_t rank, const uint64_t *dims, uint64_t nbytes,
                       char *err, size_t err_size) {
  ErrorSink sink(err, err_size);
  return guardedWriter(writer, sink, [&] {
    return beginEntry(writer, name, dtype, rank, dims, nbytes, sink,
                      "trt_writer_begin_entry");
  });
}

extern "C" trt_status trt_writer_write(trt_writer *writer, const void *data,
                                       size_t size, char *err,
                                       size_t err_size) {
  ErrorSink sink(err, err_size);
  return guardedWriter(writer, sink, [&] {
    return writeData(writer, data, size, sink, "trt_writer_write");
  });
}

extern "C" trt_status trt_writer_end_entry(trt_writer *writer, char *err,
                                           size_t err_size) {
  ErrorSink sink(err, err_size);
  return guardedWriter(writer, sink, [&] {
    return endEntry(writer, sink, "trt_writer_end_entry");
  });
}

extern "C" trt_status trt_writer_finish(trt_writer *writer, char *err,
                                        size_t err_size) {
  ErrorSink sink(err, err_size);
  return guardedWriter(writer, sink,
                       [&] { return finishWriter(writer, sink); });
}

extern "C" const char *trt_writer_temp_path(const trt_writer *writer) {
  return writer ? writer->temp.c_str() : "";
}

extern "C" void trt_writer_destroy(trt_writer *writer) { delete writer; }
