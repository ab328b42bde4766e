// The CSV side of TableReader (RFC 4180 with a configurable delimiter), the
// delimiter detection it uses, and CsvRanges: a plain CSV file's rows cut into
// byte ranges that several threads parse at once. Internal to the data module;
// see table_reader.h for the public interface. One thread per reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "data/byte_source.h"
#include "data/table_reader.h"

namespace cairn::data {

// Picks the delimiter among , ; \t | that splits the first records of `sample`
// (quote-aware) into the same number of fields, preferring more fields; falls
// back to the most frequent one in the first record, then ','. `complete`
// says the sample is the whole file, so its last record counts even unterminated.
char DetectDelimiter(std::string_view sample, bool complete);

Result<std::unique_ptr<TableReader>> OpenCsvReader(const std::filesystem::path& path,
                                                   const ReaderOptions& options,
                                                   std::unique_ptr<ByteSource> source);

// A field as bytes of its chunk's storage: 8 bytes, so a chunk's spans stay
// in cache (chunks are < 2 GiB).
struct FieldSpan {
  uint32_t offset;
  uint32_t size_and_flag;  // low 31 bits: size; top bit: quoted with "" pairs to collapse
  size_t size() const { return size_and_flag & 0x7fffffffu; }
  bool escaped() const { return (size_and_flag & 0x80000000u) != 0; }
};

// The field spans of a range, handed over by the parser without a copy (the
// parser takes the range's previous buffer in exchange).
class FieldSpans {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const FieldSpan* data() const { return data_.get(); }
  const FieldSpan* begin() const { return data_.get(); }
  const FieldSpan* end() const { return data_.get() + size_; }
  FieldSpan* begin() { return data_.get(); }
  FieldSpan* end() { return data_.get() + size_; }
  const FieldSpan& operator[](size_t i) const { return data_[i]; }
  FieldSpan& operator[](size_t i) { return data_[i]; }
  void clear() { size_ = 0; }
  // Exchanges buffers with a parser's: this one gets `data` (holding `size`
  // spans, room for `capacity`), the caller this one's old buffer and room.
  void Exchange(std::unique_ptr<FieldSpan[]>* data, size_t* capacity, size_t size) {
    std::swap(data_, *data);
    std::swap(capacity_, *capacity);
    size_ = size;
  }

 private:
  std::unique_ptr<FieldSpan[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// One byte range of a CSV file and the rows parsed from it.
struct CsvRange {
  size_t index = 0;
  // With CsvRanges::SpansOnly(), `chunk` has no cells nor null flags: the
  // fields are `spans` instead (row-major, "" pairs collapsed, no flag set),
  // and which are null is the caller's to decide (TableReader::IsNullText).
  FieldSpans spans;
  RowChunk chunk;        // `lines` count from 1 at `start` until the range is committed
  size_t start = 0;      // file offset where parsing began
  size_t end = 0;        // file offset just past the last record (or blank line) parsed
  int64_t newlines = 0;  // line breaks in [start, end), quoted ones included
  // A syntax error (line relative to `start`, as `lines`); it only counts once
  // the range is committed, since a wrong speculation can produce one.
  bool failed = false;
  int64_t error_line = 0, error_column = 0;
  std::string error;
};

// The rows of a plain CSV file after its header, as ranges of
// min(ReaderOptions::block_size, 1 MiB) bytes. Range i holds the records that start in
// [its first line start, the next range's first line start). Any thread can
// parse any range speculatively, assuming its first line start is outside
// quotes; Commit, called in range order on one thread, checks that against
// where the previous range's records really ended and parses the range again
// from there when the guess was wrong (a quoted field with a line break across
// the boundary), so the rows and errors are exactly the sequential reader's.
class CsvRanges {
 public:
  // Takes over the rest of `reader` (which then has no rows left), or returns
  // nullptr when it cannot be split: not CSV, gzip, not a regular file, or
  // already read from.
  static std::unique_ptr<CsvRanges> Split(TableReader& reader);
  virtual ~CsvRanges() = default;
  virtual size_t size() const = 0;
  // Ranges parsed from now on carry field spans instead of a cell table (see
  // CsvRange::spans): half the bytes per cell, and no null check per cell
  // for a caller that does its own.
  virtual void SpansOnly() = 0;
  // Thread-safe. Syntax errors are kept in `out`; the status is an IO error only.
  virtual Status ParseSpeculative(size_t index, CsvRange* out) const = 0;
  // In index order, on one thread at a time. True when the range was parsed
  // again (its rows changed); a syntax error is INVALID_PARAMETER_VALUE
  // "file:line:column: message" as from TableReader::Next.
  virtual Result<bool> Commit(CsvRange* range) = 0;
};

// The structural scan under the range parser's fast path, for tests: level 0
// is the scalar loop, 1 SSE2, 2 AVX2 (levels below SpecialMaskLevels() run
// on this CPU). LimitSpecialMaskLevel caps what parsers created afterwards use.
namespace csv_internal {
int SpecialMaskLevels();
uint64_t SpecialMask(int level, const char* p64, char delim);
void LimitSpecialMaskLevel(int level);
}  // namespace csv_internal

}  // namespace cairn::data
