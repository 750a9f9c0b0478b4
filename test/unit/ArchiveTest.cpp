//===- ArchiveTest.cpp - Tests of the parameter archive (TPAR) C API ------===//
//
// Exercises runtime/src/archive.cpp through terminator/runtime.h only. Byte
// offsets used to corrupt or hand-craft files follow docs/archive-format.md;
// checksums are recomputed with xxhash.h directly, so these tests also pin
// the documented hash (XXH3-64, seed 0).
//
//===----------------------------------------------------------------------===//

#include "terminator/runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

extern "C" int trt_test_header_compiles_as_c(void);

namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

// Header field offsets, as documented in docs/archive-format.md.
constexpr size_t kOffVersion = 8;
constexpr size_t kOffEntryCount = 16;
constexpr size_t kOffIndexOffset = 24;
constexpr size_t kOffIndexSize = 32;
constexpr size_t kOffDataOffset = 40;
constexpr size_t kOffIndexChecksum = 48;

template <typename T> T loadLE(const Bytes &bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

template <typename T> void storeLE(Bytes &bytes, size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

Bytes readFile(const std::string &path) {
  Bytes bytes;
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return bytes;
  int c;
  while ((c = std::fgetc(file)) != EOF)
    bytes.push_back(static_cast<uint8_t>(c));
  std::fclose(file);
  return bytes;
}

void writeFile(const std::string &path, const Bytes &bytes) {
  std::FILE *file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), file), bytes.size());
  ASSERT_EQ(std::fclose(file), 0);
}

bool exists(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

/// Recomputes the header's index checksum after the index was edited.
void resealIndex(Bytes &file) {
  uint64_t offset = loadLE<uint64_t>(file, kOffIndexOffset);
  uint64_t size = loadLE<uint64_t>(file, kOffIndexSize);
  storeLE<uint64_t>(file, kOffIndexChecksum,
                    XXH3_64bits(file.data() + offset, size));
}

/// One tensor to write.
struct Tensor {
  std::string name;
  trt_dtype dtype;
  std::vector<uint64_t> dims;
  Bytes data;
};

/// Deterministic bytes for a tensor of \p n bytes.
Bytes pattern(size_t n, uint8_t seed) {
  Bytes bytes(n);
  for (size_t i = 0; i < n; ++i)
    bytes[i] = static_cast<uint8_t>(i * 31 + seed);
  return bytes;
}

class ArchiveTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "terminator-archive-XXXXXX";
    ASSERT_NE(::mkdtemp(&templ[0]), nullptr) << templ;
    dir = templ;
  }

  void TearDown() override {
    for (const std::string &name : listDir())
      ::unlink((dir + "/" + name).c_str());
    ::rmdir(dir.c_str());
  }

  std::string path(const std::string &name) const { return dir + "/" + name; }

  std::vector<std::string> listDir() const {
    std::vector<std::string> names;
    if (DIR *d = ::opendir(dir.c_str())) {
      while (dirent *e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
          names.push_back(e->d_name);
      ::closedir(d);
    }
    return names;
  }

  /// Writes \p tensors to \p file; fails the test on any error.
  void write(const std::string &file, const std::vector<Tensor> &tensors) {
    trt_writer *writer = nullptr;
    ASSERT_EQ(trt_writer_create(file.c_str(), &writer, err, sizeof(err)),
              TRT_OK)
        << err;
    for (const Tensor &t : tensors)
      ASSERT_EQ(trt_writer_add(writer, t.name.c_str(), t.dtype,
                               static_cast<uint32_t>(t.dims.size()),
                               t.dims.data(), t.data.data(), t.data.size(), err,
                               sizeof(err)),
                TRT_OK)
          << err;
    ASSERT_EQ(trt_writer_finish(writer, err, sizeof(err)), TRT_OK) << err;
    trt_writer_destroy(writer);
  }

  /// A small archive of two entries ("a": f32 2x3, "b": i8 5).
  std::string writeSmall() {
    std::string file = path("small.tpar");
    write(file, {{"a", TRT_DTYPE_F32, {2, 3}, pattern(24, 1)},
                 {"b", TRT_DTYPE_I8, {5}, pattern(5, 2)}});
    return file;
  }

  /// Opens \p file expecting failure; returns the status, message in err.
  trt_status openFails(const std::string &file, uint32_t flags = 0) {
    trt_archive *archive = reinterpret_cast<trt_archive *>(this);
    trt_status status =
        trt_archive_open(file.c_str(), flags, &archive, err, sizeof(err));
    EXPECT_EQ(archive, nullptr) << "a failed open must store NULL";
    EXPECT_NE(status, TRT_OK);
    trt_archive_close(archive);
    return status;
  }

  std::string dir;
  char err[TRT_ERROR_MESSAGE_SIZE] = {};
};

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST_F(ArchiveTest, RoundTripOfSeveralDtypesAndShapes) {
  std::vector<Tensor> tensors = {
      {"layers.0.wq", TRT_DTYPE_F32, {4, 8}, pattern(4 * 8 * 4, 1)},
      {"f16.vector", TRT_DTYPE_F16, {3}, pattern(6, 2)},
      {"bf16.cube", TRT_DTYPE_BF16, {2, 2, 2}, pattern(16, 3)},
      {"i8", TRT_DTYPE_I8, {5}, pattern(5, 4)},
      {"u8.scalar", TRT_DTYPE_U8, {}, pattern(1, 5)},
      {"i32.empty", TRT_DTYPE_I32, {0, 7}, {}},
      {"i64", TRT_DTYPE_I64, {2, 3}, pattern(48, 6)},
      // 16x16 ternary weights as 2-bit codes: 64 bytes for 256 elements.
      {"codes", TRT_DTYPE_BYTES, {16, 16}, pattern(64, 7)},
      {"rank8", TRT_DTYPE_U8, {1, 2, 1, 2, 1, 2, 1, 2}, pattern(16, 8)},
      {"ünïcode.名前", TRT_DTYPE_U8, {1}, pattern(1, 9)},
  };
  std::string file = path("model.tpar");
  write(file, tensors);

  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  EXPECT_STREQ(trt_archive_path(archive), file.c_str());
  EXPECT_EQ(trt_archive_file_size(archive), readFile(file).size());
  ASSERT_EQ(trt_archive_entry_count(archive), tensors.size());
  for (uint32_t i = 0; i < tensors.size(); ++i) {
    const Tensor &t = tensors[i];
    const trt_entry *e = trt_archive_entry_at(archive, i);
    ASSERT_NE(e, nullptr);
    EXPECT_STREQ(e->name, t.name.c_str());
    EXPECT_EQ(e->name_length, t.name.size());
    EXPECT_EQ(e->index, i);
    EXPECT_EQ(e->dtype, t.dtype) << t.name;
    ASSERT_EQ(e->rank, t.dims.size()) << t.name;
    for (uint32_t d = 0; d < TRT_ARCHIVE_MAX_RANK; ++d)
      EXPECT_EQ(e->dims[d], d < e->rank ? t.dims[d] : 0u) << t.name << d;
    ASSERT_EQ(e->nbytes, t.data.size()) << t.name;
    if (!t.data.empty()) {
      EXPECT_EQ(std::memcmp(e->data, t.data.data(), t.data.size()), 0)
          << t.name;
    }
    EXPECT_EQ(e->checksum, XXH3_64bits(t.data.data(), t.data.size())) << t.name;
    EXPECT_EQ(trt_archive_verify_entry(archive, e, err, sizeof(err)), TRT_OK)
        << err;
  }
  EXPECT_EQ(trt_archive_entry_at(archive, trt_archive_entry_count(archive)),
            nullptr);
  trt_archive_close(archive);
  // Nothing but the archive is left in the folder: the temp file was renamed.
  EXPECT_THAT(listDir(), ::testing::ElementsAre("model.tpar"));
}

TEST_F(ArchiveTest, EmptyArchiveRoundTrips) {
  std::string file = path("empty.tpar");
  write(file, {});
  EXPECT_EQ(readFile(file).size(), TRT_ARCHIVE_HEADER_SIZE);
  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  EXPECT_EQ(trt_archive_entry_count(archive), 0u);
  trt_archive_close(archive);
}

TEST_F(ArchiveTest, HeaderAndIndexFollowTheDocumentedLayout) {
  std::string file = path("layout.tpar");
  Bytes data = pattern(12, 3);
  write(file,
        {{"x", TRT_DTYPE_F32, {3}, data}, {"yz", TRT_DTYPE_U8, {1}, {7}}});
  Bytes bytes = readFile(file);
  ASSERT_GE(bytes.size(), 64u);
  EXPECT_EQ(std::memcmp(bytes.data(), "TMNPARAM", 8), 0);
  EXPECT_EQ(loadLE<uint32_t>(bytes, kOffVersion), 1u);
  EXPECT_EQ(loadLE<uint32_t>(bytes, 12), 0u); // flags
  EXPECT_EQ(loadLE<uint64_t>(bytes, kOffEntryCount), 2u);
  EXPECT_EQ(loadLE<uint64_t>(bytes, kOffDataOffset), 64u);
  EXPECT_EQ(loadLE<uint64_t>(bytes, 56), 0u); // reserved
  // Data: "x" at 64 (12 bytes), "yz" at the next multiple of 64.
  EXPECT_EQ(std::memcmp(bytes.data() + 64, data.data(), 12), 0);
  for (size_t i = 76; i < 128; ++i)
    EXPECT_EQ(bytes[i], 0) << "padding byte " << i;
  EXPECT_EQ(bytes[128], 7);
  // The index follows the last data byte directly and ends the file.
  uint64_t indexOffset = loadLE<uint64_t>(bytes, kOffIndexOffset);
  uint64_t indexSize = loadLE<uint64_t>(bytes, kOffIndexSize);
  EXPECT_EQ(indexOffset, 129u);
  EXPECT_EQ(indexOffset + indexSize, bytes.size());
  EXPECT_EQ(loadLE<uint64_t>(bytes, kOffIndexChecksum),
            XXH3_64bits(bytes.data() + indexOffset, indexSize));
  // First record: u16 len, name, u8 dtype, u8 rank, dims, offset, nbytes,
  // checksum.
  size_t p = indexOffset;
  EXPECT_EQ(loadLE<uint16_t>(bytes, p), 1u);
  EXPECT_EQ(bytes[p + 2], 'x');
  EXPECT_EQ(bytes[p + 3], TRT_DTYPE_F32);
  EXPECT_EQ(bytes[p + 4], 1u);
  EXPECT_EQ(loadLE<uint64_t>(bytes, p + 5), 3u);
  EXPECT_EQ(loadLE<uint64_t>(bytes, p + 13), 64u);
  EXPECT_EQ(loadLE<uint64_t>(bytes, p + 21), 12u);
  EXPECT_EQ(loadLE<uint64_t>(bytes, p + 29), XXH3_64bits(data.data(), 12));
  EXPECT_EQ(indexSize, (2 + 1 + 2 + 8 + 24) + (2 + 2 + 2 + 8 + 24));
}

TEST_F(ArchiveTest, EveryDataPointerIsAlignedTo64) {
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < 40; ++i) // Sizes 1, 4, 7, ... straddle the padding.
    tensors.push_back({"t" + std::to_string(i),
                       TRT_DTYPE_U8,
                       {i * 3 + 1},
                       pattern(i * 3 + 1, uint8_t(i))});
  std::string file = path("aligned.tpar");
  write(file, tensors);
  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  ASSERT_EQ(trt_archive_entry_count(archive), tensors.size());
  for (uint32_t i = 0; i < tensors.size(); ++i) {
    const trt_entry *e = trt_archive_entry_at(archive, i);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(e->data) % 64, 0u) << e->name;
    EXPECT_EQ(e->offset % 64, 0u) << e->name;
  }
  trt_archive_close(archive);
}

TEST_F(ArchiveTest, LookupByName) {
  std::vector<Tensor> tensors;
  for (int i = 0; i < 1000; ++i)
    tensors.push_back({"layers." + std::to_string(i) + ".wq",
                       TRT_DTYPE_I32,
                       {1},
                       pattern(4, uint8_t(i))});
  std::string file = path("many.tpar");
  write(file, tensors);
  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  for (int i = 999; i >= 0; --i) {
    const trt_entry *e = nullptr;
    std::string name = "layers." + std::to_string(i) + ".wq";
    ASSERT_EQ(trt_archive_find(archive, name.c_str(), &e, err, sizeof(err)),
              TRT_OK)
        << err;
    EXPECT_STREQ(e->name, name.c_str());
    EXPECT_EQ(e->index, uint32_t(i));
    EXPECT_EQ(std::memcmp(e->data, tensors[size_t(i)].data.data(), 4), 0);
  }
  const trt_entry *missing = reinterpret_cast<const trt_entry *>(this);
  EXPECT_EQ(
      trt_archive_find(archive, "layers.1000.wq", &missing, err, sizeof(err)),
      TRT_ERR_NOT_FOUND);
  EXPECT_EQ(missing, nullptr);
  EXPECT_THAT(std::string(err), HasSubstr("no entry named 'layers.1000.wq'"));
  EXPECT_THAT(std::string(err), HasSubstr(file));
  // A prefix of a name is not a match.
  EXPECT_EQ(trt_archive_find(archive, "layers.1", &missing, nullptr, 0),
            TRT_ERR_NOT_FOUND);
  trt_archive_close(archive);
}

/// Resident pages of this process (/proc/self/statm, second field).
long residentPages() {
  long size = 0, resident = 0;
  FILE *f = std::fopen("/proc/self/statm", "r");
  if (!f)
    return -1;
  if (std::fscanf(f, "%ld %ld", &size, &resident) != 2)
    resident = -1;
  std::fclose(f);
  return resident;
}

TEST_F(ArchiveTest, ReleasedEntriesLeaveTheResidentSetAndStayReadable) {
  // 32 MiB entry between two small ones.
  std::vector<Tensor> tensors = {
      {"a", TRT_DTYPE_U8, {100}, pattern(100, 1)},
      {"big", TRT_DTYPE_U8, {32u << 20}, pattern(32u << 20, 7)},
      {"z", TRT_DTYPE_U8, {100}, pattern(100, 9)}};
  std::string file = path("release.tpar");
  write(file, tensors);
  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  const trt_entry *big = nullptr;
  ASSERT_EQ(trt_archive_find(archive, "big", &big, err, sizeof(err)), TRT_OK);
  // Opening verified every checksum, so the entry's pages are resident.
  long before = residentPages();
  trt_archive_release_entry(archive, big);
  long after = residentPages();
  ASSERT_GT(before, 0);
  long page = sysconf(_SC_PAGESIZE);
  EXPECT_GT(before - after, long((30u << 20) / page))
      << "before " << before << " after " << after << " pages";
  // Read back from the file, the same bytes; the neighbours too.
  EXPECT_EQ(std::memcmp(big->data, tensors[1].data.data(), big->nbytes), 0);
  for (const char *name : {"a", "z"}) {
    const trt_entry *e = nullptr;
    ASSERT_EQ(trt_archive_find(archive, name, &e, err, sizeof(err)), TRT_OK);
    trt_archive_release_entry(archive, e);
    EXPECT_EQ(
        std::memcmp(e->data, tensors[name[0] == 'a' ? 0 : 2].data.data(), 100),
        0);
  }
  // An entry of another archive, or none, is ignored.
  trt_archive_release_entry(archive, nullptr);
  trt_archive_release_entry(nullptr, big);
  trt_archive_close(archive);
}

TEST_F(ArchiveTest, ChunkedEntriesAndDiscardedEntries) {
  std::string file = path("chunked.tpar");
  trt_writer *writer = nullptr;
  ASSERT_EQ(trt_writer_create(file.c_str(), &writer, err, sizeof(err)), TRT_OK);
  Bytes big = pattern(1000, 5);
  uint64_t dims[] = {250};
  ASSERT_EQ(trt_writer_begin_entry(writer, "big", TRT_DTYPE_F32, 1, dims, 1000,
                                   err, sizeof(err)),
            TRT_OK)
      << err;
  for (size_t at = 0; at < 1000; at += 300)
    ASSERT_EQ(trt_writer_write(writer, big.data() + at,
                               std::min<size_t>(300, 1000 - at), err,
                               sizeof(err)),
              TRT_OK)
        << err;
  // finish with an open entry is a usage error that keeps the writer usable.
  EXPECT_EQ(trt_writer_finish(writer, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("entry 'big' is still open"));
  ASSERT_EQ(trt_writer_end_entry(writer, err, sizeof(err)), TRT_OK) << err;

  // Too few bytes: discarded.
  uint64_t four[] = {4};
  ASSERT_EQ(trt_writer_begin_entry(writer, "short", TRT_DTYPE_U8, 1, four, 4,
                                   err, sizeof(err)),
            TRT_OK);
  ASSERT_EQ(trt_writer_write(writer, big.data(), 3, err, sizeof(err)), TRT_OK);
  EXPECT_EQ(trt_writer_end_entry(writer, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("only 3 bytes were written"));
  // Too many bytes: discarded.
  ASSERT_EQ(trt_writer_begin_entry(writer, "long", TRT_DTYPE_U8, 1, four, 4,
                                   err, sizeof(err)),
            TRT_OK);
  EXPECT_EQ(trt_writer_write(writer, big.data(), 5, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err),
              HasSubstr("begun with 4 bytes but 5 bytes were written"));
  EXPECT_EQ(trt_writer_end_entry(writer, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  // The discarded names are free again.
  ASSERT_EQ(trt_writer_add(writer, "short", TRT_DTYPE_U8, 1, four, "abcd", 4,
                           err, sizeof(err)),
            TRT_OK)
      << err;
  ASSERT_EQ(trt_writer_finish(writer, err, sizeof(err)), TRT_OK) << err;
  EXPECT_EQ(trt_writer_add(writer, "late", TRT_DTYPE_U8, 1, four, "abcd", 4,
                           err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("already finished"));
  trt_writer_destroy(writer);

  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  ASSERT_EQ(trt_archive_entry_count(archive), 2u);
  const trt_entry *e = trt_archive_entry_at(archive, 0);
  EXPECT_STREQ(e->name, "big");
  EXPECT_EQ(std::memcmp(e->data, big.data(), 1000), 0);
  e = trt_archive_entry_at(archive, 1);
  EXPECT_STREQ(e->name, "short");
  EXPECT_EQ(std::memcmp(e->data, "abcd", 4), 0);
  // The index follows the last kept entry: discarded bytes were dropped.
  EXPECT_EQ(trt_archive_file_size(archive),
            e->offset + 4 + (2 + 3 + 2 + 8 + 24) + (2 + 5 + 2 + 8 + 24));
  trt_archive_close(archive);
}

//===----------------------------------------------------------------------===//
// Writer rejections
//===----------------------------------------------------------------------===//

TEST_F(ArchiveTest, DuplicateNameRejected) {
  std::string file = path("dup.tpar");
  trt_writer *writer = nullptr;
  ASSERT_EQ(trt_writer_create(file.c_str(), &writer, err, sizeof(err)), TRT_OK);
  uint64_t dims[] = {2};
  ASSERT_EQ(trt_writer_add(writer, "w", TRT_DTYPE_U8, 1, dims, "ab", 2, err,
                           sizeof(err)),
            TRT_OK);
  EXPECT_EQ(trt_writer_add(writer, "w", TRT_DTYPE_U8, 1, dims, "cd", 2, err,
                           sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("cannot add entry 'w'"));
  EXPECT_THAT(std::string(err), HasSubstr("already added"));
  EXPECT_THAT(std::string(err), HasSubstr(file));
  // The writer is still usable after a rejected call.
  ASSERT_EQ(trt_writer_add(writer, "v", TRT_DTYPE_U8, 1, dims, "ef", 2, err,
                           sizeof(err)),
            TRT_OK)
      << err;
  ASSERT_EQ(trt_writer_finish(writer, err, sizeof(err)), TRT_OK) << err;
  trt_writer_destroy(writer);
  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  ASSERT_EQ(trt_archive_entry_count(archive), 2u);
  EXPECT_EQ(std::memcmp(trt_archive_entry_at(archive, 0)->data, "ab", 2), 0);
  trt_archive_close(archive);
}

TEST_F(ArchiveTest, NbytesMismatchRejected) {
  trt_writer *writer = nullptr;
  ASSERT_EQ(
      trt_writer_create(path("n.tpar").c_str(), &writer, err, sizeof(err)),
      TRT_OK);
  Bytes data(128);
  uint64_t dims[] = {4, 8};
  EXPECT_EQ(trt_writer_add(writer, "layers.0.wq", TRT_DTYPE_F32, 2, dims,
                           data.data(), 100, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("'layers.0.wq'"));
  EXPECT_THAT(std::string(err),
              HasSubstr("need 128 bytes, but it has 100 bytes"));
  // Opaque bytes may have any size.
  EXPECT_EQ(trt_writer_add(writer, "packed", TRT_DTYPE_BYTES, 2, dims,
                           data.data(), 100, err, sizeof(err)),
            TRT_OK)
      << err;
  trt_writer_destroy(writer);
}

TEST_F(ArchiveTest, BadDtypeRankAndNamesRejected) {
  trt_writer *writer = nullptr;
  ASSERT_EQ(
      trt_writer_create(path("bad.tpar").c_str(), &writer, err, sizeof(err)),
      TRT_OK);
  uint64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(trt_writer_add(writer, "d", static_cast<trt_dtype>(9), 1, dims, "x",
                           1, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("unknown dtype 9"));
  EXPECT_EQ(trt_writer_add(writer, "d", TRT_DTYPE_INVALID, 1, dims, "x", 1, err,
                           sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(trt_writer_add(writer, "r", TRT_DTYPE_U8, 9, dims, "x", 1, err,
                           sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("rank 9"));
  EXPECT_EQ(trt_writer_add(writer, "", TRT_DTYPE_U8, 1, dims, "x", 1, err,
                           sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("is empty"));
  EXPECT_EQ(trt_writer_add(writer, "bad\xff", TRT_DTYPE_U8, 1, dims, "x", 1,
                           err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("not valid UTF-8"));
  std::string longName(1025, 'n');
  EXPECT_EQ(trt_writer_add(writer, longName.c_str(), TRT_DTYPE_U8, 1, dims, "x",
                           1, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("longer than 1024 bytes"));
  longName.pop_back();
  EXPECT_EQ(trt_writer_add(writer, longName.c_str(), TRT_DTYPE_U8, 1, dims, "x",
                           1, err, sizeof(err)),
            TRT_OK)
      << err;
  trt_writer_destroy(writer);
}

//===----------------------------------------------------------------------===//
// Reader rejections
//===----------------------------------------------------------------------===//

TEST_F(ArchiveTest, MissingFileRejected) {
  EXPECT_EQ(openFails(path("nope.tpar")), TRT_ERR_IO);
  EXPECT_THAT(std::string(err),
              HasSubstr("nope.tpar: cannot open the archive: No such "
                        "file or directory"));
}

TEST_F(ArchiveTest, TruncatedFileRejectedWithMessage) {
  std::string file = writeSmall();
  Bytes whole = readFile(file);
  // Cut inside the header, inside the data, and inside the index.
  for (size_t size :
       {size_t(0), size_t(10), size_t(63), size_t(100), whole.size() - 1}) {
    SCOPED_TRACE(size);
    writeFile(file, Bytes(whole.begin(), whole.begin() + long(size)));
    EXPECT_EQ(openFails(file), TRT_ERR_FORMAT);
    EXPECT_THAT(std::string(err), HasSubstr(file));
    EXPECT_THAT(std::string(err), HasSubstr("truncated"));
  }
  writeFile(file, Bytes(whole.begin(), whole.begin() + 10));
  openFails(file);
  EXPECT_THAT(std::string(err),
              HasSubstr("the file has 10 bytes, too few for the 64-byte "
                        "archive header"));
}

TEST_F(ArchiveTest, FlippedDataByteDetectedByChecksum) {
  std::string file = writeSmall();
  Bytes bytes = readFile(file);
  bytes[128 + 2] ^= 0x01; // Entry "b" lives at offset 128.
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file), TRT_ERR_CHECKSUM);
  EXPECT_THAT(std::string(err),
              HasSubstr("entry 'b' (offset 128, 5 bytes) checksum "
                        "mismatch"));

  // Without verification it opens; the entry check still finds it.
  trt_archive *archive = nullptr;
  ASSERT_EQ(trt_archive_open(file.c_str(), TRT_ARCHIVE_NO_VERIFY, &archive, err,
                             sizeof(err)),
            TRT_OK)
      << err;
  EXPECT_EQ(trt_archive_verify_entry(archive, trt_archive_entry_at(archive, 0),
                                     err, sizeof(err)),
            TRT_OK)
      << err;
  EXPECT_EQ(trt_archive_verify_entry(archive, trt_archive_entry_at(archive, 1),
                                     err, sizeof(err)),
            TRT_ERR_CHECKSUM);
  EXPECT_THAT(std::string(err), HasSubstr("entry 'b'"));
  // An entry of another archive is refused, not read.
  trt_entry foreign = *trt_archive_entry_at(archive, 0);
  EXPECT_EQ(trt_archive_verify_entry(archive, &foreign, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  trt_archive_close(archive);
}

TEST_F(ArchiveTest, FlippedIndexByteDetected) {
  std::string file = writeSmall();
  Bytes bytes = readFile(file);
  uint64_t indexOffset = loadLE<uint64_t>(bytes, kOffIndexOffset);
  bytes[indexOffset + 5] ^= 0x40;
  writeFile(file, bytes);
  // The index checksum is checked even without data verification.
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_CHECKSUM);
  EXPECT_THAT(std::string(err), HasSubstr("index checksum mismatch"));
}

TEST_F(ArchiveTest, BadMagicRejected) {
  std::string file = writeSmall();
  Bytes bytes = readFile(file);
  std::memcpy(bytes.data(), "GGUF\x03\0\0\0", 8);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err),
              HasSubstr("bad magic \"GGUF\\x03\\x00\\x00\\x00\""));
  EXPECT_THAT(std::string(err),
              HasSubstr("not a TerMinator parameter archive"));
}

TEST_F(ArchiveTest, BadVersionRejected) {
  std::string file = writeSmall();
  Bytes bytes = readFile(file);
  storeLE<uint32_t>(bytes, kOffVersion, 2);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err),
              HasSubstr("version 2 is not supported (this runtime reads "
                        "version 1)"));
}

TEST_F(ArchiveTest, EntryOffsetPastEndOfFileRejected) {
  std::string file = writeSmall();
  Bytes bytes = readFile(file);
  uint64_t indexOffset = loadLE<uint64_t>(bytes, kOffIndexOffset);
  // Record 0: u16 len (1), "a", dtype, rank (2), 2 dims, then the offset.
  size_t offsetField = indexOffset + 2 + 1 + 2 + 2 * 8;
  ASSERT_EQ(loadLE<uint64_t>(bytes, offsetField), 64u);
  storeLE<uint64_t>(bytes, offsetField, 1u << 20);
  resealIndex(bytes);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err),
              HasSubstr(file +
                        ": entry 'a' at offset 1048576 with 24 "
                        "bytes runs past the end of the file (" +
                        std::to_string(bytes.size()) + " bytes)"));
  EXPECT_THAT(std::string(err), HasSubstr("truncated"));

  // Inside the file but misaligned, or overlapping the index: also refused.
  storeLE<uint64_t>(bytes, offsetField, 65);
  resealIndex(bytes);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err),
              HasSubstr("at offset 65 is not aligned to 64 bytes"));
  storeLE<uint64_t>(bytes, offsetField, indexOffset - 8);
  resealIndex(bytes);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err), HasSubstr("lies outside the data region"));
}

TEST_F(ArchiveTest, HandCraftedInconsistenciesRejected) {
  std::string file = writeSmall();
  const Bytes good = readFile(file);
  uint64_t indexOffset = loadLE<uint64_t>(good, kOffIndexOffset);
  size_t dtypeField = indexOffset + 2 + 1;

  Bytes bytes = good; // nbytes that does not match f32 2x3.
  storeLE<uint64_t>(bytes, dtypeField + 2 + 16 + 8, 20);
  resealIndex(bytes);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err),
              HasSubstr("need 24 bytes, but it has 20 bytes"));

  bytes = good; // Unknown dtype.
  bytes[dtypeField] = 42;
  resealIndex(bytes);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err), HasSubstr("entry 'a' has unknown dtype 42"));

  bytes = good; // Both entries named "a".
  bytes[indexOffset + 2 + 1 + 2 + 16 + 24 + 2] = 'a';
  resealIndex(bytes);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err),
              HasSubstr("entries 0 and 1 are both named 'a'"));

  bytes = good; // More entries than the index can hold.
  storeLE<uint64_t>(bytes, kOffEntryCount, 3);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err),
              HasSubstr("header claims 3 entries, which cannot fit"));

  bytes = good; // The last record is cut short (and the index resealed).
  bytes.pop_back();
  storeLE<uint64_t>(bytes, kOffIndexSize,
                    loadLE<uint64_t>(bytes, kOffIndexSize) - 1);
  resealIndex(bytes);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err), HasSubstr("index record 1 (at index byte 45) "
                                          "is cut short"));

  bytes = good; // Trailing garbage after the index.
  bytes.push_back(0);
  writeFile(file, bytes);
  EXPECT_EQ(openFails(file, TRT_ARCHIVE_NO_VERIFY), TRT_ERR_FORMAT);
  EXPECT_THAT(std::string(err), HasSubstr("1 bytes after the index"));

  // Sanity: the untouched file still opens, so the failures above are due to
  // the edits.
  writeFile(file, good);
  trt_archive *archive = nullptr;
  EXPECT_EQ(trt_archive_open(file.c_str(), 0, &archive, err, sizeof(err)),
            TRT_OK)
      << err;
  trt_archive_close(archive);
}

TEST_F(ArchiveTest, UnknownOpenFlagsAndNullArgumentsRejected) {
  std::string file = writeSmall();
  EXPECT_EQ(openFails(file, 0x80), TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("unknown open flags 0x80"));
  EXPECT_EQ(trt_archive_open(file.c_str(), 0, nullptr, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(trt_archive_find(nullptr, "a", nullptr, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(trt_writer_add(nullptr, "a", TRT_DTYPE_U8, 0, nullptr, "x", 1, err,
                           sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  // A tiny message buffer gets a truncated, terminated message.
  char tiny[8];
  EXPECT_EQ(openFails(file, 0x80), TRT_ERR_INVALID_ARGUMENT);
  trt_archive *archive = nullptr;
  EXPECT_EQ(trt_archive_open(file.c_str(), 0x80, &archive, tiny, sizeof(tiny)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::strlen(tiny), sizeof(tiny) - 1);
  trt_archive_close(nullptr);
  trt_writer_destroy(nullptr);
}

//===----------------------------------------------------------------------===//
// Atomic replacement
//===----------------------------------------------------------------------===//

TEST_F(ArchiveTest, TempFileRemovedAfterAbort) {
  std::string file = path("aborted.tpar");
  trt_writer *writer = nullptr;
  ASSERT_EQ(trt_writer_create(file.c_str(), &writer, err, sizeof(err)), TRT_OK);
  std::string temp = trt_writer_temp_path(writer);
  EXPECT_THAT(temp, ::testing::StartsWith(file + ".tmp."));
  uint64_t dims[] = {3};
  ASSERT_EQ(trt_writer_add(writer, "w", TRT_DTYPE_U8, 1, dims, "abc", 3, err,
                           sizeof(err)),
            TRT_OK);
  EXPECT_TRUE(exists(temp)) << "data is streamed to the temporary file";
  EXPECT_FALSE(exists(file));
  trt_writer_destroy(writer);
  EXPECT_FALSE(exists(temp));
  EXPECT_FALSE(exists(file));
  EXPECT_THAT(listDir(), ::testing::IsEmpty());
}

TEST_F(ArchiveTest, DestinationUntouchedWhenWriterAborted) {
  std::string file = path("model.tpar");
  Bytes old = {'o', 'l', 'd', '\n'};
  writeFile(file, old);
  trt_writer *writer = nullptr;
  ASSERT_EQ(trt_writer_create(file.c_str(), &writer, err, sizeof(err)), TRT_OK);
  uint64_t dims[] = {3};
  ASSERT_EQ(trt_writer_add(writer, "w", TRT_DTYPE_U8, 1, dims, "abc", 3, err,
                           sizeof(err)),
            TRT_OK);
  trt_writer_destroy(writer);
  EXPECT_EQ(readFile(file), old);
  EXPECT_THAT(listDir(), ::testing::ElementsAre("model.tpar"));

  // A finished writer does replace it.
  write(file, {{"w", TRT_DTYPE_U8, {3}, {'a', 'b', 'c'}}});
  EXPECT_NE(readFile(file), old);
  EXPECT_EQ(readFile(file).size(), 64u + 3 + (2 + 1 + 2 + 8 + 24));
}

TEST_F(ArchiveTest, WriterIntoMissingFolderFailsCleanly) {
  std::string file = path("no/such/folder/model.tpar");
  trt_writer *writer = reinterpret_cast<trt_writer *>(this);
  EXPECT_EQ(trt_writer_create(file.c_str(), &writer, err, sizeof(err)),
            TRT_ERR_IO);
  EXPECT_EQ(writer, nullptr);
  EXPECT_THAT(std::string(err), HasSubstr("cannot create the temporary file"));
  EXPECT_THAT(std::string(err), HasSubstr("No such file or directory"));
  EXPECT_THAT(std::string(err), HasSubstr("check that the folder exists"));
  EXPECT_EQ(trt_writer_create(dir.c_str(), &writer, err, sizeof(err)),
            TRT_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(std::string(err), HasSubstr("is a folder"));
}

//===----------------------------------------------------------------------===//
// Dtypes and the C header
//===----------------------------------------------------------------------===//

TEST_F(ArchiveTest, DtypeNamesAndSizes) {
  const struct {
    trt_dtype dtype;
    const char *name;
    uint32_t size;
  } table[] = {{TRT_DTYPE_F32, "f32", 4},   {TRT_DTYPE_F16, "f16", 2},
               {TRT_DTYPE_BF16, "bf16", 2}, {TRT_DTYPE_I8, "i8", 1},
               {TRT_DTYPE_U8, "u8", 1},     {TRT_DTYPE_I32, "i32", 4},
               {TRT_DTYPE_I64, "i64", 8},   {TRT_DTYPE_BYTES, "bytes", 0}};
  for (const auto &row : table) {
    EXPECT_STREQ(trt_dtype_name(row.dtype), row.name);
    EXPECT_EQ(trt_dtype_size(row.dtype), row.size) << row.name;
    EXPECT_EQ(trt_dtype_from_name(row.name), row.dtype) << row.name;
  }
  EXPECT_EQ(trt_dtype_from_name("float32"), TRT_DTYPE_INVALID);
  EXPECT_EQ(trt_dtype_size(static_cast<trt_dtype>(99)), 0u);
}

TEST_F(ArchiveTest, PublicHeaderCompilesAsC) {
  EXPECT_EQ(trt_test_header_compiles_as_c(), 4);
}

} // namespace
