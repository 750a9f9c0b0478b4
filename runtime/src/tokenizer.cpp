//===- tokenizer.cpp - llama2.c and GPT-2 byte-level BPE tokenizers -------===//
//
// Two implementations of trt::Tokenizer:
//
//  * Llama2cTokenizer mirrors llama2.c's run.c (build_tokenizer, encode,
//    decode) and its Python twin tools/convert/llama2c.py; the unit tests
//    compare the ids with the Python reference on test/unit/Inputs.
//    run.c rescans every pair after each merge (quadratic); the merge loop
//    here keeps the candidate pairs in a heap ordered by (score, position)
//    and drops stale entries lazily, which picks the same pair at every step
//    (llama2c.py does the same).
//
//  * Gpt2Tokenizer is GPT-2's byte-level BPE (openai/gpt-2 encoder.py):
//    the pre-tokenizer regex
//      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
//      |\s+(?!\S)|\s+
//    is hand-coded over codepoint classes, pieces are mapped byte by byte to
//    printable characters (bytes_to_unicode) and merged by rank.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace trt {

Tokenizer::~Tokenizer() = default;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Runs the loader \p body; a std::bad_alloc (or any other exception) becomes
/// nullptr and a message in \p error, so none escapes a factory.
template <typename Body>
std::unique_ptr<Tokenizer> guardedLoad(std::string &error, Body &&body) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  try {
    return body();
  } catch (const std::bad_alloc &) {
    error = "out of memory while loading the tokenizer";
  } catch (...) {
    error = "internal error: unexpected C++ exception";
  }
  return nullptr;
#else
  return body();
#endif
}

/// Little-endian 32-bit word at \p p (any alignment, any host byte order).
uint32_t loadU32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

int32_t loadI32(const uint8_t *p) {
  uint32_t bits = loadU32(p);
  int32_t value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float loadF32(const uint8_t *p) {
  uint32_t bits = loadU32(p);
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// Value of the hex digit \p c, or -1.
int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Appends the UTF-8 encoding of \p cp (at most U+10FFFF) to \p out.
void appendUtf8(uint32_t cp, std::string &out) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6);
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3F));
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// Decodes the UTF-8 sequence at \p text[pos] into \p cp and returns its
/// length, or 0 if it is not valid UTF-8 (truncated, overlong, surrogate,
/// above U+10FFFF, stray continuation byte).
size_t decodeUtf8(std::string_view text, size_t pos, uint32_t &cp) {
  auto byte = [&](size_t i) { return uint8_t(text[i]); };
  uint8_t lead = byte(pos);
  if (lead < 0x80) {
    cp = lead;
    return 1;
  }
  size_t length;
  uint32_t min;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80, cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800, cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000, cp = lead & 0x07;
  } else {
    return 0;
  }
  if (pos + length > text.size())
    return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80)
      return 0;
    cp = cp << 6 | (byte(pos + i) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return length;
}

//===----------------------------------------------------------------------===//
// llama2.c
//===----------------------------------------------------------------------===//

/// Largest max_token_length accepted (as llama2c.py): bigger values mean the
/// bytes are not a llama2.c tokenizer.
constexpr int32_t kMaxPieceLength = 1024;
/// <unk>, BOS, EOS and the 256 byte-fallback tokens <0x00>..<0xFF>, which
/// encode() addresses as byte + 3.
constexpr int32_t kMinLlama2cVocab = 3 + 256;
/// run.c only merges pairs whose piece scores above this.
constexpr double kMinMergeScore = -1e10;

class Llama2cTokenizer final : public Tokenizer {
public:
  std::vector<int32_t> encode(const std::string &text,
                              bool withBos) const override;
  std::string decode(int32_t prev, int32_t token) const override;
  int32_t vocabSize() const override { return int32_t(pieces.size()); }

  /// Pieces as run.c sees them: C strings, cut at the first NUL.
  std::vector<std::string> pieces;
  std::vector<float> scores;
  /// Piece -> id, as run.c's str_lookup; the first id wins on duplicates.
  std::unordered_map<std::string, int32_t> ids;
  /// Id of " ", sentencepiece's dummy prefix.
  int32_t dummyPrefix = -1;

  /// The id of \p piece, or -1 (run.c's str_lookup).
  int32_t lookup(const std::string &piece) const {
    auto it = ids.find(piece);
    return it == ids.end() ? -1 : it->second;
  }

private:
  void merge(std::vector<int32_t> &tokens) const;
};

std::unique_ptr<Tokenizer> loadLlama2c(const uint8_t *data, size_t size,
                                       int32_t vocabSize, std::string &error) {
  const std::string layout = "(int32 max_token_length, then per token: "
                             "float32 score, int32 length, bytes)";
  if (vocabSize < kMinLlama2cVocab) {
    error = "the model's vocabulary size " + std::to_string(vocabSize) +
            " is too small for a llama2.c tokenizer, which holds <unk>, BOS, "
            "EOS and 256 byte tokens (at least " +
            std::to_string(kMinLlama2cVocab) + ")";
    return nullptr;
  }
  if (!data || size < 4) {
    error = "the file has " + std::to_string(data ? size : 0) +
            " bytes, too few for a llama2.c tokenizer " + layout;
    return nullptr;
  }
  int32_t maxLength = loadI32(data);
  if (maxLength < 1 || maxLength > kMaxPieceLength) {
    error = "max_token_length " + std::to_string(maxLength) +
            " at offset 0 is not in 1.." + std::to_string(kMaxPieceLength) +
            "; this is not a llama2.c tokenizer " + layout;
    return nullptr;
  }

  auto tokenizer = std::make_unique<Llama2cTokenizer>();
  // Each token takes at least 8 bytes: a huge vocabSize cannot make the
  // reservation huge.
  size_t capacity = std::min(size_t(vocabSize), (size - 4) / 8);
  tokenizer->pieces.reserve(capacity);
  tokenizer->scores.reserve(capacity);
  size_t offset = 4;
  for (int32_t i = 0; i < vocabSize; ++i) {
    const size_t record = offset;
    auto where = [&] {
      return "token " + std::to_string(i) + " at offset " +
             std::to_string(record);
    };
    if (offset == size) {
      error = "the file ends after " + std::to_string(i) +
              " tokens, but the model's vocabulary has " +
              std::to_string(vocabSize) +
              "; the file is truncated or belongs to another model";
      return nullptr;
    }
    if (size - offset < 8) {
      error = where() +
              ": expected an 8-byte (score, length) record, but only " +
              std::to_string(size - offset) +
              " bytes remain; the file is truncated";
      return nullptr;
    }
    float score = loadF32(data + offset);
    int32_t length = loadI32(data + offset + 4);
    if (!std::isfinite(score)) {
      error = where() + ": score is " + std::to_string(score) +
              ", not a finite number; this is not a llama2.c tokenizer";
      return nullptr;
    }
    if (length < 0 || length > maxLength) {
      error = where() + ": length " + std::to_string(length) + " (at offset " +
              std::to_string(offset + 4) + ") is not in 0.." +
              std::to_string(maxLength) +
              " (max_token_length); this is not a llama2.c tokenizer";
      return nullptr;
    }
    offset += 8;
    if (size - offset < size_t(length)) {
      error = where() + ": expected " + std::to_string(length) +
              " bytes at offset " + std::to_string(offset) + ", but only " +
              std::to_string(size - offset) + " remain; the file is truncated";
      return nullptr;
    }
    std::string_view piece(reinterpret_cast<const char *>(data + offset),
                           size_t(length));
    // run.c keeps the piece as a C string: it ends at the first NUL.
    tokenizer->pieces.emplace_back(piece.substr(0, piece.find('\0')));
    tokenizer->scores.push_back(score);
    offset += size_t(length);
  }
  if (offset != size) {
    error = "expected " + std::to_string(vocabSize) +
            " tokens (the model's vocabulary), but " +
            std::to_string(size - offset) + " more bytes follow token " +
            std::to_string(vocabSize - 1) + " at offset " +
            std::to_string(offset) +
            "; this tokenizer belongs to another model";
    return nullptr;
  }

  for (int32_t i = 0; i < vocabSize; ++i)
    tokenizer->ids.emplace(tokenizer->pieces[i], i);
  tokenizer->dummyPrefix = tokenizer->lookup(" ");
  if (tokenizer->dummyPrefix < 0) {
    error = "the vocabulary has no piece \" \" for sentencepiece's dummy "
            "prefix; this is not a llama2.c (sentencepiece) tokenizer";
    return nullptr;
  }
  return tokenizer;
}

std::vector<int32_t> Llama2cTokenizer::encode(const std::string &text,
                                              bool withBos) const {
  // run.c receives a C string: anything after a NUL is not seen.
  std::string_view bytes(text.c_str());
  std::vector<int32_t> tokens;
  tokens.reserve(bytes.size() + 2);
  if (withBos)
    tokens.push_back(bos);
  if (!bytes.empty())
    tokens.push_back(dummyPrefix);

  // One lookup per codepoint: a piece starts at every byte that is not a
  // UTF-8 continuation byte and is cut after 4 bytes.
  std::string codepoint;
  for (size_t i = 0, n = bytes.size(); i < n; ++i) {
    uint8_t byte = uint8_t(bytes[i]);
    if ((byte & 0xC0) != 0x80)
      codepoint.clear();
    codepoint += char(byte);
    uint8_t next = i + 1 < n ? uint8_t(bytes[i + 1]) : 0;
    if ((next & 0xC0) == 0x80 && codepoint.size() < 4)
      continue;
    int32_t id = lookup(codepoint);
    if (id >= 0) {
      tokens.push_back(id);
    } else {
      // Byte fallback: <0x00>..<0xFF> are ids 3..258.
      for (char c : codepoint)
        tokens.push_back(int32_t(uint8_t(c)) + 3);
    }
    codepoint.clear();
  }
  merge(tokens);
  return tokens;
}

void Llama2cTokenizer::merge(std::vector<int32_t> &tokens) const {
  const size_t n = tokens.size();
  if (n < 2)
    return;
  constexpr size_t kNone = SIZE_MAX;
  // A doubly linked list over the positions; `version` changes whenever a
  // node's token changes or the node is removed, so heap entries made
  // before are recognized as stale.
  std::vector<size_t> next(n), prev(n);
  std::vector<uint32_t> version(n, 0);
  for (size_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? i + 1 : kNone;
    prev[i] = i > 0 ? i - 1 : kNone;
  }

  struct Candidate {
    float score;
    size_t left, right;
    uint32_t leftVersion, rightVersion;
    int32_t id;
  };
  // Best first: highest score, then leftmost (run.c keeps the first of equal
  // scores). At most one live entry exists per left position.
  auto worse = [](const Candidate &a, const Candidate &b) {
    if (a.score != b.score)
      return a.score < b.score;
    return a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(
      worse);
  std::string pair;
  auto push = [&](size_t i) {
    size_t j = next[i];
    if (j == kNone)
      return;
    pair = pieces[tokens[i]];
    pair += pieces[tokens[j]];
    int32_t id = lookup(pair);
    if (id >= 0 && double(scores[id]) > kMinMergeScore)
      heap.push({scores[id], i, j, version[i], version[j], id});
  };

  for (size_t i = 0; i + 1 < n; ++i)
    push(i);
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    if (version[c.left] != c.leftVersion ||
        version[c.right] != c.rightVersion || next[c.left] != c.right)
      continue;
    // Replace the pair by the merged token at the left node; drop the right.
    tokens[c.left] = c.id;
    ++version[c.left];
    ++version[c.right];
    size_t after = next[c.right];
    next[c.left] = after;
    if (after != kNone)
      prev[after] = c.left;
    next[c.right] = kNone;
    if (prev[c.left] != kNone)
      push(prev[c.left]);
    push(c.left);
  }

  // Position 0 is never a right node, so the list starts there.
  size_t out = 0;
  for (size_t i = 0; i != kNone; i = next[i])
    tokens[out++] = tokens[i];
  tokens.resize(out);
}

std::string Llama2cTokenizer::decode(int32_t prev, int32_t token) const {
  if (token < 0 || token >= vocabSize())
    return {};
  std::string_view piece = pieces[token];
  // After BOS, sentencepiece's dummy-prefix space is not printed.
  if (prev == bos && !piece.empty() && piece[0] == ' ')
    piece.remove_prefix(1);
  // Raw byte pieces "<0xHH>" stand for the byte HH.
  if (piece.size() >= 6 && piece.substr(0, 3) == "<0x" && piece[5] == '>') {
    int high = hexValue(piece[3]), low = hexValue(piece[4]);
    if (high >= 0 && low >= 0)
      return std::string(1, char(high << 4 | low));
  }
  return std::string(piece);
}

//===----------------------------------------------------------------------===//
// GPT-2: codepoint classes of the pre-tokenizer regex
//===----------------------------------------------------------------------===//

/// The classes the regex distinguishes: \p{L}, \p{N}, \s and the rest.
enum class CharClass : uint8_t { Letter, Number, Space, Other };

struct ClassRange {
  uint32_t first, last;
  CharClass cls;
};

/// Every codepoint not listed is a letter. Checked against Python's
/// unicodedata (Unicode 14), the table is exact for U+0000-U+052F (Latin,
/// Greek, Cyrillic), U+2000-U+2BFF (punctuation, symbols, arrows, box
/// drawing, dingbats), U+2E00-U+33FF (CJK symbols and punctuation, kana,
/// enclosed CJK), U+FE00-U+FFFF (fullwidth forms) and U+1F000-U+1FBFF
/// (emoji), and has the common digit sets. Elsewhere 1.7% of the assigned
/// codepoints, mostly combining marks and punctuation of Indic, Southeast
/// Asian and other scripts, count as letters, so such text may split into
/// fewer pieces than with GPT-2's regex (which needs the whole Unicode
/// database).
constexpr ClassRange kClassRanges[] = {
    {0x0000, 0x0008, CharClass::Other},
    {0x0009, 0x000D, CharClass::Space},
    {0x000E, 0x001F, CharClass::Other},
    {0x0020, 0x0020, CharClass::Space},
    {0x0021, 0x002F, CharClass::Other},
    {0x0030, 0x0039, CharClass::Number},
    {0x003A, 0x0040, CharClass::Other},
    {0x005B, 0x0060, CharClass::Other},
    {0x007B, 0x0084, CharClass::Other},
    {0x0085, 0x0085, CharClass::Space},
    {0x0086, 0x009F, CharClass::Other},
    {0x00A0, 0x00A0, CharClass::Space},
    {0x00A1, 0x00A9, CharClass::Other},
    {0x00AB, 0x00B1, CharClass::Other},
    {0x00B2, 0x00B3, CharClass::Number},
    {0x00B4, 0x00B4, CharClass::Other},
    {0x00B6, 0x00B8, CharClass::Other},
    {0x00B9, 0x00B9, CharClass::Number},
    {0x00BB, 0x00BB, CharClass::Other},
    {0x00BC, 0x00BE, CharClass::Number},
    {0x00BF, 0x00BF, CharClass::Other},
    {0x00D7, 0x00D7, CharClass::Other},
    {0x00F7, 0x00F7, CharClass::Other},
    {0x02C2, 0x02C5, CharClass::Other},
    {0x02D2, 0x02DF, CharClass::Other},
    {0x02E5, 0x02EB, CharClass::Other},
    {0x02ED, 0x02ED, CharClass::Other},
    {0x02EF, 0x036F, CharClass::Other},
    {0x0375, 0x0375, CharClass::Other},
    {0x037E, 0x037E, CharClass::Other},
    {0x0384, 0x0385, CharClass::Other},
    {0x0387, 0x0387, CharClass::Other},
    {0x03F6, 0x03F6, CharClass::Other},
    {0x0482, 0x0489, CharClass::Other},
    {0x055A, 0x055F, CharClass::Other},
    {0x0589, 0x058A, CharClass::Other},
    {0x05BE, 0x05BE, CharClass::Other},
    {0x05C0, 0x05C0, CharClass::Other},
    {0x05C3, 0x05C3, CharClass::Other},
    {0x05C6, 0x05C6, CharClass::Other},
    {0x05F3, 0x05F4, CharClass::Other},
    {0x0600, 0x060F, CharClass::Other},
    {0x061B, 0x061F, CharClass::Other},
    {0x0660, 0x0669, CharClass::Number},
    {0x066A, 0x066D, CharClass::Other},
    {0x06D4, 0x06D4, CharClass::Other},
    {0x06F0, 0x06F9, CharClass::Number},
    {0x07C0, 0x07C9, CharClass::Number},
    {0x0964, 0x0965, CharClass::Other},
    {0x0966, 0x096F, CharClass::Number},
    {0x0970, 0x0970, CharClass::Other},
    {0x09E6, 0x09EF, CharClass::Number},
    {0x09F4, 0x09F9, CharClass::Number},
    {0x0A66, 0x0A6F, CharClass::Number},
    {0x0AE6, 0x0AEF, CharClass::Number},
    {0x0B66, 0x0B6F, CharClass::Number},
    {0x0B72, 0x0B77, CharClass::Number},
    {0x0BE6, 0x0BF2, CharClass::Number},
    {0x0C66, 0x0C6F, CharClass::Number},
    {0x0C78, 0x0C7E, CharClass::Number},
    {0x0CE6, 0x0CEF, CharClass::Number},
    {0x0D58, 0x0D5E, CharClass::Number},
    {0x0D66, 0x0D78, CharClass::Number},
    {0x0DE6, 0x0DEF, CharClass::Number},
    {0x0E3F, 0x0E3F, CharClass::Other},
    {0x0E4F, 0x0E4F, CharClass::Other},
    {0x0E50, 0x0E59, CharClass::Number},
    {0x0E5A, 0x0E5B, CharClass::Other},
    {0x0ED0, 0x0ED9, CharClass::Number},
    {0x0F20, 0x0F33, CharClass::Number},
    {0x1040, 0x1049, CharClass::Number},
    {0x1090, 0x1099, CharClass::Number},
    {0x10FB, 0x10FB, CharClass::Other},
    {0x1360, 0x1368, CharClass::Other},
    {0x1369, 0x137C, CharClass::Number},
    {0x1680, 0x1680, CharClass::Space},
    {0x16EB, 0x16ED, CharClass::Other},
    {0x16EE, 0x16F0, CharClass::Number},
    {0x17E0, 0x17E9, CharClass::Number},
    {0x17F0, 0x17F9, CharClass::Number},
    {0x1810, 0x1819, CharClass::Number},
    {0x1946, 0x194F, CharClass::Number},
    {0x19D0, 0x19DA, CharClass::Number},
    {0x1A80, 0x1A89, CharClass::Number},
    {0x1A90, 0x1A99, CharClass::Number},
    {0x1B50, 0x1B59, CharClass::Number},
    {0x1BB0, 0x1BB9, CharClass::Number},
    {0x1C40, 0x1C49, CharClass::Number},
    {0x1C50, 0x1C59, CharClass::Number},
    {0x1DC0, 0x1DFF, CharClass::Other},
    {0x1FBD, 0x1FBD, CharClass::Other},
    {0x1FBF, 0x1FC1, CharClass::Other},
    {0x1FCD, 0x1FCF, CharClass::Other},
    {0x1FDD, 0x1FDF, CharClass::Other},
    {0x1FED, 0x1FEF, CharClass::Other},
    {0x1FFD, 0x1FFE, CharClass::Other},
    {0x2000, 0x200A, CharClass::Space},
    {0x200B, 0x2027, CharClass::Other},
    {0x2028, 0x2029, CharClass::Space},
    {0x202A, 0x202E, CharClass::Other},
    {0x202F, 0x202F, CharClass::Space},
    {0x2030, 0x205E, CharClass::Other},
    {0x205F, 0x205F, CharClass::Space},
    {0x2060, 0x206F, CharClass::Other},
    {0x2070, 0x2070, CharClass::Number},
    {0x2074, 0x2079, CharClass::Number},
    {0x207A, 0x207E, CharClass::Other},
    {0x2080, 0x2089, CharClass::Number},
    {0x208A, 0x208E, CharClass::Other},
    {0x20A0, 0x20FF, CharClass::Other},
    {0x2100, 0x2101, CharClass::Other},
    {0x2103, 0x2106, CharClass::Other},
    {0x2108, 0x2109, CharClass::Other},
    {0x2114, 0x2114, CharClass::Other},
    {0x2116, 0x2118, CharClass::Other},
    {0x211E, 0x2123, CharClass::Other},
    {0x2125, 0x2125, CharClass::Other},
    {0x2127, 0x2127, CharClass::Other},
    {0x2129, 0x2129, CharClass::Other},
    {0x212E, 0x212E, CharClass::Other},
    {0x213A, 0x213B, CharClass::Other},
    {0x2140, 0x2144, CharClass::Other},
    {0x214A, 0x214D, CharClass::Other},
    {0x214F, 0x214F, CharClass::Other},
    {0x2150, 0x2182, CharClass::Number},
    {0x2185, 0x2189, CharClass::Number},
    {0x218A, 0x245F, CharClass::Other},
    {0x2460, 0x249B, CharClass::Number},
    {0x249C, 0x24E9, CharClass::Other},
    {0x24EA, 0x24FF, CharClass::Number},
    {0x2500, 0x2775, CharClass::Other},
    {0x2776, 0x2793, CharClass::Number},
    {0x2794, 0x2BFF, CharClass::Other},
    {0x2CE5, 0x2CEA, CharClass::Other},
    {0x2CEF, 0x2CF1, CharClass::Other},
    {0x2CF9, 0x2CFC, CharClass::Other},
    {0x2CFD, 0x2CFD, CharClass::Number},
    {0x2CFE, 0x2CFF, CharClass::Other},
    {0x2D70, 0x2D70, CharClass::Other},
    {0x2D7F, 0x2D7F, CharClass::Other},
    {0x2DE0, 0x2E2E, CharClass::Other},
    {0x2E30, 0x2FFF, CharClass::Other},
    {0x3000, 0x3000, CharClass::Space},
    {0x3001, 0x3004, CharClass::Other},
    {0x3007, 0x3007, CharClass::Number},
    {0x3008, 0x3020, CharClass::Other},
    {0x3021, 0x3029, CharClass::Number},
    {0x302A, 0x3030, CharClass::Other},
    {0x3036, 0x3037, CharClass::Other},
    {0x3038, 0x303A, CharClass::Number},
    {0x303D, 0x303F, CharClass::Other},
    {0x3099, 0x309C, CharClass::Other},
    {0x30A0, 0x30A0, CharClass::Other},
    {0x30FB, 0x30FB, CharClass::Other},
    {0x3190, 0x3191, CharClass::Other},
    {0x3192, 0x3195, CharClass::Number},
    {0x3196, 0x319F, CharClass::Other},
    {0x31C0, 0x31EF, CharClass::Other},
    {0x3200, 0x321F, CharClass::Other},
    {0x3220, 0x3229, CharClass::Number},
    {0x322A, 0x3247, CharClass::Other},
    {0x3248, 0x324F, CharClass::Number},
    {0x3250, 0x3250, CharClass::Other},
    {0x3251, 0x325F, CharClass::Number},
    {0x3260, 0x327F, CharClass::Other},
    {0x3280, 0x3289, CharClass::Number},
    {0x328A, 0x32B0, CharClass::Other},
    {0x32B1, 0x32BF, CharClass::Number},
    {0x32C0, 0x33FF, CharClass::Other},
    {0x4DC0, 0x4DFF, CharClass::Other},
    {0xA490, 0xA4CF, CharClass::Other},
    {0xA620, 0xA629, CharClass::Number},
    {0xA8D0, 0xA8D9, CharClass::Number},
    {0xA900, 0xA909, CharClass::Number},
    {0xA9D0, 0xA9D9, CharClass::Number},
    {0xAA50, 0xAA59, CharClass::Number},
    {0xABF0, 0xABF9, CharClass::Number},
    {0xD800, 0xF8FF, CharClass::Other},
    {0xFB29, 0xFB29, CharClass::Other},
    {0xFD3E, 0xFD3F, CharClass::Other},
    {0xFE00, 0xFE6F, CharClass::Other},
    {0xFEFF, 0xFEFF, CharClass::Other},
    {0xFF01, 0xFF0F, CharClass::Other},
    {0xFF10, 0xFF19, CharClass::Number},
    {0xFF1A, 0xFF20, CharClass::Other},
    {0xFF3B, 0xFF40, CharClass::Other},
    {0xFF5B, 0xFF65, CharClass::Other},
    {0xFFE0, 0xFFFF, CharClass::Other},
    {0x1D7CE, 0x1D7FF, CharClass::Number},
    {0x1F000, 0x1F0FF, CharClass::Other},
    {0x1F100, 0x1F10C, CharClass::Number},
    {0x1F10D, 0x1FBEF, CharClass::Other},
    {0x1FBF0, 0x1FBF9, CharClass::Number},
    {0x1FBFA, 0x1FFFF, CharClass::Other},
    {0xE0000, 0xE0FFF, CharClass::Other},
    {0xF0000, 0x10FFFF, CharClass::Other},
};

CharClass classify(uint32_t cp) {
  if (cp < 0x80) {
    // The hot path: ASCII letters.
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
      return CharClass::Letter;
  }
  auto it = std::upper_bound(
      std::begin(kClassRanges), std::end(kClassRanges), cp,
      [](uint32_t value, const ClassRange &r) { return value < r.first; });
  if (it == std::begin(kClassRanges))
    return CharClass::Letter;
  --it;
  return cp <= it->last ? it->cls : CharClass::Letter;
}

//===----------------------------------------------------------------------===//
// GPT-2: JSON vocabulary
//===----------------------------------------------------------------------===//

/// Reads the flat object {"token": id, ...} of vocab.json. Strings may use
/// every JSON escape, \uXXXX surrogate pairs included; ids are integers.
class VocabJsonReader {
public:
  VocabJsonReader(std::string_view text, std::string &error)
      : text(text), error(error) {}

  /// Calls \p add(token, id) for every member; false (with `error` set) on
  /// malformed JSON or when \p add returns false.
  template <typename Add> bool read(Add &&add) {
    skipSpace();
    if (!expect('{', "'{' opening the vocabulary object"))
      return false;
    skipSpace();
    if (peek('}')) {
      ++pos;
    } else {
      for (;;) {
        std::string token;
        int64_t id;
        skipSpace();
        size_t at = pos;
        if (!readString(token))
          return false;
        skipSpace();
        if (!expect(':', "':' after a token"))
          return false;
        skipSpace();
        if (!readId(id))
          return false;
        if (!add(std::move(token), int32_t(id), at))
          return false;
        skipSpace();
        if (peek(',')) {
          ++pos;
          continue;
        }
        if (!expect('}', "',' or '}' after an id"))
          return false;
        break;
      }
    }
    skipSpace();
    if (pos != text.size())
      return fail("unexpected data after the vocabulary object");
    return true;
  }

  /// Sets the error for the current offset; returns false.
  bool fail(const std::string &what) { return failAt(pos, what); }
  bool failAt(size_t at, const std::string &what) {
    error = "vocab.json at byte " + std::to_string(at) + ": " + what;
    return false;
  }

private:
  bool peek(char c) const { return pos < text.size() && text[pos] == c; }

  bool expect(char c, const char *what) {
    if (peek(c)) {
      ++pos;
      return true;
    }
    return fail(std::string("expected ") + what +
                (pos < text.size() ? "" : ", but the text ends"));
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  /// Reads 4 hex digits of a \u escape.
  bool readHex4(uint32_t &value) {
    if (text.size() - pos < 4)
      return fail("truncated \\u escape");
    value = 0;
    for (int i = 0; i < 4; ++i) {
      int digit = hexValue(text[pos + i]);
      if (digit < 0)
        return fail("\\u must be followed by 4 hex digits");
      value = value << 4 | uint32_t(digit);
    }
    pos += 4;
    return true;
  }

  bool readString(std::string &out) {
    if (!expect('"', "'\"' starting a token string"))
      return false;
    for (;;) {
      if (pos >= text.size())
        return fail("unterminated string");
      char c = text[pos];
      if (c == '"') {
        ++pos;
        return true;
      }
      if (uint8_t(c) < 0x20)
        return fail("raw control character in a string");
      if (c != '\\') {
        out += c;
        ++pos;
        continue;
      }
      size_t escape = pos++;
      if (pos >= text.size())
        return fail("unterminated string");
      switch (text[pos++]) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!readHex4(cp))
          return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
          return failAt(escape, "unpaired low surrogate in a \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low;
          if (text.substr(pos, 2) != "\\u")
            return failAt(escape, "high surrogate not followed by a \\u low "
                                  "surrogate");
          pos += 2;
          if (!readHex4(low))
            return false;
          if (low < 0xDC00 || low > 0xDFFF)
            return failAt(escape, "high surrogate not followed by a low "
                                  "surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        appendUtf8(cp, out);
        break;
      }
      default:
        return failAt(escape,
                      std::string("invalid escape '\\") + text[pos - 1] + "'");
      }
    }
  }

  bool readId(int64_t &id) {
    size_t start = pos;
    if (peek('-'))
      return fail("token id must not be negative");
    id = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      id = id * 10 + (text[pos++] - '0');
      if (id > INT32_MAX)
        return failAt(start, "token id is larger than 2147483647");
    }
    if (pos == start)
      return fail("expected an integer token id");
    if (pos < text.size() &&
        (text[pos] == '.' || text[pos] == 'e' || text[pos] == 'E'))
      return failAt(start, "token id must be an integer");
    return true;
  }

  std::string_view text;
  std::string &error;
  size_t pos = 0;
};

//===----------------------------------------------------------------------===//
// GPT-2 byte-level BPE
//===----------------------------------------------------------------------===//

class Gpt2Tokenizer final : public Tokenizer {
public:
  Gpt2Tokenizer();

  std::vector<int32_t> encode(const std::string &text,
                              bool withBos) const override;
  std::string decode(int32_t prev, int32_t token) const override;
  int32_t vocabSize() const override { return int32_t(tokens.size()); }

  /// Id -> token text (GPT-2's printable characters, UTF-8).
  std::vector<std::string> tokens;
  /// Token text -> id.
  std::unordered_map<std::string, int32_t> ids;
  /// "a b" -> rank (line order in merges.txt; lower merges first).
  std::unordered_map<std::string, int32_t> mergeRanks;
  /// bytes_to_unicode: the character (UTF-8) standing for each byte.
  std::string byteSymbols[256];
  /// The inverse map, indexed by codepoint (all are below 324); -1 if none.
  int16_t symbolBytes[324];

private:
  void encodeWord(std::string_view word, std::vector<int32_t> &out) const;
};

Gpt2Tokenizer::Gpt2Tokenizer() {
  // GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for
  // themselves, the others are moved to U+0100 and up, in byte order.
  std::fill(std::begin(symbolBytes), std::end(symbolBytes), int16_t(-1));
  uint32_t shifted = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    uint32_t cp = printable ? b : shifted++;
    appendUtf8(cp, byteSymbols[b]);
    symbolBytes[cp] = int16_t(b);
  }
}

std::unique_ptr<Tokenizer> loadGpt2(const std::string &vocabJson,
                                    const std::string &mergesTxt,
                                    std::string &error) {
  auto tokenizer = std::make_unique<Gpt2Tokenizer>();
  // Ids must be 0..N-1, each once: then vocabSize() is the number of tokens
  // and no id can make the table huge. Checked once the count is known.
  struct Member {
    int32_t id;
    size_t offset;
  };
  std::vector<Member> members;
  VocabJsonReader reader(vocabJson, error);
  bool ok = reader.read([&](std::string token, int32_t id, size_t at) {
    if (token.empty())
      return reader.failAt(at, "empty token");
    if (!tokenizer->ids.emplace(token, id).second)
      return reader.failAt(at, "duplicate token \"" + token + "\"");
    members.push_back({id, at});
    return true;
  });
  if (!ok)
    return nullptr;
  if (members.empty()) {
    error = "vocab.json: the vocabulary is empty";
    return nullptr;
  }
  std::vector<size_t> firstOffset(members.size(), SIZE_MAX);
  for (const Member &m : members) {
    if (size_t(m.id) >= members.size()) {
      reader.failAt(m.offset, "token id " + std::to_string(m.id) +
                                  " is out of range: with " +
                                  std::to_string(members.size()) +
                                  " tokens the ids must be 0.." +
                                  std::to_string(members.size() - 1));
      return nullptr;
    }
    if (firstOffset[m.id] != SIZE_MAX) {
      reader.failAt(m.offset, "token id " + std::to_string(m.id) +
                                  " is used twice (first at byte " +
                                  std::to_string(firstOffset[m.id]) + ")");
      return nullptr;
    }
    firstOffset[m.id] = m.offset;
  }
  tokenizer->tokens.resize(members.size());
  for (const auto &[token, id] : tokenizer->ids)
    tokenizer->tokens[id] = token;
  for (int b = 0; b < 256; ++b) {
    if (!tokenizer->ids.count(tokenizer->byteSymbols[b])) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02X", b);
      error = "vocab.json: the byte-level symbol \"" +
              tokenizer->byteSymbols[b] + "\" of byte " + hex +
              " is missing; a GPT-2 vocabulary holds all 256 byte symbols";
      return nullptr;
    }
  }

  // merges.txt: "a b" per line, by priority.
  std::string_view merges(mergesTxt);
  int32_t rank = 0;
  size_t lineNumber = 0;
  for (size_t start = 0; start < merges.size();) {
    size_t end = merges.find('\n', start);
    if (end == std::string_view::npos)
      end = merges.size();
    std::string_view line = merges.substr(start, end - start);
    start = end + 1;
    ++lineNumber;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty() || (lineNumber == 1 && line.substr(0, 9) == "#version:"))
      continue;
    std::string where = "merges.txt line " + std::to_string(lineNumber);
    size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos ||
        space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      error = where + ": expected two tokens separated by one space, got \"" +
              std::string(line) + "\"";
      return nullptr;
    }
    std::string left(line.substr(0, space)), right(line.substr(space + 1));
    for (const std::string &part : {left, right, left + right}) {
      if (!tokenizer->ids.count(part)) {
        error = where + ": \"" + part +
                "\" is not in vocab.json; the two files do not belong together";
        return nullptr;
      }
    }
    tokenizer->mergeRanks.emplace(left + " " + right, rank++);
  }

  auto endOfText = tokenizer->ids.find("<|endoftext|>");
  tokenizer->bos = tokenizer->eos =
      endOfText == tokenizer->ids.end() ? -1 : endOfText->second;
  return tokenizer;
}

std::vector<int32_t> Gpt2Tokenizer::encode(const std::string &text,
                                           bool withBos) const {
  std::vector<int32_t> out;
  if (withBos && bos >= 0)
    out.push_back(bos);

  // Codepoints of the text with their byte offsets; a byte that is not
  // valid UTF-8 is one codepoint of class Other.
  struct Char {
    size_t offset;
    CharClass cls;
    bool isSpaceChar, isApostrophe;
  };
  std::vector<Char> chars;
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp;
    size_t length = decodeUtf8(text, pos, cp);
    CharClass cls = length ? classify(cp) : CharClass::Other;
    chars.push_back({pos, cls, length && cp == ' ', length && cp == '\''});
    pos += length ? length : 1;
  }
  const size_t n = chars.size();
  auto offsetOf = [&](size_t i) {
    return i < n ? chars[i].offset : text.size();
  };
  auto charAt = [&](size_t i) { return i < n ? text[chars[i].offset] : '\0'; };

  // The pre-tokenizer regex, alternative by alternative; each match is one
  // word for BPE.
  for (size_t i = 0; i < n;) {
    size_t j = i;
    // 's|'t|'re|'ve|'m|'ll|'d
    if (chars[i].isApostrophe) {
      char a = charAt(i + 1), b = charAt(i + 2);
      if (a == 's' || a == 't' || a == 'm' || a == 'd')
        j = i + 2;
      else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
               (a == 'l' && b == 'l'))
        j = i + 3;
    }
    if (j == i) {
      // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': one optional space,
      // then a run of one class.
      size_t k = chars[i].isSpaceChar && i + 1 < n ? i + 1 : i;
      CharClass cls = chars[k].cls;
      if (cls != CharClass::Space) {
        j = k + 1;
        while (j < n && chars[j].cls == cls)
          ++j;
      } else {
        // '\s+(?!\S)|\s+': a run of spaces, leaving the last one to the
        // next word when a non-space follows.
        j = i + 1;
        while (j < n && chars[j].cls == CharClass::Space)
          ++j;
        if (j < n && j - i > 1)
          --j;
      }
    }
    encodeWord(
        std::string_view(text).substr(offsetOf(i), offsetOf(j) - offsetOf(i)),
        out);
    i = j;
  }
  return out;
}

void Gpt2Tokenizer::encodeWord(std::string_view word,
                               std::vector<int32_t> &out) const {
  std::vector<std::string> symbols;
  symbols.reserve(word.size());
  for (char c : word)
    symbols.push_back(byteSymbols[uint8_t(c)]);

  // GPT-2's bpe(): merge every occurrence of the best-ranked pair, left to
  // right, until no pair has a rank.
  std::string key;
  while (symbols.size() > 1) {
    int32_t bestRank = INT32_MAX;
    size_t best = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      key = symbols[i] + " " + symbols[i + 1];
      auto it = mergeRanks.find(key);
      if (it != mergeRanks.end() && it->second < bestRank) {
        bestRank = it->second;
        best = i;
      }
    }
    if (bestRank == INT32_MAX)
      break;
    const std::string first = symbols[best], second = symbols[best + 1];
    std::vector<std::string> merged;
    merged.reserve(symbols.size());
    for (size_t i = 0; i < symbols.size();) {
      if (i + 1 < symbols.size() && symbols[i] == first &&
          symbols[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(std::move(symbols[i]));
        ++i;
      }
    }
    symbols = std::move(merged);
  }
  // Every symbol is a byte symbol or a merge result, all checked to be in
  // the vocabulary when loading, so the lookup cannot fail.
  for (const std::string &symbol : symbols) {
    auto it = ids.find(symbol);
    if (it != ids.end())
      out.push_back(it->second);
  }
}

std::string Gpt2Tokenizer::decode(int32_t /*prev*/, int32_t token) const {
  if (token < 0 || token >= vocabSize())
    return {};
  std::string_view symbols = tokens[token];
  std::string bytes;
  for (size_t pos = 0; pos < symbols.size();) {
    uint32_t cp;
    size_t length = decodeUtf8(symbols, pos, cp);
    if (length && cp < 324 && symbolBytes[cp] >= 0) {
      bytes += char(symbolBytes[cp]);
    } else {
      // Not a byte symbol (e.g. in an added token): keep it as it is.
      length = length ? length : 1;
      bytes.append(symbols.substr(pos, length));
    }
    pos += length;
  }
  return bytes;
}

} // namespace

//===----------------------------------------------------------------------===//
// Factories
//===----------------------------------------------------------------------===//

std::unique_ptr<Tokenizer> Tokenizer::fromLlama2c(const uint8_t *data,
                                                  size_t size,
                                                  int32_t vocabSize,
                                                  std::string &error) {
  error.clear();
  return guardedLoad(error,
                     [&] { return loadLlama2c(data, size, vocabSize, error); });
}

std::unique_ptr<Tokenizer> Tokenizer::fromGpt2(const std::string &vocabJson,
                                               const std::string &mergesTxt,
                                               std::string &error) {
  error.clear();
  return guardedLoad(error,
                     [&] { return loadGpt2(vocabJson, mergesTxt, error); });
}

} // namespace trt
