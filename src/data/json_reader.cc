#include "data/json_reader.h"

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace cairn::data {
namespace {

using nlohmann::json;

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// One cell of a JSON record before the chunk's final column count is known.
struct PendingCell {
  size_t row;
  size_t column;
  size_t offset;  // into the chunk's storage
  size_t size;
  bool null;
};

enum class Scan { kComplete, kNeedMore };

class JsonReader : public TableReader {
 public:
  JsonReader(std::filesystem::path path, Format format, ReaderOptions options,
             std::unique_ptr<ByteSource> source)
      : TableReader(std::move(path), format, std::move(options)), source_(std::move(source)) {
    PrepareNullTokens();
  }

  // Reads up to the first non-blank byte; decides the format when sniffing.
  Status Start(bool sniff);
  Result<bool> Next(RowChunk* chunk) override;

 private:
  Status FillMore();
  void Advance(size_t to);  // moves pos_ to `to`, counting lines
  int64_t ColumnAt(size_t offset) const { return static_cast<int64_t>(offset) - line_start_ + 1; }
  // Parses one record (the bytes [begin, end) of buf_, which start at pos_).
  Status AddRecord(size_t begin, size_t end, RowChunk* chunk);
  Status InvalidJsonError(size_t begin, size_t end, const json::parse_error& e) const;
  Result<Scan> ScanValue(size_t begin, size_t* end) const;
  Result<bool> NextLines(RowChunk* chunk);
  Result<bool> NextArray(RowChunk* chunk);
  void Finish(RowChunk* chunk);

  std::unique_ptr<ByteSource> source_;
  ByteBuffer buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  int64_t line_ = 1;        // line of buf_[pos_]
  int64_t line_start_ = 0;  // offset in buf_ where that line starts (negative once compacted)
  enum class ArrayState { kBeforeArray, kFirstElement, kElement, kAfterElement, kDone };
  ArrayState array_state_ = ArrayState::kBeforeArray;
  std::unordered_map<std::string, size_t> column_index_;
  std::vector<PendingCell> pending_;
  size_t rows_ = 0;
};

Status JsonReader::FillMore() {
  if (pos_ > 0) {  // drop consumed bytes so the buffer holds about one record plus a block
    std::memmove(buf_.data(), buf_.data() + pos_, buf_.size() - pos_);
    buf_.resize(buf_.size() - pos_);
    line_start_ -= static_cast<int64_t>(pos_);
    pos_ = 0;
  }
  char* dst = buf_.grow(options_.block_size);
  CAIRN_ASSIGN_OR_RETURN(size_t got, source_->Read(dst, options_.block_size));
  buf_.resize(buf_.size() + got);
  if (got == 0) eof_ = true;
  return Status::Ok();
}

void JsonReader::Advance(size_t to) {
  const char* d = buf_.data();
  for (const char* nl = static_cast<const char*>(std::memchr(d + pos_, '\n', to - pos_));
       nl != nullptr; nl = static_cast<const char*>(std::memchr(nl + 1, '\n', d + to - (nl + 1)))) {
    ++line_;
    line_start_ = nl - d + 1;
  }
  pos_ = to;
}

Status JsonReader::Start(bool sniff) {
  for (;;) {
    while (pos_ < buf_.size() && IsJsonSpace(buf_.data()[pos_])) Advance(pos_ + 1);
    if (pos_ < buf_.size() || eof_) break;
    CAIRN_RETURN_IF_ERROR(FillMore());
  }
  // A UTF-8 byte order mark is not JSON, but editors write it.
  while (buf_.size() - pos_ < 3 && !eof_) CAIRN_RETURN_IF_ERROR(FillMore());
  if (buf_.size() - pos_ >= 3 && std::memcmp(buf_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) {
    pos_ += 3;
    line_start_ += 3;
    return Start(sniff);
  }
  if (pos_ >= buf_.size()) {
    return InvalidParameter(path_.string() + " is empty: expected JSON records");
  }
  if (sniff) format_ = buf_.data()[pos_] == '[' ? Format::kJsonArray : Format::kJsonLines;
  return Status::Ok();
}

Status JsonReader::InvalidJsonError(size_t begin, size_t end, const json::parse_error& e) const {
  // e.byte counts from 1 and points just past the byte that failed.
  size_t failed = begin + (e.byte > 0 ? e.byte - 1 : 0);
  if (failed > end) failed = end;
  int64_t line = line_;
  int64_t line_start = line_start_;
  for (size_t i = pos_; i < failed; ++i) {
    if (buf_.data()[i] == '\n') {
      ++line;
      line_start = static_cast<int64_t>(i) + 1;
    }
  }
  std::string what = e.what();
  // nlohmann's text repeats a position relative to the record; keep its reason only.
  size_t column_word = what.find("column ");
  size_t colon =
      column_word == std::string::npos ? std::string::npos : what.find(": ", column_word);
  std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
  return ErrorAt(line, static_cast<int64_t>(failed) - line_start + 1, "invalid JSON: " + reason);
}

Status JsonReader::AddRecord(size_t begin, size_t end, RowChunk* chunk) {
  const char* d = buf_.data();
  json record;
  try {
    record = json::parse(d + begin, d + end);
  } catch (const json::parse_error& e) {
    return InvalidJsonError(begin, end, e);
  }
  if (!record.is_object()) {
    return ErrorAt(line_, ColumnAt(begin),
                   std::string("a record must be a JSON object, found ") + record.type_name());
  }
  ByteBuffer& storage = chunk->storage;
  for (const auto& [key, value] : record.items()) {
    auto [it, inserted] = column_index_.try_emplace(key, columns_.size());
    if (inserted) columns_.push_back(key);
    PendingCell cell{rows_, it->second, storage.size(), 0, false};
    char number[32];
    std::string text;
    std::string_view view;
    switch (value.type()) {
      case json::value_t::null:
        cell.null = true;
        break;
      case json::value_t::string:
        view = value.get_ref<const std::string&>();
        cell.null = IsNullToken(view);
        break;
      case json::value_t::boolean:
        view = value.get<bool>() ? "true" : "false";
        break;
      case json::value_t::number_integer: {
        auto r = std::to_chars(number, number + sizeof number, value.get<int64_t>());
        view = std::string_view(number, static_cast<size_t>(r.ptr - number));
        break;
      }
      case json::value_t::number_unsigned: {
        auto r = std::to_chars(number, number + sizeof number, value.get<uint64_t>());
        view = std::string_view(number, static_cast<size_t>(r.ptr - number));
        break;
      }
      default:  // floats (shortest round-trip form), nested objects and arrays as JSON text
        text = value.dump();
        view = text;
        break;
    }
    storage.append(view.data(), view.size());
    cell.size = view.size();
    pending_.push_back(cell);
  }
  chunk->lines.push_back(line_);
  ++rows_;
  return Status::Ok();
}

Result<Scan> JsonReader::ScanValue(size_t begin, size_t* end) const {
  const char* d = buf_.data();
  const size_t n = buf_.size();
  size_t p = begin;
  if (d[p] == '{' || d[p] == '[' || d[p] == '"') {
    int depth = 0;
    bool in_string = false;
    for (; p < n; ++p) {
      char c = d[p];
      if (in_string) {
        if (c == '\\') {
          ++p;
        } else if (c == '"') {
          in_string = false;
          if (depth == 0) {
            *end = p + 1;
            return Scan::kComplete;
          }
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          *end = p + 1;
          return Scan::kComplete;
        }
      }
    }
    return Scan::kNeedMore;
  }
  while (p < n && d[p] != ',' && d[p] != ']' && d[p] != '}' && !IsJsonSpace(d[p])) ++p;
  if (p >= n && !eof_) return Scan::kNeedMore;
  *end = p;
  return Scan::kComplete;
}

Result<bool> JsonReader::NextLines(RowChunk* chunk) {
  while (rows_ < options_.chunk_rows && chunk->storage.size() < options_.chunk_bytes) {
    const char* d = buf_.data();
    const char* nl = static_cast<const char*>(std::memchr(d + pos_, '\n', buf_.size() - pos_));
    if (nl == nullptr && !eof_) {
      CAIRN_RETURN_IF_ERROR(FillMore());
      continue;
    }
    if (nl == nullptr && pos_ >= buf_.size()) break;
    size_t line_end = nl != nullptr ? static_cast<size_t>(nl - d) : buf_.size();
    size_t begin = pos_;
    while (begin < line_end && IsJsonSpace(d[begin])) ++begin;
    if (begin < line_end) CAIRN_RETURN_IF_ERROR(AddRecord(pos_, line_end, chunk));
    Advance(nl != nullptr ? line_end + 1 : line_end);
  }
  return rows_ > 0;
}

Result<bool> JsonReader::NextArray(RowChunk* chunk) {
  while (rows_ < options_.chunk_rows && chunk->storage.size() < options_.chunk_bytes) {
    while (pos_ < buf_.size() && IsJsonSpace(buf_.data()[pos_])) Advance(pos_ + 1);
    if (pos_ >= buf_.size()) {
      if (!eof_) {
        CAIRN_RETURN_IF_ERROR(FillMore());
        continue;
      }
      if (array_state_ != ArrayState::kDone) {
        return ErrorAt(line_, ColumnAt(pos_),
                       "unexpected end of file: the JSON array is not closed (expected ']')");
      }
      break;
    }
    const char c = buf_.data()[pos_];
    switch (array_state_) {
      case ArrayState::kBeforeArray:
        if (c != '[') {
          return ErrorAt(line_, ColumnAt(pos_), "expected '[' to open a JSON array of records");
        }
        Advance(pos_ + 1);
        array_state_ = ArrayState::kFirstElement;
        break;
      case ArrayState::kFirstElement:
      case ArrayState::kElement: {
        if (c == ']' && array_state_ == ArrayState::kFirstElement) {
          Advance(pos_ + 1);
          array_state_ = ArrayState::kDone;
          break;
        }
        size_t end = 0;
        CAIRN_ASSIGN_OR_RETURN(Scan scan, ScanValue(pos_, &end));
        if (scan == Scan::kNeedMore) {
          if (!eof_) {
            CAIRN_RETURN_IF_ERROR(FillMore());
            break;
          }
          end = buf_.size();  // cut short: the parser names what is missing and where
        }
        CAIRN_RETURN_IF_ERROR(AddRecord(pos_, end, chunk));
        Advance(end);
        array_state_ = ArrayState::kAfterElement;
        break;
      }
      case ArrayState::kAfterElement:
        if (c != ',' && c != ']') {
          return ErrorAt(line_, ColumnAt(pos_), "expected ',' or ']' after an array element");
        }
        Advance(pos_ + 1);
        array_state_ = c == ',' ? ArrayState::kElement : ArrayState::kDone;
        break;
      case ArrayState::kDone:
        return ErrorAt(line_, ColumnAt(pos_), "unexpected data after the end of the JSON array");
    }
  }
  return rows_ > 0;
}

void JsonReader::Finish(RowChunk* chunk) {
  const size_t ncols = columns_.size();
  chunk->num_rows = rows_;
  chunk->num_columns = ncols;
  chunk->cells.assign(rows_ * ncols, std::string_view());
  chunk->nulls.assign(rows_ * ncols, 1);  // keys a record lacks are null
  const char* base = chunk->storage.data();
  for (const PendingCell& cell : pending_) {
    size_t i = cell.row * ncols + cell.column;
    chunk->cells[i] = std::string_view(base + cell.offset, cell.size);
    chunk->nulls[i] = cell.null ? 1 : 0;
  }
}

Result<bool> JsonReader::Next(RowChunk* chunk) {
  chunk->Clear();
  pending_.clear();
  rows_ = 0;
  Result<bool> got = format_ == Format::kJsonArray ? NextArray(chunk) : NextLines(chunk);
  if (!got.ok()) return got;
  Finish(chunk);
  return got;
}

}  // namespace

Result<std::unique_ptr<TableReader>> OpenJsonReader(const std::filesystem::path& path,
                                                    std::optional<Format> format,
                                                    const ReaderOptions& options,
                                                    std::unique_ptr<ByteSource> source) {
  auto reader = std::make_unique<JsonReader>(path, format.value_or(Format::kJsonLines), options,
                                             std::move(source));
  CAIRN_RETURN_IF_ERROR(reader->Start(!format.has_value()));
  return std::unique_ptr<TableReader>(std::move(reader));
}

}  // namespace cairn::data
