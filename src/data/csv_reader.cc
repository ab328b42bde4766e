#include "data/csv_reader.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
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

// A field as bytes of the chunk being parsed, relative to the chunk's first
// byte: 8 bytes, so a chunk's spans stay in cache (chunks are < 2 GiB).
struct FieldSpan {
  uint32_t offset;
  uint32_t size_and_flag;  // low 31 bits: size; top bit: quoted with "" pairs to collapse
  size_t size() const { return size_and_flag & 0x7fffffffu; }
  bool escaped() const { return (size_and_flag & 0x80000000u) != 0; }
};
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

enum class Parsed { kRecord, kNeedMore, kEnd };

class CsvReader : public TableReader {
 public:
  CsvReader(std::filesystem::path path, ReaderOptions options, std::unique_ptr<ByteSource> source)
      : TableReader(std::move(path), Format::kCsv, std::move(options)), source_(std::move(source)) {
    PrepareNullTokens();
  }

  Status ReadHeader();
  Result<bool> Next(RowChunk* chunk) override;

 private:
  Status FillMore(ByteBuffer* buf);
  // Parses one record at cur->pos, appending its fields; on kRecord advances
  // `cur` past the record's line end. Blank lines before it are skipped.
  // Field offsets are relative to `base` (the chunk's first byte).
  Result<Parsed> ParseRecord(const char* d, size_t n, size_t base, Cursor* cur,
                             size_t* record_start, int64_t* record_line);
  void AddField(size_t base, size_t start, size_t size, bool escaped) {
    fields_.push_back({static_cast<uint32_t>(start - base),
                       static_cast<uint32_t>(size) | (escaped ? 0x80000000u : 0u)});
  }
  Status FieldCountError(const char* d, size_t record_start, int64_t record_line,
                         size_t fields_begin) const;

  std::unique_ptr<ByteSource> source_;
  ByteBuffer buf_;  // read blocks; buf_[pos_] starts the next record
  size_t pos_ = 0;
  bool eof_ = false;
  int64_t line_ = 1;  // line of buf_[pos_]
  char delim_ = ',';
  FieldList fields_;
};

Status CsvReader::FillMore(ByteBuffer* buf) {
  const size_t block = options_.block_size;
  char* dst = buf->grow(block);
  CAIRN_ASSIGN_OR_RETURN(size_t got, source_->Read(dst, block));
  buf->resize(buf->size() + got);
  if (got == 0) eof_ = true;
  return Status::Ok();
}

Result<Parsed> CsvReader::ParseRecord(const char* d, size_t n, size_t base, Cursor* cur,
                                      size_t* record_start, int64_t* record_line) {
  Cursor c = *cur;
  // Blank lines carry no record (as in pandas); a one-column file loses nothing
  // it could express, since an empty line is not a quoted "" either.
  for (;;) {
    if (c.pos >= n) {
      if (!eof_) return Parsed::kNeedMore;
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
      if (c.pos + 1 >= n && !eof_) return Parsed::kNeedMore;
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
      if (!eof_) return Parsed::kNeedMore;
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
          if (!eof_) return Parsed::kNeedMore;
          return ErrorAt(open_line, open_column,
                         "unterminated quoted field: the quote opened here is never closed "
                         "(quotes inside a quoted field must be doubled: \"\")");
        }
        if (qpos + 1 >= n && !eof_) return Parsed::kNeedMore;  // "" or a closing quote?
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
        if (!eof_) return Parsed::kNeedMore;
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
        if (c.pos + 1 >= n && !eof_) return Parsed::kNeedMore;
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
      return ErrorAt(c.line, static_cast<int64_t>(c.pos - c.line_start) + 1,
                     "unexpected character after the closing quote of a field: quote the whole "
                     "field and double the quotes inside it (\"\")");
    }
    // Unquoted: up to the delimiter or the line end. A quote in here is kept
    // as a literal character (lenient, like Python's csv and pandas).
    const size_t start = c.pos;
    const size_t p = FindFieldEnd(d, c.pos, n, delim);
    if (p >= n) {
      if (!eof_) return Parsed::kNeedMore;
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

Status CsvReader::FieldCountError(const char* d, size_t record_start, int64_t record_line,
                                  size_t fields_begin) const {
  const size_t want = columns_.size();
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
  return ErrorAt(line, column, message);
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

  Cursor cur;
  cur.pos = skip;
  size_t record_start = 0;
  int64_t record_line = 1;
  for (;;) {
    fields_.clear();
    CAIRN_ASSIGN_OR_RETURN(
        Parsed parsed, ParseRecord(buf_.data(), buf_.size(), 0, &cur, &record_start, &record_line));
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
    for (size_t i = 0; i < fields_.size(); ++i) {
      FieldSpan f = fields_[i];
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
    for (size_t i = 0; i < fields_.size(); ++i) {
      columns_.push_back("column_" + std::to_string(i + 1));
    }
    cur.pos = record_start;  // the first record is data
    cur.line = record_line;
  }
  fields_.clear();
  pos_ = cur.pos;
  line_ = cur.line;
  return Status::Ok();
}

Result<bool> CsvReader::Next(RowChunk* chunk) {
  chunk->Clear();
  fields_.clear();
  const size_t ncols = columns_.size();
  size_t chunk_begin = pos_;
  Cursor cur;
  cur.pos = pos_;
  cur.line = line_;
  cur.line_start = pos_;
  size_t rows = 0;
  while (rows < options_.chunk_rows && cur.pos - chunk_begin < options_.chunk_bytes) {
    const size_t fields_begin = fields_.size();
    size_t record_start = 0;
    int64_t record_line = 0;
    CAIRN_ASSIGN_OR_RETURN(Parsed parsed, ParseRecord(buf_.data(), buf_.size(), chunk_begin, &cur,
                                                      &record_start, &record_line));
    if (parsed == Parsed::kNeedMore) {
      fields_.resize(fields_begin);  // parse the record again once more bytes are in
      if (chunk_begin > 0) {         // keep only this chunk's bytes; offsets relative to it hold
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
    if (fields_.size() - fields_begin != ncols) {
      return FieldCountError(buf_.data() + chunk_begin, record_start - chunk_begin, record_line,
                             fields_begin);
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
  chunk->cells.reserve(fields_.size());
  chunk->nulls.reserve(fields_.size());
  char* d = storage.data();
  for (const FieldSpan& f : fields_) {
    size_t size = f.size();
    if (f.escaped()) {  // collapse "" to " in place: the record is complete, nothing re-reads it
      char* out = d + f.offset;
      const char* in = d + f.offset;
      const char* end = in + size;
      while (in < end) {
        char ch = *in++;
        *out++ = ch;
        if (ch == '"') ++in;
      }
      size = static_cast<size_t>(out - (d + f.offset));
    }
    std::string_view text(d + f.offset, size);
    chunk->cells.push_back(text);
    chunk->nulls.push_back(IsNullToken(text) ? 1 : 0);
  }
  return rows > 0;
}

}  // namespace

Result<std::unique_ptr<TableReader>> OpenCsvReader(const std::filesystem::path& path,
                                                   const ReaderOptions& options,
                                                   std::unique_ptr<ByteSource> source) {
  auto reader = std::make_unique<CsvReader>(path, options, std::move(source));
  CAIRN_RETURN_IF_ERROR(reader->ReadHeader());
  return std::unique_ptr<TableReader>(std::move(reader));
}

}  // namespace cairn::data
