#include "data/table_reader.h"

#include <algorithm>
#include <cstring>

#include "data/byte_source.h"
#include "data/csv_reader.h"
#include "data/json_reader.h"

namespace cairn::data {

const char* FormatName(Format format) {
  switch (format) {
    case Format::kCsv:
      return "csv";
    case Format::kJsonLines:
      return "jsonl";
    case Format::kJsonArray:
      return "json";
  }
  return "unknown";
}

void ByteBuffer::reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  size_t grown = std::max(capacity, capacity_ + capacity_ / 2);
  std::unique_ptr<char[]> bigger(new char[grown + kReadPadding]);  // uninitialized on purpose
  std::memset(bigger.get() + grown, 0, kReadPadding);
  if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  capacity_ = grown;
}

char* ByteBuffer::grow(size_t n) {
  reserve(size_ + n);
  return data_.get() + size_;
}

void ByteBuffer::resize(size_t n) {
  reserve(n);
  size_ = n;
}

void ByteBuffer::append(const char* bytes, size_t n) {
  if (n == 0) return;
  std::memcpy(grow(n), bytes, n);
  size_ += n;
}

void RowChunk::Clear() {
  num_rows = 0;
  num_columns = 0;
  cells.clear();
  nulls.clear();
  lines.clear();
  storage.clear();
}

Status TableReader::ErrorAt(int64_t line, int64_t column, const std::string& message) const {
  return InvalidParameter(path_.string() + ":" + std::to_string(line) + ":" +
                          std::to_string(column) + ": " + message);
}

void TableReader::PrepareNullTokens() {
  null_token_lengths_ = 0;
  short_tokens_.clear();
  for (const std::string& token : options_.null_tokens) {
    if (token.size() < 64) null_token_lengths_ |= uint64_t{1} << token.size();
    if (token.size() <= 8) {
      short_tokens_.push_back({ShortWord(token), token.size()});
    }
  }
}

bool TableReader::MatchesNullToken(std::string_view text) const {
  for (const std::string& token : options_.null_tokens) {
    if (token.size() == text.size() && (text.empty() || token[0] == text[0]) &&
        std::memcmp(token.data(), text.data(), text.size()) == 0) {
      return true;
    }
  }
  return false;
}

namespace {
bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Result<std::unique_ptr<TableReader>> TableReader::Open(const std::filesystem::path& path,
                                                       const ReaderOptions& options) {
  if (options.chunk_rows == 0 || options.chunk_bytes == 0 || options.block_size == 0) {
    return InvalidParameter("chunk_rows, chunk_bytes and block_size must be positive");
  }
  if (options.chunk_bytes > (size_t{1} << 30)) {
    return InvalidParameter("chunk_bytes must be at most 1 GiB");
  }
  std::string name = path.filename().string();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);

  std::optional<Format> format = options.format;
  bool sniff_json = false;
  if (!format) {
    if (EndsWith(name, ".csv") || EndsWith(name, ".tsv") || EndsWith(name, ".txt")) {
      format = Format::kCsv;
    } else if (EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson")) {
      format = Format::kJsonLines;
    } else if (EndsWith(name, ".json")) {
      sniff_json = true;
    } else if (name.find('.') == std::string::npos) {
      // No extension at all, as a pipeline step's uri_file output
      // (outputs/<o>/<o>): JSON when the first non-blank byte opens an array
      // or an object, CSV otherwise. A foreign extension stays an error.
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> head, ByteSource::Open(path));
      char buf[4096];
      CAIRN_ASSIGN_OR_RETURN(size_t n, head->Read(buf, sizeof buf));
      size_t i = 0;
      while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')) ++i;
      if (i < n && (buf[i] == '[' || buf[i] == '{')) {
        sniff_json = true;
      } else {
        format = Format::kCsv;
      }
    } else {
      return InvalidParameter("cannot tell the format of " + path.string() +
                              " from its name: use .csv, .tsv, .txt, .jsonl, .ndjson or .json "
                              "(optionally followed by .gz), or set the format explicitly");
    }
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, ByteSource::Open(path));
  if (format == Format::kCsv) return OpenCsvReader(path, options, std::move(source));
  return OpenJsonReader(path, sniff_json ? std::nullopt : format, options, std::move(source));
}

}  // namespace cairn::data
