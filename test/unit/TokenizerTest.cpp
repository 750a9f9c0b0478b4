//===- TokenizerTest.cpp - Tests of the llama2.c and GPT-2 tokenizers -----===//
//
// The llama2.c tokenizer is checked id for id against the Python reference
// (tools/convert/llama2c.py) on examples/stories260K/tok512.bin; the
// expected ids are in Inputs/tok512-expected.txt, written by
// Inputs/make_tok512_expected.py. The GPT-2 tokenizer runs on a small
// vocabulary built here: the 256 byte symbols in GPT-2's order (so byte
// ids match GPT-2's) plus a few hand-written merges; and on the real GPT-2
// vocabulary, id for id against Hugging Face tokenizers
// (Inputs/gpt2-expected.txt, written by Inputs/make_gpt2_expected.py).
//
//===----------------------------------------------------------------------===//

#include "runtime/src/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using trt::Tokenizer;
using Ids = std::vector<int32_t>;

const std::string kSourceDir = TERMINATOR_SOURCE_DIR;
const std::string kTok512 = kSourceDir + "/examples/stories260K/tok512.bin";
const std::string kExpected =
    kSourceDir + "/test/unit/Inputs/tok512-expected.txt";
// The real GPT-2 vocabulary (Inputs/gpt2/PROVENANCE.md) and the ids Hugging
// Face tokenizers gives with it (Inputs/make_gpt2_expected.py).
const std::string kGpt2Dir = kSourceDir + "/test/unit/Inputs/gpt2";
const std::string kGpt2Expected =
    kSourceDir + "/test/unit/Inputs/gpt2-expected.txt";

std::string readFile(const std::string &path) {
  std::string bytes;
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return bytes;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    bytes.append(buffer, n);
  std::fclose(file);
  return bytes;
}

/// Undoes make_tok512_expected.py's escape(): \\ \t \n \r \xHH.
std::string unescape(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char c = text[++i];
    if (c == 't')
      out += '\t';
    else if (c == 'n')
      out += '\n';
    else if (c == 'r')
      out += '\r';
    else if (c == 'x' && i + 2 < text.size()) {
      out += char(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else
      out += c;
  }
  return out;
}

struct Case {
  int line;
  std::string text;
  Ids ids;
};

std::vector<Case> loadCases(const std::string &path = kExpected) {
  std::vector<Case> cases;
  std::string data = readFile(path);
  int line = 0;
  for (size_t start = 0; start < data.size();) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos)
      end = data.size();
    std::string text = data.substr(start, end - start);
    start = end + 1;
    ++line;
    if (text.empty() || text[0] == '#')
      continue;
    size_t tab = text.find('\t');
    if (tab == std::string::npos)
      continue;
    Case c{line, unescape(text.substr(0, tab)), {}};
    const char *p = text.c_str() + tab + 1;
    char *next;
    for (long id = std::strtol(p, &next, 10); next != p;
         p = next, id = std::strtol(p, &next, 10))
      c.ids.push_back(int32_t(id));
    cases.push_back(std::move(c));
  }
  return cases;
}

std::unique_ptr<Tokenizer> fromBytes(const std::string &bytes,
                                     int32_t vocabSize, std::string &error) {
  return Tokenizer::fromLlama2c(reinterpret_cast<const uint8_t *>(bytes.data()),
                                bytes.size(), vocabSize, error);
}

/// Concatenates decode(prev, token) over \p ids, as a streaming loop does;
/// the first id is only used as `prev`.
std::string decodeAll(const Tokenizer &tokenizer, int32_t first,
                      const Ids &ids) {
  std::string text;
  int32_t prev = first;
  for (int32_t id : ids) {
    text += tokenizer.decode(prev, id);
    prev = id;
  }
  return text;
}

//===----------------------------------------------------------------------===//
// llama2.c
//===----------------------------------------------------------------------===//

class TokenizerLlama2c : public ::testing::Test {
protected:
  void SetUp() override {
    file = readFile(kTok512);
    ASSERT_FALSE(file.empty()) << "cannot read " << kTok512;
    std::string error;
    tokenizer = fromBytes(file, 512, error);
    ASSERT_NE(tokenizer, nullptr) << error;
    EXPECT_EQ(error, "");
  }

  /// Byte offset of every token's (score, length) record in `file`.
  std::vector<size_t> recordOffsets() const {
    std::vector<size_t> offsets;
    size_t offset = 4;
    while (offset + 8 <= file.size()) {
      offsets.push_back(offset);
      int32_t length;
      std::memcpy(&length, file.data() + offset + 4, 4);
      offset += 8 + size_t(length);
    }
    return offsets;
  }

  std::string file;
  std::unique_ptr<Tokenizer> tokenizer;
};

TEST_F(TokenizerLlama2c, Basics) {
  EXPECT_EQ(tokenizer->vocabSize(), 512);
  EXPECT_EQ(tokenizer->bos, 1);
  EXPECT_EQ(tokenizer->eos, 2);
  EXPECT_THAT(tokenizer->encode("", true), ElementsAre(1));
  EXPECT_THAT(tokenizer->encode("", false), ElementsAre());
  // " Once" (dummy prefix merged with the word) and " the".
  EXPECT_THAT(tokenizer->encode("Once", false), ElementsAre(403));
  EXPECT_THAT(tokenizer->encode("the", true), ElementsAre(1, 265));
}

TEST_F(TokenizerLlama2c, MatchesPythonReference) {
  std::vector<Case> cases = loadCases();
  ASSERT_GE(cases.size(), 30u) << "cannot read " << kExpected;
  for (const Case &c : cases) {
    SCOPED_TRACE("tok512-expected.txt line " + std::to_string(c.line) + ": \"" +
                 c.text.substr(0, 60) + "\"");
    ASSERT_FALSE(c.ids.empty());
    EXPECT_EQ(tokenizer->encode(c.text, true), c.ids);
    Ids noBos(c.ids.begin() + 1, c.ids.end());
    EXPECT_EQ(tokenizer->encode(c.text, false), noBos);
  }
}

TEST_F(TokenizerLlama2c, DecodeRoundTrip) {
  for (const Case &c : loadCases()) {
    SCOPED_TRACE("tok512-expected.txt line " + std::to_string(c.line));
    // After BOS the dummy-prefix space is dropped: the text comes back.
    Ids ids = tokenizer->encode(c.text, true);
    ASSERT_EQ(ids.at(0), 1);
    EXPECT_EQ(decodeAll(*tokenizer, ids[0], Ids(ids.begin() + 1, ids.end())),
              c.text);
    // Without BOS before it, the dummy prefix prints as a space.
    if (!c.text.empty())
      EXPECT_EQ(decodeAll(*tokenizer, -1, tokenizer->encode(c.text, false)),
                " " + c.text);
  }
}

TEST_F(TokenizerLlama2c, DecodePieces) {
  // Leading space dropped only after BOS.
  EXPECT_EQ(tokenizer->decode(1, 403), "Once");
  EXPECT_EQ(tokenizer->decode(2, 403), " Once");
  EXPECT_EQ(tokenizer->decode(265, 403), " Once");
  // <0xHH> byte pieces: ids 3..258.
  EXPECT_EQ(tokenizer->decode(0, 3 + 'A'), "A");
  EXPECT_EQ(tokenizer->decode(0, 3 + 0xFF), std::string(1, '\xFF'));
  EXPECT_EQ(tokenizer->decode(0, 3), std::string(1, '\0'));
  // BOS and EOS decode to their pieces; the generation loop stops first.
  EXPECT_EQ(tokenizer->decode(0, 1), "\n<s>\n");
  EXPECT_EQ(tokenizer->decode(0, 2), "\n</s>\n");
  // Out of range.
  EXPECT_EQ(tokenizer->decode(0, -1), "");
  EXPECT_EQ(tokenizer->decode(0, 512), "");
}

TEST_F(TokenizerLlama2c, TextEndsAtNul) {
  // run.c takes a C string.
  EXPECT_EQ(tokenizer->encode(std::string("ab\0cd", 5), true),
            tokenizer->encode("ab", true));
}

TEST_F(TokenizerLlama2c, LongTextMatchesShortPieces) {
  // The heap-based merge on a long text: a newline has no piece of its own
  // (byte fallback, id 3 + 10) and never merges, so each " word" after one
  // encodes as the word alone after the dummy prefix " ".
  std::string text;
  Ids expected = {1};
  for (int i = 0; i < 2000; ++i) {
    std::string word = i % 2 ? "Once upon a time" : "the little dog";
    if (i) {
      text += "\n ";
      expected.push_back(3 + '\n');
    }
    text += word;
    Ids ids = tokenizer->encode(word, false);
    expected.insert(expected.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(tokenizer->encode(text, true), expected);
}

TEST_F(TokenizerLlama2c, RejectsBadVocabularySize) {
  std::string error;
  EXPECT_EQ(fromBytes(file, 600, error), nullptr);
  EXPECT_THAT(error, HasSubstr("ends after 512 tokens"));
  EXPECT_THAT(error, HasSubstr("600"));

  EXPECT_EQ(fromBytes(file, 300, error), nullptr);
  EXPECT_THAT(error, HasSubstr("expected 300 tokens"));
  EXPECT_THAT(error, HasSubstr("follow token 299"));

  EXPECT_EQ(fromBytes(file, 100, error), nullptr);
  EXPECT_THAT(error, HasSubstr("at least 259"));
}

TEST_F(TokenizerLlama2c, RejectsTruncatedFile) {
  std::vector<size_t> offsets = recordOffsets();
  ASSERT_EQ(offsets.size(), 512u);
  std::string error;
  // Cut inside token 100's record header.
  EXPECT_EQ(fromBytes(file.substr(0, offsets[100] + 5), 512, error), nullptr);
  EXPECT_THAT(error,
              HasSubstr("token 100 at offset " + std::to_string(offsets[100])));
  EXPECT_THAT(error, HasSubstr("truncated"));
  // Cut inside the last token's bytes.
  EXPECT_EQ(fromBytes(file.substr(0, file.size() - 1), 512, error), nullptr);
  EXPECT_THAT(error, HasSubstr("token 511"));
  EXPECT_THAT(error, HasSubstr("truncated"));
  // Too short for the header.
  EXPECT_EQ(fromBytes(file.substr(0, 3), 512, error), nullptr);
  EXPECT_THAT(error, HasSubstr("3 bytes, too few"));
  EXPECT_EQ(Tokenizer::fromLlama2c(nullptr, 0, 512, error), nullptr);
  EXPECT_THAT(error, HasSubstr("0 bytes, too few"));
}

TEST_F(TokenizerLlama2c, RejectsBadRecords) {
  std::vector<size_t> offsets = recordOffsets();
  std::string error;

  std::string bad = file;
  int32_t negative = -1;
  std::memcpy(&bad[offsets[5] + 4], &negative, 4);
  EXPECT_EQ(fromBytes(bad, 512, error), nullptr);
  EXPECT_THAT(error, HasSubstr("token 5 at offset " +
                               std::to_string(offsets[5]) + ": length -1"));
  EXPECT_THAT(error, HasSubstr("not in 0..7"));

  bad = file;
  float nan = std::nanf("");
  std::memcpy(&bad[offsets[7]], &nan, 4);
  EXPECT_EQ(fromBytes(bad, 512, error), nullptr);
  EXPECT_THAT(error, HasSubstr("token 7"));
  EXPECT_THAT(error, HasSubstr("not a finite number"));

  bad = file;
  int32_t zero = 0;
  std::memcpy(&bad[0], &zero, 4);
  EXPECT_EQ(fromBytes(bad, 512, error), nullptr);
  EXPECT_THAT(error, HasSubstr("max_token_length 0"));

  // Without the piece " " there is no dummy prefix.
  bad = file;
  ASSERT_EQ(bad.substr(offsets[410] + 8, 1), " ");
  bad[offsets[410] + 8] = '~';
  EXPECT_EQ(fromBytes(bad, 512, error), nullptr);
  EXPECT_THAT(error, HasSubstr("dummy prefix"));
}

//===----------------------------------------------------------------------===//
// GPT-2
//===----------------------------------------------------------------------===//

/// GPT-2's bytes_to_unicode(), written independently of tokenizer.cpp: the
/// byte order of the first 256 ids and each byte's character.
std::vector<std::pair<int, uint32_t>> gpt2Bytes() {
  std::vector<std::pair<int, uint32_t>> order;
  std::vector<bool> printable(256, false);
  for (int b = 0; b < 256; ++b) {
    printable[b] = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) ||
                   (b >= 174 && b <= 255);
    if (printable[b])
      order.push_back({b, uint32_t(b)});
  }
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b)
    if (!printable[b])
      order.push_back({b, next++});
  return order;
}

/// A JSON string literal holding \p cp: ASCII as is (with \" and \\),
/// everything else as \uXXXX, so the reader's escapes are exercised.
std::string jsonChar(uint32_t cp) {
  if (cp == '"')
    return "\\\"";
  if (cp == '\\')
    return "\\\\";
  if (cp < 0x80)
    return std::string(1, char(cp));
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "\\u%04X", unsigned(cp));
  return buffer;
}

/// Tokens after the 256 byte symbols, as JSON string contents (\u0120 is
/// "Ġ", the space): extraId(i) is 256 + i.
constexpr const char *kExtraTokens[] = {
    "\\u0120t",     // 0
    "\\u0120a",     // 1
    "he",           // 2
    "in",           // 3
    "\\u0120the",   // 4
    "ll",           // 5
    "He",           // 6
    "Hell",         // 7
    "Hello",        // 8
    "\\u0120w",     // 9
    "or",           // 10
    "\\u0120wor",   // 11
    "\\u0120worl",  // 12
    "\\u0120world", // 13
    "bc",           // 14
    "ab",           // 15
    "t'",           // 16
    "o\\u0120",     // 17
    "'s",           // 18
};
// Merges in priority order; the results are the extra tokens above.
constexpr const char *kMerges = "#version: 0.2\n"
                                "Ġ t\n"
                                "Ġ a\n"
                                "h e\n"
                                "i n\n"
                                "Ġt he\n"
                                "l l\n"
                                "H e\n"
                                "He ll\n"
                                "Hell o\n"
                                "Ġ w\n"
                                "o r\n"
                                "Ġw or\n"
                                "Ġwor l\n"
                                "Ġworl d\n"
                                "b c\r\n" // CRLF line endings are accepted.
                                "a b\n"
                                "\n"
                                "t '\n"
                                "o Ġ\n"
                                "' s\n";

/// vocab.json: the 256 byte symbols (ids 0..255), the extra tokens
/// (256..), and optionally "<|endoftext|>" and the emoji 😀 written as a
/// surrogate pair.
std::string makeVocabJson(bool withEndOfText) {
  std::string json = "{";
  int id = 0;
  for (auto [byte, cp] : gpt2Bytes()) {
    (void)byte;
    json +=
        (id ? ",\n \"" : "\n \"") + jsonChar(cp) + "\": " + std::to_string(id);
    ++id;
  }
  for (const char *token : kExtraTokens)
    json += ",\n \"" + std::string(token) + "\": " + std::to_string(id++);
  json += ",\n \"\\ud83d\\ude00\": " + std::to_string(id++);
  if (withEndOfText)
    json += ",\n \"<|endoftext|>\": " + std::to_string(id++);
  return json + "\n}\n";
}

class TokenizerGpt2 : public ::testing::Test {
protected:
  void SetUp() override {
    std::string error;
    tokenizer = Tokenizer::fromGpt2(makeVocabJson(true), kMerges, error);
    ASSERT_NE(tokenizer, nullptr) << error;
  }

  /// The id of byte \p b (its position in GPT-2's byte order).
  static int32_t byteId(uint8_t b) {
    std::vector<std::pair<int, uint32_t>> order = gpt2Bytes();
    for (size_t i = 0; i < order.size(); ++i)
      if (order[i].first == b)
        return int32_t(i);
    return -1;
  }

  /// The id of extra token number \p i of kExtraTokens.
  static int32_t extraId(int i) { return 256 + i; }

  std::unique_ptr<Tokenizer> tokenizer;
};

TEST_F(TokenizerGpt2, Basics) {
  constexpr int32_t kEndOfText = 256 + 19 + 1;
  EXPECT_EQ(tokenizer->vocabSize(), kEndOfText + 1);
  EXPECT_EQ(tokenizer->bos, kEndOfText);
  EXPECT_EQ(tokenizer->eos, kEndOfText);
  // As in GPT-2: "!" is id 0, a space ("Ġ") is id 220.
  EXPECT_EQ(byteId('!'), 0);
  EXPECT_EQ(byteId(' '), 220);
  EXPECT_THAT(tokenizer->encode(" ", false), ElementsAre(220));
  EXPECT_THAT(tokenizer->encode("", false), ElementsAre());
  // With an <|endoftext|> token, bos prepends it.
  EXPECT_THAT(tokenizer->encode("", true), ElementsAre(kEndOfText));
  // Special tokens in the text are plain text.
  EXPECT_EQ(tokenizer->encode("<|endoftext|>", false).size(), 13u);
}

TEST_F(TokenizerGpt2, MergesByPriority) {
  // Ġ t -> Ġt, h e -> he, then Ġt he -> Ġthe.
  EXPECT_THAT(tokenizer->encode(" the", false), ElementsAre(extraId(4)));
  EXPECT_THAT(tokenizer->encode("Hello world", false),
              ElementsAre(extraId(8), extraId(13)));
  // "b c" outranks "a b": abc -> a bc, not ab c.
  EXPECT_THAT(tokenizer->encode("abc", false),
              ElementsAre(byteId('a'), extraId(14)));
  EXPECT_THAT(tokenizer->encode("ab", false), ElementsAre(extraId(15)));
  // Every occurrence of the best pair merges: ll and ll.
  EXPECT_THAT(tokenizer->encode("llll", false),
              ElementsAre(extraId(5), extraId(5)));
}

TEST_F(TokenizerGpt2, PreTokenizer) {
  // Words do not merge across the regex's pieces: "Hello" | " world"
  // (no "o Ġ"), "it" | "'s" (no "t '"), two spaces: " " | " world".
  EXPECT_THAT(tokenizer->encode("Hello  world", false),
              ElementsAre(extraId(8), byteId(' '), extraId(13)));
  EXPECT_THAT(tokenizer->encode("it's", false),
              ElementsAre(byteId('i'), byteId('t'), extraId(18)));
  // "'x" is no contraction: ' and x are one punctuation piece and a word.
  EXPECT_THAT(tokenizer->encode("t'x", false),
              ElementsAre(byteId('t'), byteId('\''), byteId('x')));
  // Trailing spaces stay one piece; "o Ġ" would merge them otherwise.
  EXPECT_THAT(tokenizer->encode("o ", false),
              ElementsAre(byteId('o'), byteId(' ')));
  // The space goes with the word after it; letters and digits split.
  EXPECT_THAT(tokenizer->encode(" a1", false),
              ElementsAre(extraId(1), byteId('1')));
}

TEST_F(TokenizerGpt2, ByteLevel) {
  // é is C3 A9: the characters Ã and ©.
  EXPECT_THAT(tokenizer->encode("é", false),
              ElementsAre(byteId(0xC3), byteId(0xA9)));
  EXPECT_EQ(tokenizer->decode(-1, byteId(0xC3)), "\xC3");
  EXPECT_EQ(tokenizer->decode(-1, byteId('\n')), "\n");
  EXPECT_EQ(tokenizer->decode(-1, byteId(' ')), " ");
  EXPECT_EQ(tokenizer->decode(-1, extraId(13)), " world");
  // A token outside the byte map (the surrogate-pair emoji) prints as is.
  EXPECT_EQ(tokenizer->decode(-1, 256 + 19), "\xF0\x9F\x98\x80");
  EXPECT_EQ(tokenizer->decode(-1, tokenizer->eos), "<|endoftext|>");
  EXPECT_EQ(tokenizer->decode(-1, -1), "");
  EXPECT_EQ(tokenizer->decode(-1, tokenizer->vocabSize()), "");
}

TEST_F(TokenizerGpt2, DecodeRoundTrip) {
  static const char kInvalid[] = "\xFF\xFE invalid \xC3 utf-8 \0 nul";
  const std::string texts[] = {
      "Hello world",
      "  leading and trailing  ",
      "it's the end\nof the line\r\n\ttabbed",
      "café naïve 日本語 😀 👍🏽",
      "numbers 123 4.5 and punctuation!?",
      std::string(kInvalid, sizeof(kInvalid) - 1),
  };
  for (const std::string &text : texts) {
    SCOPED_TRACE(text);
    EXPECT_EQ(decodeAll(*tokenizer, -1, tokenizer->encode(text, false)), text);
  }
}

TEST_F(TokenizerGpt2, NoEndOfText) {
  std::string error;
  auto plain = Tokenizer::fromGpt2(makeVocabJson(false), kMerges, error);
  ASSERT_NE(plain, nullptr) << error;
  EXPECT_EQ(plain->bos, -1);
  EXPECT_EQ(plain->eos, -1);
  // No BOS to prepend: bos is ignored.
  EXPECT_EQ(plain->encode("Hello", true), plain->encode("Hello", false));
}

TEST_F(TokenizerGpt2, RejectsBadVocabJson) {
  std::string error;
  auto rejects = [&](const std::string &json, const std::string &message) {
    SCOPED_TRACE(json);
    EXPECT_EQ(Tokenizer::fromGpt2(json, "", error), nullptr);
    EXPECT_THAT(error, HasSubstr(message));
  };
  rejects("", "vocab.json at byte 0: expected '{'");
  rejects("[]", "vocab.json at byte 0: expected '{'");
  rejects("{}", "the vocabulary is empty");
  rejects("{\"a\" 1}", "at byte 5: expected ':'");
  rejects("{\"a\": 0,}", "at byte 8: expected '\"'");
  rejects("{\"a\": 0", "expected ',' or '}' after an id, but the text ends");
  rejects("{\"a: 0}", "unterminated string");
  rejects("{\"a\": -1}", "must not be negative");
  rejects("{\"a\": 1.5}", "must be an integer");
  rejects("{\"a\": x}", "expected an integer token id");
  rejects("{\"a\": 99999999999}", "larger than 2147483647");
  rejects("{\"\\q\": 0}", "at byte 2: invalid escape '\\q'");
  rejects("{\"\\u12G4\": 0}", "4 hex digits");
  rejects("{\"\\ud83d\": 0}", "high surrogate not followed");
  rejects("{\"\\ud83d\\u0041\": 0}", "not followed by a low surrogate");
  rejects("{\"\\ude00\": 0}", "unpaired low surrogate");
  rejects("{\"a\": 0, \"a\": 1}", "at byte 9: duplicate token \"a\"");
  rejects("{\"a\": 0, \"b\": 0}", "at byte 9: token id 0 is used twice");
  rejects("{\"a\": 0, \"b\": 5}", "token id 5 is out of range");
  rejects("{\"\": 0}", "empty token");
  rejects("{\"a\": 0} x", "unexpected data after the vocabulary object");
  rejects("{\"a\": 0}", "symbol \"\u0100\" of byte 0x00 is missing");
}

TEST_F(TokenizerGpt2, RejectsBadMerges) {
  std::string error;
  std::string vocab = makeVocabJson(true);
  EXPECT_EQ(Tokenizer::fromGpt2(vocab, "#version: 0.2\nh e\nhe\n", error),
            nullptr);
  EXPECT_THAT(error, HasSubstr("merges.txt line 3: expected two tokens"));
  EXPECT_EQ(Tokenizer::fromGpt2(vocab, "h e f\n", error), nullptr);
  EXPECT_THAT(error, HasSubstr("merges.txt line 1: expected two tokens"));
  // "x y" is a merge whose result "xy" is not in the vocabulary.
  EXPECT_EQ(Tokenizer::fromGpt2(vocab, "h e\nx y\n", error), nullptr);
  EXPECT_THAT(error, HasSubstr("merges.txt line 2: \"xy\" is not in "
                               "vocab.json"));
}

} // namespace

namespace {

// The real GPT-2 vocabulary: 50,257 tokens, 50,000 merges.
TEST(TokenizerGpt2Real, MatchesHuggingFaceTokenizers) {
  std::string vocab = readFile(kGpt2Dir + "/vocab.json");
  std::string merges = readFile(kGpt2Dir + "/merges.txt");
  ASSERT_FALSE(vocab.empty() || merges.empty()) << "cannot read " << kGpt2Dir;
  std::string error;
  auto tokenizer = Tokenizer::fromGpt2(vocab, merges, error);
  ASSERT_NE(tokenizer, nullptr) << error;
  EXPECT_EQ(tokenizer->vocabSize(), 50257);
  EXPECT_EQ(tokenizer->bos, 50256);
  EXPECT_EQ(tokenizer->eos, 50256);
  std::vector<Case> cases = loadCases(kGpt2Expected);
  ASSERT_GE(cases.size(), 400u) << "cannot read " << kGpt2Expected;
  for (const Case &c : cases) {
    SCOPED_TRACE("gpt2-expected.txt line " + std::to_string(c.line));
    Ids ids = tokenizer->encode(c.text, false);
    EXPECT_EQ(ids, c.ids);
    EXPECT_EQ(decodeAll(*tokenizer, -1, ids), c.text);
  }
}

} // namespace
