// Streaming readers for tabular data files (CSV, JSON Lines, a JSON array of
// records, each optionally gzip-compressed): rows come out in RowChunks whose
// cells point into chunk-owned memory, so memory depends on the chunk size and
// not on the row count, and a finished chunk can be handed to another thread.
// A TableReader is used from one thread at a time; RowChunks are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace cairn::data {

enum class Format { kCsv, kJsonLines, kJsonArray };
const char* FormatName(Format format);

struct ReaderOptions {
  // Forces the format; by default it follows the file name (see TableReader::Open).
  std::optional<Format> format;
  // CSV field delimiter; 0 detects one of , ; \t | from the first records.
  char delimiter = 0;
  // CSV: the first record names the columns. Without it columns are column_1..column_N.
  bool header = true;
  // Cells equal to one of these are null (CSV fields and JSON strings alike).
  // "NaN" is kept apart by type inference: a NaN value in numeric columns.
  std::vector<std::string> null_tokens = {"", "NA", "null", "NaN"};
  // A chunk ends after this many rows or once its rows hold chunk_bytes bytes
  // (at most 1 GiB). Small enough by default for a chunk to stay in cache.
  size_t chunk_rows = 16384;
  size_t chunk_bytes = 16u << 20;
  // Size of each read from the file. Tests shrink it to put records across reads.
  size_t block_size = 4u << 20;
};

// Owned bytes that grow without zero-filling (reads overwrite them anyway).
// Move keeps the address of the bytes, so views into them survive a move.
// kReadPadding bytes past the end stay readable (ParseFloatPadded loads a
// word at a time past a cell's end).
class ByteBuffer {
 public:
  static constexpr size_t kReadPadding = 16;
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&& other) noexcept { *this = std::move(other); }
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);  // a moved-from buffer is empty and reusable
    capacity_ = std::exchange(other.capacity_, 0);
    return *this;
  }
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }
  void reserve(size_t capacity);
  // Makes room for `n` more bytes past size() and returns where they start.
  char* grow(size_t n);
  void resize(size_t n);  // n <= size() + the room made by grow()
  void append(const char* bytes, size_t n);

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Rows x columns of text cells. Cells are views into `storage` (owned by the
// chunk), so a chunk stays valid after the reader moves on and can be moved to
// a worker thread; it is move-only because a copy would point into the original.
struct RowChunk {
  size_t num_rows = 0;
  // Columns known when the chunk was produced. JSON readers discover columns as
  // they go: columns past num_columns in TableReader::columns() are null here.
  size_t num_columns = 0;
  std::vector<std::string_view> cells;  // row-major: cells[row * num_columns + col]
  std::vector<uint8_t> nulls;           // 1 where the cell is null (missing or a null token)
  std::vector<int64_t> lines;           // 1-based line in the file where each row starts
  ByteBuffer storage;

  RowChunk() = default;
  RowChunk(RowChunk&&) = default;
  RowChunk& operator=(RowChunk&&) = default;

  std::string_view cell(size_t row, size_t col) const { return cells[row * num_columns + col]; }
  // The text of a null cell is still there: "NA", "NaN", "" or empty for a missing key.
  bool is_null(size_t row, size_t col) const { return nulls[row * num_columns + col] != 0; }
  void Clear();
};

class TableReader {
 public:
  // The format comes from options.format or the name (a trailing .gz is
  // ignored; gzip itself is detected from the content): .csv .tsv .txt -> CSV,
  // .jsonl .ndjson -> JSON Lines, .json -> a JSON array when the first
  // non-blank byte is '[', JSON Lines otherwise. Reads the header (CSV) so
  // columns() is ready. An empty file is INVALID_PARAMETER_VALUE.
  static Result<std::unique_ptr<TableReader>> Open(const std::filesystem::path& path,
                                                   const ReaderOptions& options = {});
  virtual ~TableReader() = default;

  // Fills `chunk` with the next rows; false (and an empty chunk) at the end.
  // Malformed input is INVALID_PARAMETER_VALUE "file:line:column: message"
  // (columns count bytes from 1).
  virtual Result<bool> Next(RowChunk* chunk) = 0;

  const std::vector<std::string>& columns() const { return columns_; }
  // Whether a cell of this text is null (one of the options' null_tokens).
  bool IsNullText(std::string_view text) const { return IsNullToken(text); }
  Format format() const { return format_; }
  // The CSV delimiter in use (given or detected); 0 for JSON.
  char delimiter() const { return delimiter_; }
  const std::filesystem::path& path() const { return path_; }
  // The options it was opened with (to open the same file again the same way).
  const ReaderOptions& options() const { return options_; }

 protected:
  TableReader(std::filesystem::path path, Format format, ReaderOptions options)
      : path_(std::move(path)), format_(format), options_(std::move(options)) {}
  // "path:line:column: message" as INVALID_PARAMETER_VALUE.
  Status ErrorAt(int64_t line, int64_t column, const std::string& message) const;
  bool IsNullToken(std::string_view text) const {
    // Most cells have a length no token has: rejected without a comparison.
    if (text.size() < 64 && !(null_token_lengths_ & (uint64_t{1} << text.size()))) return false;
    if (text.size() <= 8) {  // one word compare per token of that length
      const uint64_t word = ShortWord(text);
      for (const ShortToken& token : short_tokens_) {
        if (token.word == word && token.size == text.size()) return true;
      }
      return false;
    }
    return MatchesNullToken(text);
  }
  bool MatchesNullToken(std::string_view text) const;
  // The bytes of a text of at most 8 bytes as one word (equal words and sizes:
  // equal texts), from fixed-size loads: a variable-length copy costs a call.
  static uint64_t ShortWord(std::string_view text) {
    const char* p = text.data();
    const size_t n = text.size();
    if (n >= 4) {
      uint32_t head, tail;
      std::memcpy(&head, p, 4);
      std::memcpy(&tail, p + n - 4, 4);
      return (uint64_t{head} << 32) | tail;
    }
    if (n == 0) return 0;
    return uint64_t{static_cast<unsigned char>(p[0])} |
           (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
           (uint64_t{static_cast<unsigned char>(p[n - 1])} << 16);
  }
  void PrepareNullTokens();

  std::filesystem::path path_;
  Format format_;
  ReaderOptions options_;
  std::vector<std::string> columns_;
  char delimiter_ = 0;

 private:
  uint64_t null_token_lengths_ = 0;  // bit i: some token has length i (< 64)
  struct ShortToken {
    uint64_t word;  // the token's bytes, zero-padded
    size_t size;
  };
  std::vector<ShortToken> short_tokens_;  // the tokens of at most 8 bytes
};

}  // namespace cairn::data
