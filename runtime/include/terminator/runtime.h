/*===- runtime.h - TerMinator runtime C API -------------------------------===*\
|*                                                                            *|
|* The one public header of the TerMinator runtime (`terminator_rt`). It is   *|
|* plain C11 and C++-compatible, so compiled models, the compiler and foreign *|
|* hosts can all use it.                                                      *|
|*                                                                            *|
|* Conventions:                                                               *|
|*  - every symbol is prefixed `trt_` (macros `TRT_`);                        *|
|*  - functions that can fail return a `trt_status` and, on failure, write a  *|
|*    NUL-terminated message into the caller's `err` buffer of `err_size`     *|
|*    bytes (either may be NULL/0 to ignore the message). Messages name the   *|
|*    file, the entry and what to do; a buffer of `TRT_ERROR_MESSAGE_SIZE`    *|
|*    bytes is recommended;                                                   *|
|*  - no function aborts, asserts on bad input or lets an exception escape.   *|
|*                                                                            *|
|* The parameter archive format ("TPAR") is specified byte by byte in         *|
|* docs/archive-format.md.                                                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TERMINATOR_RUNTIME_H
#define TERMINATOR_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*\
|* Status codes                                                               *|
\*===----------------------------------------------------------------------===*/

/// Result of every fallible runtime function.
typedef enum trt_status {
  /// Success.
  TRT_OK = 0,
  /// A system call failed (open, mmap, write, fsync, rename, ...); the
  /// message carries the `strerror` text.
  TRT_ERR_IO = 1,
  /// The file is not a valid parameter archive (bad magic, unsupported
  /// version, out-of-bounds or inconsistent header or index).
  TRT_ERR_FORMAT = 2,
  /// A stored XXH3-64 checksum does not match the bytes (index or data).
  TRT_ERR_CHECKSUM = 3,
  /// No entry has the requested name.
  TRT_ERR_NOT_FOUND = 4,
  /// The caller passed a bad argument (NULL handle, duplicate name, unknown
  /// dtype, byte count that does not match the shape, wrong call order).
  TRT_ERR_INVALID_ARGUMENT = 5,
  /// Memory allocation failed.
  TRT_ERR_OUT_OF_MEMORY = 6,
  /// Not a status; keeps the enum 32 bits wide.
  TRT_STATUS_FORCE_32BIT = 0x7FFFFFFF,
} trt_status;

/// Recommended size of error message buffers: it holds any message unless
/// the file path is unusually long. Messages that do not fit are truncated
/// and still NUL-terminated.
#define TRT_ERROR_MESSAGE_SIZE 4096

/*===----------------------------------------------------------------------===*\
|* Element types                                                              *|
\*===----------------------------------------------------------------------===*/

/// Element type of an archive entry. The numeric values are part of the file
/// format and never change.
typedef enum trt_dtype {
  TRT_DTYPE_INVALID = 0,
  TRT_DTYPE_F32 = 1,
  TRT_DTYPE_F16 = 2,
  TRT_DTYPE_BF16 = 3,
  TRT_DTYPE_I8 = 4,
  TRT_DTYPE_U8 = 5,
  TRT_DTYPE_I32 = 6,
  TRT_DTYPE_I64 = 7,
  /// Opaque packed data (e.g. 2-bit ternary codes in a kernel layout): the
  /// byte count is free and the dims only describe the logical shape.
  TRT_DTYPE_BYTES = 8,
  /// Not a dtype: makes any 31-bit value representable (as Vulkan does), so
  /// C++ code may hold a bad value from a C caller and reject it.
  TRT_DTYPE_FORCE_32BIT = 0x7FFFFFFF,
} trt_dtype;

/// Size in bytes of one element of \p dtype; 0 for `TRT_DTYPE_BYTES` and for
/// values that are not a dtype.
uint32_t trt_dtype_size(trt_dtype dtype);

/// Lower-case name of \p dtype ("f32", "bf16", "bytes", ...); "invalid" for
/// values that are not a dtype. The string is static.
const char *trt_dtype_name(trt_dtype dtype);

/// The dtype called \p name (as printed by `trt_dtype_name`), or
/// `TRT_DTYPE_INVALID` if there is none.
trt_dtype trt_dtype_from_name(const char *name);

/*===----------------------------------------------------------------------===*\
|* Parameter archive: constants                                               *|
\*===----------------------------------------------------------------------===*/

/// The 8 magic bytes at offset 0 of every archive (no NUL in the file).
#define TRT_ARCHIVE_MAGIC "TMNPARAM"
/// The format version this runtime reads and writes.
#define TRT_ARCHIVE_VERSION 1u
/// Size of the fixed header at offset 0.
#define TRT_ARCHIVE_HEADER_SIZE 64u
/// Every entry's data starts at a file offset that is a multiple of this, so
/// mapped pointers are cache-line and AVX-512 aligned.
#define TRT_ARCHIVE_ALIGNMENT 64u
/// Largest rank of an entry.
#define TRT_ARCHIVE_MAX_RANK 8u
/// Largest entry name, in bytes of UTF-8 (without terminator).
#define TRT_ARCHIVE_MAX_NAME_LENGTH 1024u

/// `trt_archive_open` flag: skip the data checksums at open (the header, the
/// index and its checksum are still checked). Use `trt_archive_verify_entry`
/// later to check single entries.
#define TRT_ARCHIVE_NO_VERIFY 0x1u

/*===----------------------------------------------------------------------===*\
|* Parameter archive: reader                                                  *|
\*===----------------------------------------------------------------------===*/

/// An open, memory-mapped archive. Immutable after `trt_archive_open`: all
/// reader functions may be called from several threads at once.
typedef struct trt_archive trt_archive;

/// One tensor of an archive. Owned by the archive; valid until
/// `trt_archive_close`.
typedef struct trt_entry {
  /// Unique, non-empty UTF-8 name, NUL-terminated.
  const char *name;
  /// Length of `name` in bytes, without the terminator.
  uint32_t name_length;
  /// Element type.
  trt_dtype dtype;
  /// Number of dimensions, 0 to `TRT_ARCHIVE_MAX_RANK`.
  uint32_t rank;
  /// Position of this entry in the archive (0 to entry count - 1).
  uint32_t index;
  /// Logical shape; `dims[rank]` and beyond are 0.
  uint64_t dims[TRT_ARCHIVE_MAX_RANK];
  /// Read-only data, aligned to `TRT_ARCHIVE_ALIGNMENT` bytes.
  const void *data;
  /// Absolute file offset of the data.
  uint64_t offset;
  /// Number of data bytes.
  uint64_t nbytes;
  /// Stored XXH3-64 (seed 0) of the data bytes.
  uint64_t checksum;
} trt_entry;

/// Maps the archive at \p path read-only and checks it: magic, version,
/// header and index bounds, index checksum, every entry's name, dtype, rank,
/// byte count, alignment and bounds, unique names, and, unless \p flags has
/// `TRT_ARCHIVE_NO_VERIFY`, every entry's data checksum. On success stores
/// the archive in \p *out; on failure stores NULL.
trt_status trt_archive_open(const char *path, uint32_t flags, trt_archive **out,
                            char *err, size_t err_size);

/// Unmaps \p archive and frees it; entries and data pointers become invalid.
/// NULL is ignored.
void trt_archive_close(trt_archive *archive);

/// The path \p archive was opened with.
const char *trt_archive_path(const trt_archive *archive);

/// Size of the archive file in bytes.
uint64_t trt_archive_file_size(const trt_archive *archive);

/// Number of entries in \p archive.
uint32_t trt_archive_entry_count(const trt_archive *archive);

/// The entry at position \p index (0 to count - 1, in file order), or NULL if
/// \p index is out of range.
const trt_entry *trt_archive_entry_at(const trt_archive *archive,
                                      uint32_t index);

/// Looks up the entry named \p name (O(1) hash lookup) and stores it in
/// \p *out; `TRT_ERR_NOT_FOUND` if there is none.
trt_status trt_archive_find(const trt_archive *archive, const char *name,
                            const trt_entry **out, char *err, size_t err_size);

/// Recomputes the XXH3-64 of \p entry's data and compares it with the stored
/// checksum; `TRT_ERR_CHECKSUM` on mismatch. \p entry must come from
/// \p archive.
trt_status trt_archive_verify_entry(const trt_archive *archive,
                                    const trt_entry *entry, char *err,
                                    size_t err_size);

/// Tells the system that \p entry's data will not be read again soon: its
/// pages leave this process's resident set (they stay in the page cache and
/// are read back from the file if touched again; pages shared with
/// neighbouring entries go too). For tools that stream a large archive one
/// entry at a time, so that their resident memory stays near one entry's
/// worth. \p entry must come from \p archive. Never fails.
void trt_archive_release_entry(const trt_archive *archive,
                               const trt_entry *entry);

/*===----------------------------------------------------------------------===*\
|* Parameter archive: writer                                                  *|
\*===----------------------------------------------------------------------===*/

/// An archive being written. Tensors are streamed to a temporary file next to
/// the destination as they are added (memory use is bounded by the index);
/// `trt_writer_finish` renames it onto the destination atomically. Until
/// then the destination is untouched. Not thread-safe.
typedef struct trt_writer trt_writer;

/// Starts writing an archive that will replace \p path: creates the
/// temporary file `<path>.tmp.XXXXXX` in the same folder. On failure stores
/// NULL in \p *out.
trt_status trt_writer_create(const char *path, trt_writer **out, char *err,
                             size_t err_size);

/// Appends one tensor: \p nbytes bytes at \p data (which may be NULL if
/// \p nbytes is 0) with element type \p dtype and shape \p dims[0..rank).
/// Rejects duplicate or invalid names, unknown dtypes, ranks above
/// `TRT_ARCHIVE_MAX_RANK` and, for every dtype but `TRT_DTYPE_BYTES`, a byte
/// count other than product(dims) * element size. A rejected call leaves
/// the writer usable.
trt_status trt_writer_add(trt_writer *writer, const char *name, trt_dtype dtype,
                          uint32_t rank, const uint64_t *dims, const void *data,
                          uint64_t nbytes, char *err, size_t err_size);

/// Starts a tensor whose \p nbytes bytes are then supplied in pieces by
/// `trt_writer_write` (for tensors that are produced in chunks). Same
/// checks as `trt_writer_add`.
trt_status trt_writer_begin_entry(trt_writer *writer, const char *name,
                                  trt_dtype dtype, uint32_t rank,
                                  const uint64_t *dims, uint64_t nbytes,
                                  char *err, size_t err_size);

/// Appends \p size bytes to the tensor started by `trt_writer_begin_entry`.
/// Writing more than the announced byte count discards the entry.
trt_status trt_writer_write(trt_writer *writer, const void *data, size_t size,
                            char *err, size_t err_size);

/// Completes the tensor started by `trt_writer_begin_entry`. Fewer bytes
/// than announced discard the entry.
trt_status trt_writer_end_entry(trt_writer *writer, char *err, size_t err_size);

/// Writes the index and the header, fsyncs and renames the temporary file
/// onto the destination. On failure the temporary file is removed and the
/// destination is left as it was. Either way, call `trt_writer_destroy`
/// afterwards.
trt_status trt_writer_finish(trt_writer *writer, char *err, size_t err_size);

/// The temporary file the writer streams into (removed by finish or
/// destroy).
const char *trt_writer_temp_path(const trt_writer *writer);

/// Frees \p writer. Without a successful `trt_writer_finish` this discards
/// the archive: the temporary file is removed, the destination untouched.
/// NULL is ignored.
void trt_writer_destroy(trt_writer *writer);

/*===----------------------------------------------------------------------===*\
|* Compiled programs                                                          *|
|*                                                                            *|
|* terminator-compile emits the model's functions and one `trt_model_info`    *|
|* named `trt_model` describing them; the runtime's `main` (library           *|
|* `terminator_program`) maps the weight archive, checks it against this      *|
|* description and the CPU, and runs the commands generate / perplexity /     *|
|* bench. docs/compile.md describes the contract.                             *|
\*===----------------------------------------------------------------------===*/

/// Version of the structures below; a program and its runtime must agree.
#define TRT_MODEL_ABI_VERSION 4
/// Largest rank of a function argument.
#define TRT_MAX_ARG_RANK 8

/// What a function argument means to the runtime.
typedef enum trt_arg_role {
  TRT_ARG_INPUT_IDS = 1,      /* int64 [1, S] token ids */
  TRT_ARG_POSITION_IDS = 2,   /* int64 [1, S] positions */
  TRT_ARG_ATTENTION_MASK = 3, /* int64 [1, P+S], 1 = attend */
  TRT_ARG_PAST_KEY = 4,       /* f32 [1, kv heads, P, head dim], or the  *
                               * in-place cache (with TRT_ARG_CACHE_SLOT) */
  TRT_ARG_PAST_VALUE = 5,
  TRT_ARG_KEY_MASK = 6,    /* f32 [P+S], 0 = attend, -inf = skip */
  TRT_ARG_PARAM = 7,       /* an archive entry, by name */
  TRT_ARG_LOGITS = 8,      /* out: f32 [1, S, vocab] */
  TRT_ARG_PRESENT_KEY = 9, /* out: f32 [1, kv heads, P+S, head dim] */
  TRT_ARG_PRESENT_VALUE = 10,
  /* int64 [1]: the cache slot a decode step writes its key and value to.
   * Its function takes the cache of P+S slots in place of past and has no
   * present outputs (terminator-kv-cache-in-place). */
  TRT_ARG_CACHE_SLOT = 11,
  TRT_ARG_FORCE_32BIT = 0x7FFFFFFF,
} trt_arg_role;

/// One argument of a compiled function: a buffer of `dtype` and `shape`,
/// passed as a pointer to an MLIR memref descriptor (identity layout).
typedef struct trt_arg {
  int32_t role;  /* trt_arg_role */
  int32_t layer; /* for past / present keys and values */
  int32_t dtype; /* trt_dtype */
  int32_t rank;
  int64_t shape[TRT_MAX_ARG_RANK];
  const char *name; /* the archive entry (TRT_ARG_PARAM) or ONNX name */
} trt_arg;

/// One compiled specialization of the model: `seq_len` new tokens after
/// `past_len` cached ones. `call(args)` takes one memref descriptor pointer
/// per argument, in the order of `args`.
typedef struct trt_function {
  const char *name;
  void (*call)(void **args);
  int32_t seq_len;
  int32_t past_len;
  int32_t num_args;
  const trt_arg *args;
} trt_function;

/// A linear layer whose inputs a calibration program observes: the archive
/// entry of its weight, its number of input features (columns), and the
/// index of the layer whose input it shares (q, k and v read the same
/// value; it is observed once) or -1.
typedef struct trt_calib_layer {
  const char *name;
  int64_t cols;
  int32_t same_as;
} trt_calib_layer;

/// Everything a compiled program knows about its model.
typedef struct trt_model_info {
  int32_t abi_version; /* TRT_MODEL_ABI_VERSION */
  const char *model_name;
  const char *target;       /* e.g. "x86-64-v4" */
  const char *cpu_features; /* required, comma-separated, e.g. "avx2,fma" */
  const char *archive_name; /* default weights file, next to the program */
  const char *tokenizer;    /* "llama2c", "gpt2" or "none" */
  const char *weights_description; /* e.g. "ternary absmean/row, 2.43 b/w" */
  int32_t vocab_size;
  int32_t context_length;
  int32_t num_layers;
  int32_t bos, eos;
  int32_t num_functions;
  const trt_function *functions;
  /// Calibration programs only (terminator-compile --calib-text): the
  /// layers whose inputs `_mlir_ciface_trt_calib_observe(i, x)` reports, in
  /// the order of i. Otherwise 0 and NULL.
  int32_t num_calib_layers;
  const trt_calib_layer *calib_layers;
} trt_model_info;

/// The runtime's entry point for compiled programs: parses the command line
/// (`generate`, `perplexity`, `bench`), runs it and returns the exit code.
int trt_program_main(const trt_model_info *model, int argc, char **argv);

/*===----------------------------------------------------------------------===
 * Support for the compiled ternary micro-kernels (docs/kernels.md)
 *===----------------------------------------------------------------------===*/

/// Quantizes \p rows activation vectors `x[rows][cols]` to int8 per token for
/// the ternary kernels: scale = max|x| / 127, q = round(x / scale) in
/// [-127, 127], columns `cols..padded_cols` zero. Writes `q[rows][padded_cols]`
/// and `meta[rows][1 + G]` with G = ceil(padded_cols / group_cols):
/// meta[r][0] = scale, meta[r][1 + g] = Σ q over columns
/// [g·group_cols, (g+1)·group_cols), as float (exact below 2^24).
void trt_quantize_act(const float *x, int64_t rows, int64_t cols,
                      int64_t padded_cols, int64_t group_cols, int8_t *q,
                      float *meta);

/// A compiled kernel: rows [row_begin, row_end) of y = x · Ŵᵀ for all
/// tokens, from the packed weights, their (α, μ − α) groups and the
/// quantized activations of `trt_quantize_act`.
typedef void (*trt_rows_fn)(const void *packed, const void *meta,
                            const void *xq, const void *xmeta, float *y,
                            int64_t row_begin, int64_t row_end);

/// Runs \p fn over rows [0, rows) on the thread pool: one contiguous range
/// per thread, each a multiple of \p row_align rows but the last. Small
/// work (under \p min_rows_per_thread per thread) stays on the caller.
void trt_parallel_rows(trt_rows_fn fn, const void *packed, const void *meta,
                       const void *xq, const void *xmeta, float *y,
                       int64_t rows, int64_t row_align,
                       int64_t min_rows_per_thread);

/// Sets the number of threads of the pool (1 = the caller alone; the
/// default). Threads are started on first use and kept.
void trt_set_num_threads(int32_t threads);

/// The number of threads the pool uses.
int32_t trt_num_threads(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TERMINATOR_RUNTIME_H */
