#include "data/csv_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cairn::data {

char DetectDelimiter(std::string_view sample, bool complete) {
  constexpr std::array<char, 4> kCandidates = {',', ';', '\t', '|'};
  constexpr size_t kMaxRecords = 20;
  std::vector<std::array<size_t, 4>> records;
  std::array<size_t, 4> counts{};
  bool in_quotes = false;
  bool blank = true;
  for (size_t i = 0; i < sample.size() && records.size() < kMaxRecords; ++i) {
    char c = sample[i];
    if (c == '"') {
      in_quotes = !in_quotes;  // "" inside quotes toggles twice: no net change
      blank = false;
    } else if (c == '\n' && !in_quotes) {
      if (!blank) records.push_back(counts);
      counts = {};
      blank = true;
    } else if (!in_quotes) {
      for (size_t k = 0; k < kCandidates.size(); ++k) {
        if (c == kCandidates[k]) ++counts[k];
      }
      if (c != '\r') blank = false;
    }
  }
  if (complete && !blank && !in_quotes && records.size() < kMaxRecords) records.push_back(counts);
  if (records.empty()) return ',';

  int best = -1;
  for (size_t k = 0; k < kCandidates.size(); ++k) {
    size_t first = records[0][k];
    if (first == 0) continue;
    bool consistent = true;
    for (const auto& r : records) consistent = consistent && r[k] == first;
    if (consistent && (best < 0 || first > records[0][best])) best = static_cast<int>(k);
  }
  if (best >= 0) return kCandidates[best];
  for (size_t k = 0; k < kCandidates.size(); ++k) {
    if (records[0][k] > 0 && (best < 0 || records[0][k] > records[0][best])) {
      best = static_cast<int>(k);
    }
  }
  return best >= 0 ? kCandidates[best] : ',';
}

namespace {

// Bit i set where p[i] (i < 64) is the delimiter, '\n', '"' or '\r': the
// bytes that end a simple field or make a record need the state machine.
uint64_t SpecialMaskScalar(const char* p, char delim) {
  uint64_t mask = 0;
  for (int i = 0; i < 64; ++i) {
    const char c = p[i];
    if (c == delim || c == '\n' || c == '"' || c == '\r') mask |= uint64_t{1} << i;
  }
  return mask;
}

#if defined(__x86_64__)
uint64_t SpecialMaskSse2(const char* p, char delim) {
  const __m128i d = _mm_set1_epi8(delim), nl = _mm_set1_epi8('\n');
  const __m128i q = _mm_set1_epi8('"'), cr = _mm_set1_epi8('\r');
  uint64_t mask = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, nl)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, cr)));
    mask |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(hit))} << (16 * i);
  }
  return mask;
}

__attribute__((target("avx2"))) uint64_t SpecialMaskAvx2(const char* p, char delim) {
  const __m256i d = _mm256_set1_epi8(delim), nl = _mm256_set1_epi8('\n');
  const __m256i q = _mm256_set1_epi8('"'), cr = _mm256_set1_epi8('\r');
  uint64_t mask = 0;
  for (int i = 0; i < 2; ++i) {  // (a lambda would not inherit the target)
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * i));
    const __m256i hit =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, d), _mm256_cmpeq_epi8(v, nl)),
                        _mm256_or_si256(_mm256_cmpeq_epi8(v, q), _mm256_cmpeq_epi8(v, cr)));
    mask |= uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(hit))} << (32 * i);
  }
  return mask;
}
#endif

using SpecialMaskFn = uint64_t (*)(const char*, char);

std::atomic<int> mask_level_limit{2};  // lowered by tests: 0 scalar, 1 SSE2, 2 AVX2

// The widest implementation this CPU runs (checked at run time).
SpecialMaskFn BestSpecialMask() {
  const int limit = mask_level_limit.load(std::memory_order_relaxed);
#if defined(__x86_64__)
  if (limit >= 2 && __builtin_cpu_supports("avx2")) return SpecialMaskAvx2;
  if (limit >= 1) return SpecialMaskSse2;
#endif
  (void)limit;
  return SpecialMaskScalar;
}

// The first position at or after `p` holding `delim` or '\n' (n if none):
// sixteen bytes per step where SSE2 is there, the byte loop for the tail.
inline size_t FindFieldEnd(const char* d, size_t p, size_t n, char delim) {
#if defined(__SSE2__)
  const __m128i delims = _mm_set1_epi8(delim);
  const __m128i newlines = _mm_set1_epi8('\n');
  while (p + 16 <= n) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + p));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(bytes, delims), _mm_cmpeq_epi8(bytes, newlines))));
    if (mask != 0) return p + static_cast<size_t>(__builtin_ctz(mask));
    p += 16;
  }
#endif
  while (p < n && d[p] != delim && d[p] != '\n') ++p;
  return p;
}

constexpr size_t kMaxChunkSpan = 0x7fffffff;

// The fields of the chunk being parsed. A plain array rather than a vector:
// appending is the innermost operation and must stay a store and an increment.
class FieldList {
 public:
  size_t size() const { return size_; }
  void clear() { size_ = 0; }
  void resize(size_t n) { size_ = n; }  // shrinks only
  const FieldSpan& operator[](size_t i) const { return data_[i]; }
  const FieldSpan& back() const { return data_[size_ - 1]; }
  const FieldSpan* begin() const { return data_.get(); }
  const FieldSpan* end() const { return data_.get() + size_; }
  void push_back(FieldSpan f) {
    if (size_ == capacity_) [[unlikely]]
      Grow();
    data_[size_++] = f;
  }
  // Moves the fields to `out` without copying; this list continues empty in
  // out's previous buffer (a recycled range's: allocated and faulted in).
  void HandOver(FieldSpans* out) {
    out->Exchange(&data_, &capacity_, size_);
    size_ = 0;
  }

 private:
  void Grow() {
    size_t capacity = capacity_ == 0 ? 4096 : capacity_ * 2;
    std::unique_ptr<FieldSpan[]> bigger(new FieldSpan[capacity]);
    std::copy(data_.get(), data_.get() + size_, bigger.get());
    data_ = std::move(bigger);
    capacity_ = capacity;
  }
  std::unique_ptr<FieldSpan[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Where the parser is: byte offset in the buffer, its line, and the offset
// where that line starts (for 1-based byte columns in errors).
struct Cursor {
  size_t pos = 0;
  int64_t line = 1;
  size_t line_start = 0;
};

enum class Parsed { kRecord, kNeedMore, kEnd, kError };

// A syntax error found by RecordParser, before it is given the file's name
// (and, for a range parsed on another thread, the line its range starts on).
struct SyntaxError {
  int64_t line = 0;
  int64_t column = 0;
  std::string message;
};

// The CSV state machine over a buffer, shared by the sequential reader and
// the range parser. `eof` says the buffer ends where the input ends; without
// it a record cut by the buffer's end is kNeedMore.
class RecordParser {
 public:
  explicit RecordParser(char delim) : delim_(delim) {}
  // Parses one record at cur->pos, appending its fields; on kRecord advances
  // `cur` past the record's line end. Blank lines before it are skipped.
  // Field offsets are relative to `base` (the chunk's first byte). kError
  // leaves the error in error().
  Parsed ParseRecord(const char* d, size_t n, bool eof, size_t base, Cursor* cur,
                     size_t* record_start, int64_t* record_line);
  // A record of the wrong width; `d` is the chunk's first byte, offsets relative to it.
  SyntaxError FieldCountError(const char* d, size_t record_start, int64_t record_line,
                              size_t fields_begin, size_t want) const;
  // Parses consecutive simple records from cur->pos (no quote, no '\r', not
  // blank, exactly `ncols` fields, ending in '\n' inside the buffer) that
  // start before `limit`, from bitmasks of 64 bytes at a time, appending
  // their fields and start lines. Stops before the first record that is not
  // simple, which ParseRecord then reads (with its exact errors). Returns the
  // number of records.
  size_t ParseSimpleRecords(const char* d, size_t n, size_t limit, size_t base, size_t ncols,
                            Cursor* cur, std::vector<int64_t>* lines);
  template <SpecialMaskFn Mask>
  size_t ParseSimpleRecordsWith(const char* d, size_t n, size_t limit, size_t base, size_t ncols,
                                Cursor* cur, std::vector<int64_t>* lines);
  FieldList& fields() { return fields_; }
  const SyntaxError& error() const { return error_; }
  // Ready for another buffer: no fields, this delimiter, the scan to use now.
  // Whether a field since the last Reset() had "" pairs to collapse.
  bool escaped_fields() const { return escaped_fields_; }
  void Reset(char delim) {
    delim_ = delim;
    escaped_fields_ = false;
    fields_.clear();
    mask_ = BestSpecialMask();
  }

 private:
  void AddField(size_t base, size_t start, size_t size, bool escaped) {
    escaped_fields_ |= escaped;
    fields_.push_back({static_cast<uint32_t>(start - base),
                       static_cast<uint32_t>(size) | (escaped ? 0x80000000u : 0u)});
  }
  Parsed Fail(int64_t line, int64_t column, std::string message) {
    error_ = {line, column, std::move(message)};
    return Parsed::kError;
  }
  char delim_;
  bool escaped_fields_ = false;
  FieldList fields_;
  SyntaxError error_;
  SpecialMaskFn mask_ = BestSpecialMask();
};

size_t RecordParser::ParseSimpleRecords(const char* d, size_t n, size_t limit, size_t base,
                                        size_t ncols, Cursor* cur, std::vector<int64_t>* lines) {
  // A direct call to a known scan (one instantiation per level) instead of
  // one through mask_: the compiler then knows which registers it clobbers
  // and keeps the loop's state in registers.
#if defined(__x86_64__)
  if (mask_ == SpecialMaskAvx2) {
    return ParseSimpleRecordsWith<SpecialMaskAvx2>(d, n, limit, base, ncols, cur, lines);
  }
  if (mask_ == SpecialMaskSse2) {
    return ParseSimpleRecordsWith<SpecialMaskSse2>(d, n, limit, base, ncols, cur, lines);
  }
#endif
  return ParseSimpleRecordsWith<SpecialMaskScalar>(d, n, limit, base, ncols, cur, lines);
}

template <SpecialMaskFn Mask>
size_t RecordParser::ParseSimpleRecordsWith(const char* d, size_t n, size_t limit, size_t base,
                                            size_t ncols, Cursor* cur,
                                            std::vector<int64_t>* lines) {
  const char delim = delim_;
  size_t record_start = cur->pos;
  if (record_start >= limit || record_start >= n) return 0;
  size_t records = 0;
  int64_t line = cur->line;
  size_t fields_begin = fields_.size();
  size_t field_start = record_start;
  size_t fields_in_record = 0;
  char tail[64];
  // Blocks of 64 bytes from the record start; the last partial one is copied
  // into `tail` and padded with zeros (not special).
  for (size_t block = record_start; block < n; block += 64) {
    const char* p = d + block;
    if (n - block < 64) {
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, p, n - block);
      p = tail;
    }
    for (uint64_t mask = Mask(p, delim); mask != 0; mask &= mask - 1) {
      const size_t pos = block + static_cast<size_t>(__builtin_ctzll(mask));
      const char c = d[pos];
      if (c == delim) {
        AddField(base, field_start, pos - field_start, false);
        field_start = pos + 1;
        ++fields_in_record;
        continue;
      }
      // A quote or '\r' in the record, a blank line or a wrong width: the
      // state machine takes this record from its start.
      if (c != '\n' || pos == record_start || fields_in_record + 1 != ncols ||
          pos - base > kMaxChunkSpan) {
        fields_.resize(fields_begin);
        cur->pos = record_start;
        cur->line = line;
        cur->line_start = record_start;
        return records;
      }
      AddField(base, field_start, pos - field_start, false);
      lines->push_back(line);
      ++records;
      ++line;
      record_start = field_start = pos + 1;
      fields_begin = fields_.size();
      fields_in_record = 0;
      if (record_start >= limit) {
        cur->pos = record_start;
        cur->line = line;
        cur->line_start = record_start;
        return records;
      }
    }
  }
  // The buffer ends inside a record: the caller reads more or the state machine ends it.
  fields_.resize(fields_begin);
  cur->pos = record_start;
  cur->line = line;
  cur->line_start = record_start;
  return records;
}

class CsvReader : public TableReader {
 public:
  CsvReader(std::filesystem::path path, ReaderOptions options, std::unique_ptr<ByteSource> source)
      : TableReader(std::move(path), Format::kCsv, std::move(options)), source_(std::move(source)) {
    PrepareNullTokens();
  }

  Status ReadHeader();
  Result<bool> Next(RowChunk* chunk) override;

  // For CsvRanges: a plain file not read past its header yet can be split.
  bool Splittable() const { return !started_ && !source_->compressed(); }
  size_t data_start() const { return pos_; }  // the buffer starts at offset 0 until Next
  int64_t data_line() const { return line_; }
  char delim() const { return delim_; }
  // The ranges read the rows: this reader has nothing left to give.
  void MarkConsumed() {
    started_ = true;
    eof_ = true;
    buf_.clear();
    pos_ = 0;
  }
  bool IsNull(std::string_view text) const { return IsNullToken(text); }
  Status Error(const SyntaxError& e) const { return ErrorAt(e.line, e.column, e.message); }

 private:
  Status FillMore(ByteBuffer* buf);

  std::unique_ptr<ByteSource> source_;
  ByteBuffer buf_;  // read blocks; buf_[pos_] starts the next record
  size_t pos_ = 0;
  bool eof_ = false;
  bool started_ = false;  // Next was called
  int64_t line_ = 1;      // line of buf_[pos_]
  char delim_ = ',';
  std::optional<RecordParser> parser_;
};

Status CsvReader::FillMore(ByteBuffer* buf) {
  const size_t block = options_.block_size;
  char* dst = buf->grow(block);
  CAIRN_ASSIGN_OR_RETURN(size_t got, source_->Read(dst, block));
  buf->resize(buf->size() + got);
  if (got == 0) eof_ = true;
  return Status::Ok();
}

Parsed RecordParser::ParseRecord(const char* d, size_t n, bool eof, size_t base, Cursor* cur,
                                 size_t* record_start, int64_t* record_line) {
  Cursor c = *cur;
  // Blank lines carry no record (as in pandas); a one-column file loses nothing
  // it could express, since an empty line is not a quoted "" either.
  for (;;) {
    if (c.pos >= n) {
      if (!eof) return Parsed::kNeedMore;
      *cur = c;
      return Parsed::kEnd;
    }
    if (d[c.pos] == '\n') {
      ++c.pos;
      ++c.line;
      c.line_start = c.pos;
      continue;
    }
    if (d[c.pos] == '\r') {
      if (c.pos + 1 >= n && !eof) return Parsed::kNeedMore;
      if (c.pos + 1 >= n) {
        ++c.pos;
        continue;
      }
      if (d[c.pos + 1] == '\n') {
        c.pos += 2;
        ++c.line;
        c.line_start = c.pos;
        continue;
      }
    }
    break;
  }
  *record_start = c.pos;
  *record_line = c.line;
  const char delim = delim_;
  for (;;) {
    if (c.pos >= n) {
      if (!eof) return Parsed::kNeedMore;
      AddField(base, c.pos, 0, false);  // "a,b," at the end of the file
      break;
    }
    if (d[c.pos] == '"') {
      const int64_t open_line = c.line;
      const int64_t open_column = static_cast<int64_t>(c.pos - c.line_start) + 1;
      const size_t start = c.pos + 1;
      size_t p = start;
      bool escaped = false;
      size_t end;
      for (;;) {
        const char* q = static_cast<const char*>(std::memchr(d + p, '"', n - p));
        const size_t qpos = q != nullptr ? static_cast<size_t>(q - d) : n;
        for (const char* nl = static_cast<const char*>(std::memchr(d + p, '\n', qpos - p));
             nl != nullptr;
             nl = static_cast<const char*>(std::memchr(nl + 1, '\n', d + qpos - (nl + 1)))) {
          ++c.line;
          c.line_start = static_cast<size_t>(nl - d) + 1;
        }
        if (q == nullptr) {
          if (!eof) return Parsed::kNeedMore;
          return Fail(open_line, open_column,
                      "unterminated quoted field: the quote opened here is never closed "
                      "(quotes inside a quoted field must be doubled: \"\")");
        }
        if (qpos + 1 >= n && !eof) return Parsed::kNeedMore;  // "" or a closing quote?
        if (qpos + 1 < n && d[qpos + 1] == '"') {
          escaped = true;
          p = qpos + 2;
          continue;
        }
        end = qpos;
        c.pos = qpos + 1;
        break;
      }
      AddField(base, start, end - start, escaped);
      if (c.pos >= n) {
        if (!eof) return Parsed::kNeedMore;
        break;
      }
      const char after = d[c.pos];
      if (after == delim) {
        ++c.pos;
        continue;
      }
      if (after == '\n') {
        ++c.pos;
        ++c.line;
        c.line_start = c.pos;
        break;
      }
      if (after == '\r') {
        if (c.pos + 1 >= n && !eof) return Parsed::kNeedMore;
        if (c.pos + 1 >= n) {
          ++c.pos;
          break;
        }
        if (d[c.pos + 1] == '\n') {
          c.pos += 2;
          ++c.line;
          c.line_start = c.pos;
          break;
        }
      }
      return Fail(c.line, static_cast<int64_t>(c.pos - c.line_start) + 1,
                  "unexpected character after the closing quote of a field: quote the whole "
                  "field and double the quotes inside it (\"\")");
    }
    // Unquoted: up to the delimiter or the line end. A quote in here is kept
    // as a literal character (lenient, like Python's csv and pandas).
    const size_t start = c.pos;
    const size_t p = FindFieldEnd(d, c.pos, n, delim);
    if (p >= n) {
      if (!eof) return Parsed::kNeedMore;
      size_t size = p - start;
      if (size > 0 && d[p - 1] == '\r') --size;
      AddField(base, start, size, false);
      c.pos = p;
      break;
    }
    if (d[p] == delim) {
      AddField(base, start, p - start, false);
      c.pos = p + 1;
      continue;
    }
    size_t size = p - start;
    if (size > 0 && d[p - 1] == '\r') --size;  // CRLF
    AddField(base, start, size, false);
    c.pos = p + 1;
    ++c.line;
    c.line_start = c.pos;
    break;
  }
  *cur = c;
  return Parsed::kRecord;
}

SyntaxError RecordParser::FieldCountError(const char* d, size_t record_start, int64_t record_line,
                                          size_t fields_begin, size_t want) const {
  const size_t got = fields_.size() - fields_begin;
  // Point at the first extra field, or at the end of the last field present.
  const FieldSpan& at = got > want ? fields_[fields_begin + want] : fields_.back();
  size_t target = got > want ? at.offset : at.offset + at.size();
  if (got > want && at.offset > record_start && d[at.offset - 1] == '"') --target;
  int64_t line = record_line;
  size_t line_start = record_start;
  for (size_t i = record_start; i < target; ++i) {
    if (d[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const int64_t column = static_cast<int64_t>(target - line_start) + 1;
  std::string message =
      "row has " + std::to_string(got) + " fields but the header has " + std::to_string(want);
  message += got > want
                 ? " (field " + std::to_string(want + 1) + " starts here)"
                 : " (the row ends here; missing the last " + std::to_string(want - got) + ")";
  return {line, column, std::move(message)};
}

// Fills `chunk`'s cells and null flags from the fields of its rows, whose
// offsets are relative to `d` (the chunk's storage); collapses "" in place.
// Collapses the "" pairs of an escaped field in place (the record is
// complete, nothing re-reads it); returns its new size.
size_t Unescape(char* d, const FieldSpan& f) {
  char* out = d + f.offset;
  const char* in = d + f.offset;
  const char* end = in + f.size();
  while (in < end) {
    char ch = *in++;
    *out++ = ch;
    if (ch == '"') ++in;
  }
  return static_cast<size_t>(out - (d + f.offset));
}

template <typename IsNull>
void FillCells(const FieldList& fields, char* d, RowChunk* chunk, IsNull&& is_null) {
  // Appended rather than resized: resizing would write every cell twice.
  chunk->cells.reserve(fields.size());
  chunk->nulls.reserve(fields.size());
  for (const FieldSpan& f : fields) {
    size_t size = f.size();
    if (f.escaped()) [[unlikely]]
      size = Unescape(d, f);
    const std::string_view text(d + f.offset, size);
    chunk->cells.push_back(text);
    chunk->nulls.push_back(is_null(text) ? 1 : 0);
  }
}

Status CsvReader::ReadHeader() {
  // Enough bytes to skip a BOM and to see several records for detection.
  const size_t sample_size = 64 * 1024;
  while (!eof_ && buf_.size() < sample_size) CAIRN_RETURN_IF_ERROR(FillMore(&buf_));
  size_t skip = 0;
  if (buf_.size() >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) skip = 3;
  std::string_view sample(buf_.data() + skip, buf_.size() - skip);
  delim_ = options_.delimiter != 0 ? options_.delimiter : DetectDelimiter(sample, eof_);
  if (delim_ == '"' || delim_ == '\n' || delim_ == '\r') {
    return InvalidParameter("the CSV delimiter cannot be a quote or a line break");
  }
  delimiter_ = delim_;
  parser_.emplace(delim_);
  FieldList& fields = parser_->fields();

  Cursor cur;
  cur.pos = skip;
  size_t record_start = 0;
  int64_t record_line = 1;
  for (;;) {
    fields.clear();
    Parsed parsed =
        parser_->ParseRecord(buf_.data(), buf_.size(), eof_, 0, &cur, &record_start, &record_line);
    if (parsed == Parsed::kError) return Error(parser_->error());
    if (parsed == Parsed::kNeedMore) {
      CAIRN_RETURN_IF_ERROR(FillMore(&buf_));
      continue;
    }
    if (parsed == Parsed::kEnd) {
      return InvalidParameter(path_.string() + " is empty: a CSV file needs at least a " +
                              (options_.header ? "header row" : "record"));
    }
    break;
  }
  if (options_.header) {
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t i = 0; i < fields.size(); ++i) {
      FieldSpan f = fields[i];
      std::string name(buf_.data() + f.offset, f.size());
      if (f.escaped()) {
        std::string unescaped;
        for (size_t k = 0; k < name.size(); ++k) {
          unescaped += name[k];
          if (name[k] == '"') ++k;
        }
        name = std::move(unescaped);
      }
      if (name.empty()) name = "column_" + std::to_string(i + 1);
      columns_.push_back(std::move(name));
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      auto [it, inserted] = seen.emplace(columns_[i], i);
      if (!inserted) {
        return ErrorAt(record_line, 1,
                       "duplicate column name '" + columns_[i] + "' (columns " +
                           std::to_string(it->second + 1) + " and " + std::to_string(i + 1) +
                           "): column names must be unique");
      }
    }
  } else {
    for (size_t i = 0; i < fields.size(); ++i) {
      columns_.push_back("column_" + std::to_string(i + 1));
    }
    cur.pos = record_start;  // the first record is data
    cur.line = record_line;
  }
  fields.clear();
  pos_ = cur.pos;
  line_ = cur.line;
  return Status::Ok();
}

Result<bool> CsvReader::Next(RowChunk* chunk) {
  started_ = true;
  chunk->Clear();
  FieldList& fields = parser_->fields();
  fields.clear();
  const size_t ncols = columns_.size();
  size_t chunk_begin = pos_;
  Cursor cur;
  cur.pos = pos_;
  cur.line = line_;
  cur.line_start = pos_;
  size_t rows = 0;
  while (rows < options_.chunk_rows && cur.pos - chunk_begin < options_.chunk_bytes) {
    const size_t fields_begin = fields.size();
    size_t record_start = 0;
    int64_t record_line = 0;
    Parsed parsed = parser_->ParseRecord(buf_.data(), buf_.size(), eof_, chunk_begin, &cur,
                                         &record_start, &record_line);
    if (parsed == Parsed::kError) return Error(parser_->error());
    if (parsed == Parsed::kNeedMore) {
      fields.resize(fields_begin);  // parse the record again once more bytes are in
      if (chunk_begin > 0) {        // keep only this chunk's bytes; offsets relative to it hold
        std::memmove(buf_.data(), buf_.data() + chunk_begin, buf_.size() - chunk_begin);
        buf_.resize(buf_.size() - chunk_begin);
        cur.pos -= chunk_begin;
        cur.line_start -= chunk_begin;
        chunk_begin = 0;
      }
      CAIRN_RETURN_IF_ERROR(FillMore(&buf_));
      continue;
    }
    if (parsed == Parsed::kEnd) break;
    if (cur.pos - chunk_begin > kMaxChunkSpan) {
      return ErrorAt(record_line, 1, "record too large: a chunk of rows must stay under 2 GiB");
    }
    if (fields.size() - fields_begin != ncols) {
      return Error(parser_->FieldCountError(buf_.data() + chunk_begin, record_start - chunk_begin,
                                            record_line, fields_begin, ncols));
    }
    chunk->lines.push_back(record_line);
    ++rows;
  }
  // The chunk gets its own copy of its rows' bytes (cache-hot, just parsed), so
  // the read buffer stays one block and the chunk outlives it.
  ByteBuffer& storage = chunk->storage;
  storage.append(buf_.data() + chunk_begin, cur.pos - chunk_begin);
  pos_ = cur.pos;
  line_ = cur.line;

  chunk->num_rows = rows;
  chunk->num_columns = ncols;
  FillCells(fields, storage.data(), chunk, [this](std::string_view t) { return IsNullToken(t); });
  return rows > 0;
}

// ---- Ranges --------------------------------------------------------------------------

class CsvRangesImpl : public CsvRanges {
 public:
  CsvRangesImpl(CsvReader* reader, UniqueFd fd, size_t file_size, size_t range_bytes)
      : reader_(reader),
        fd_(std::move(fd)),
        file_size_(file_size),
        data_start_(reader->data_start()),
        range_bytes_(range_bytes),
        next_start_(reader->data_start()),
        next_line_(reader->data_line()) {}

  void SpansOnly() override { spans_only_ = true; }

  size_t size() const override {
    if (file_size_ <= data_start_) return 0;
    return (file_size_ - data_start_ + range_bytes_ - 1) / range_bytes_;
  }

  Status ParseSpeculative(size_t index, CsvRange* out) const override {
    CAIRN_ASSIGN_OR_RETURN(size_t start, LineStartAtOrAfter(Nominal(index)));
    return ParseFrom(index, start, out);
  }

  Result<bool> Commit(CsvRange* range) override {
    bool reparsed = false;
    if (range->start != next_start_) {  // the speculation was wrong (or never made)
      CAIRN_RETURN_IF_ERROR(ParseFrom(range->index, next_start_, range));
      reparsed = true;
    }
    if (range->failed) {
      return reader_->Error(
          {range->error_line + next_line_ - 1, range->error_column, range->error});
    }
    for (int64_t& line : range->chunk.lines) line += next_line_ - 1;
    next_start_ = range->end;
    next_line_ += range->newlines;
    return reparsed;
  }

 private:
  size_t Nominal(size_t index) const { return data_start_ + index * range_bytes_; }

  Result<size_t> Read(char* dst, size_t n, size_t offset) const {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_.get(), dst + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        return Status(ErrorCode::kIoError,
                      "cannot read " + reader_->path().string() + ": " + std::strerror(errno));
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    return got;
  }

  // The first offset >= `at` that starts a line (follows a '\n'), or the
  // file size; the data start for the first range.
  Result<size_t> LineStartAtOrAfter(size_t at) const {
    if (at <= data_start_) return data_start_;
    if (at >= file_size_) return file_size_;
    char buf[4096];
    size_t offset = at - 1;
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(size_t got, Read(buf, sizeof buf, offset));
      if (got == 0) return file_size_;
      const void* nl = std::memchr(buf, '\n', got);
      if (nl != nullptr)
        return offset + static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1;
      offset += got;
    }
  }

  // Parses the records of range `index` from `start`: those starting before
  // the next range's first line start, wherever they end.
  Status ParseFrom(size_t index, size_t start, CsvRange* out) const {
    CAIRN_ASSIGN_OR_RETURN(size_t stop, LineStartAtOrAfter(Nominal(index + 1)));
    out->index = index;
    out->start = start;
    out->end = start;
    out->newlines = 0;
    out->failed = false;
    out->error.clear();
    out->spans.clear();
    RowChunk* chunk = &out->chunk;
    chunk->Clear();
    const size_t ncols = reader_->columns().size();
    chunk->num_columns = ncols;
    if (start >= stop) return Status::Ok();

    ByteBuffer& buf = chunk->storage;
    size_t want = stop - start;
    CAIRN_ASSIGN_OR_RETURN(size_t got, Read(buf.grow(want), want, start));
    buf.resize(got);
    bool eof = start + got >= file_size_;
    // One parser per thread, reused: its field table stays allocated (and warm).
    static thread_local std::optional<RecordParser> tls_parser;
    if (!tls_parser) tls_parser.emplace(reader_->delim());
    RecordParser& parser = *tls_parser;
    parser.Reset(reader_->delim());
    FieldList& fields = parser.fields();
    Cursor cur;  // relative to `start`, lines from 1
    const size_t limit = stop - start;
    size_t rows = 0;
    auto fail = [&](const SyntaxError& e) {
      out->failed = true;
      out->error_line = e.line;
      out->error_column = e.column;
      out->error = e.message;
      return Status::Ok();
    };
    size_t slow_records = 0;  // after a record the fast path refused, a few go the slow way
    while (cur.pos < limit) {
      const char* d = buf.data();
      if (slow_records == 0) {
        const size_t simple =
            parser.ParseSimpleRecords(d, buf.size(), limit, 0, ncols, &cur, &chunk->lines);
        rows += simple;
        if (cur.pos >= limit) break;
        if (simple == 0) slow_records = 8;
      } else {
        --slow_records;
      }
      // Blank lines up to the range's end belong to this range.
      if (cur.pos < buf.size() && d[cur.pos] == '\n') {
        ++cur.pos, ++cur.line, cur.line_start = cur.pos;
        continue;
      }
      if (cur.pos + 1 < buf.size() && d[cur.pos] == '\r' && d[cur.pos + 1] == '\n') {
        cur.pos += 2, ++cur.line, cur.line_start = cur.pos;
        continue;
      }
      const size_t fields_begin = fields.size();
      size_t record_start = 0;
      int64_t record_line = 0;
      Parsed parsed = parser.ParseRecord(d, buf.size(), eof, 0, &cur, &record_start, &record_line);
      if (parsed == Parsed::kError) return fail(parser.error());
      if (parsed == Parsed::kNeedMore) {  // a record running past the range (or its bytes)
        fields.resize(fields_begin);
        const size_t more = std::max<size_t>(buf.size(), 64 * 1024);
        CAIRN_ASSIGN_OR_RETURN(size_t extra, Read(buf.grow(more), more, start + buf.size()));
        buf.resize(buf.size() + extra);
        if (extra == 0 || start + buf.size() >= file_size_) eof = true;
        continue;
      }
      if (parsed == Parsed::kEnd) break;
      if (cur.pos > kMaxChunkSpan) {
        return fail({record_line, 1, "record too large: a chunk of rows must stay under 2 GiB"});
      }
      if (fields.size() - fields_begin != ncols) {
        return fail(parser.FieldCountError(d, record_start, record_line, fields_begin, ncols));
      }
      chunk->lines.push_back(record_line);
      ++rows;
    }
    out->end = start + cur.pos;
    out->newlines = cur.line - 1;
    chunk->num_rows = rows;
    if (spans_only_) {
      fields.HandOver(&out->spans);
      if (parser.escaped_fields()) {
        for (FieldSpan& f : out->spans) {
          if (f.escaped()) f.size_and_flag = static_cast<uint32_t>(Unescape(buf.data(), f));
        }
      }
    } else {
      FillCells(fields, buf.data(), chunk,
                [this](std::string_view t) { return reader_->IsNull(t); });
    }
    return Status::Ok();
  }

  CsvReader* reader_;
  UniqueFd fd_;
  size_t file_size_;
  size_t data_start_;
  size_t range_bytes_;
  bool spans_only_ = false;
  size_t next_start_;  // where the next range to commit must start
  int64_t next_line_;  // and its line
};

}  // namespace

namespace csv_internal {

int SpecialMaskLevels() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") ? 3 : 2;
#else
  return 1;
#endif
}

uint64_t SpecialMask(int level, const char* p, char delim) {
#if defined(__x86_64__)
  if (level == 2) return SpecialMaskAvx2(p, delim);
  if (level == 1) return SpecialMaskSse2(p, delim);
#endif
  return SpecialMaskScalar(p, delim);
}

void LimitSpecialMaskLevel(int level) { mask_level_limit.store(level); }

}  // namespace csv_internal

std::unique_ptr<CsvRanges> CsvRanges::Split(TableReader& reader) {
  auto* csv = dynamic_cast<CsvReader*>(&reader);
  if (csv == nullptr || !csv->Splittable()) return nullptr;
  UniqueFd fd(::open(reader.path().c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  // 1 MiB ranges keep a range's bytes and cell table in cache between its
  // parse and its summary (4 MiB ones cost about 13% more CPU); tests shrink
  // block_size to put boundaries everywhere.
  const size_t range_bytes =
      std::min<size_t>(std::max<size_t>(reader.options().block_size, 1), size_t{1} << 20);
  auto ranges = std::make_unique<CsvRangesImpl>(csv, std::move(fd), static_cast<size_t>(st.st_size),
                                                range_bytes);
  csv->MarkConsumed();
  return ranges;
}

Result<std::unique_ptr<TableReader>> OpenCsvReader(const std::filesystem::path& path,
                                                   const ReaderOptions& options,
                                                   std::unique_ptr<ByteSource> source) {
  auto reader = std::make_unique<CsvReader>(path, options, std::move(source));
  CAIRN_RETURN_IF_ERROR(reader->ReadHeader());
  return std::unique_ptr<TableReader>(std::move(reader));
}

}  // namespace cairn::data
