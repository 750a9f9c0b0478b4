//===- tokenizer.h - llama2.c and GPT-2 BPE tokenizers ----------*- C++ -*-===//
//
// Internal to terminator_rt: text to token ids and back for the programs
// that terminator-compile links. Two vocabularies are supported:
//
//  * llama2.c's tokenizer file (tokenizer.bin, tok512.bin): a sentencepiece
//    BPE vocabulary with scores. `encode` reproduces run.c's encode() and
//    its Python twin tools/convert/llama2c.py `Tokenizer.encode` id for id;
//  * GPT-2's byte-level BPE (vocab.json + merges.txt).
//
// Loading never aborts and never throws: bad data yields nullptr and a
// message. `encode` and `decode` accept any input; only std::bad_alloc can
// escape them, which the C API shims turn into a status.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_RUNTIME_SRC_TOKENIZER_H
#define TERMINATOR_RUNTIME_SRC_TOKENIZER_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace trt {

/// A vocabulary that turns text into token ids and ids back into text.
/// Immutable after construction: every method may be called from several
/// threads at once.
class Tokenizer {
public:
  virtual ~Tokenizer();

  /// Reads a llama2.c tokenizer file held in \p data (\p size bytes):
  /// int32 max_token_length (1..1024), then per token a float32 score, an
  /// int32 length (0..max_token_length) and that many bytes, all
  /// little-endian. Exactly \p vocabSize tokens (the model's vocabulary,
  /// at least 259: <unk>, BOS, EOS and the 256 byte tokens) must be there,
  /// with nothing after them, and the piece " " (sentencepiece's dummy
  /// prefix) must exist. Returns nullptr and sets \p error to what is wrong
  /// and at which token and byte offset otherwise; the caller prefixes the
  /// file name.
  static std::unique_ptr<Tokenizer> fromLlama2c(const uint8_t *data,
                                                size_t size, int32_t vocabSize,
                                                std::string &error);

  /// Builds a GPT-2 byte-level BPE tokenizer from the text of vocab.json (a
  /// flat JSON object {"token": id, ...}, ids unique and >= 0) and of
  /// merges.txt (one merge "a b" per line in priority order; an optional
  /// first line "#version: ..." and empty lines are skipped). Every merge's
  /// parts and result, and the 256 byte symbols, must be in the vocabulary.
  /// Returns nullptr and sets \p error (with the line or byte offset)
  /// otherwise.
  static std::unique_ptr<Tokenizer> fromGpt2(const std::string &vocabJson,
                                             const std::string &mergesTxt,
                                             std::string &error);

  /// The token ids of \p text; with \p bos, the BOS id comes first if this
  /// vocabulary has one (`bos >= 0`).
  ///
  /// llama2.c: run.c's encode() exactly, quirks included: the text ends at
  /// its first NUL byte; a non-empty text gets the dummy-prefix piece " ";
  /// each UTF-8 codepoint (at most 4 bytes, invalid UTF-8 included) is
  /// looked up, falling back to one id per byte (byte + 3); then the
  /// adjacent pair whose concatenation is the piece with the highest score
  /// is merged (the leftmost on ties) until no pair merges.
  ///
  /// GPT-2: the text is split with GPT-2's pre-tokenizer regex, each piece
  /// is mapped byte by byte to GPT-2's printable characters and merged by
  /// merge priority. No special token (such as "<|endoftext|>") is
  /// recognized in the text. The Unicode letter/number classes of the regex
  /// are exact for Latin, Greek, Cyrillic, CJK, common punctuation and
  /// symbols and emoji; approximate for combining marks and punctuation of
  /// other scripts (see kClassRanges in tokenizer.cpp).
  virtual std::vector<int32_t> encode(const std::string &text,
                                      bool bos) const = 0;

  /// The bytes to print for \p token when it follows \p prev, for streaming
  /// output; empty for an id out of range.
  ///
  /// llama2.c: run.c's decode(): the piece, with its leading space dropped
  /// when \p prev is BOS, and "<0xHH>" byte pieces turned into the byte HH.
  /// BOS and EOS decode to their pieces like any token: a generation loop
  /// stops at them before printing.
  ///
  /// GPT-2: the token's characters mapped back to bytes (\p prev unused).
  /// The result may be part of a UTF-8 sequence that later tokens complete.
  virtual std::string decode(int32_t prev, int32_t token) const = 0;

  /// Number of ids: token ids are 0 to vocabSize() - 1.
  virtual int32_t vocabSize() const = 0;

  /// Beginning- and end-of-sequence ids. llama2.c: 1 and 2. GPT-2: both the
  /// id of "<|endoftext|>", or -1 when the vocabulary has no such token.
  int32_t bos = 1, eos = 2;
};

} // namespace trt

#endif // TERMINATOR_RUNTIME_SRC_TOKENIZER_H
