#include "data/type_inference.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "data/utf8.h"

namespace cairn::data {

const char* ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kEmpty:
      return "empty";
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kInt:
      return "int";
    case ColumnType::kFloat:
      return "float";
    case ColumnType::kTimestamp:
      return "timestamp";
    case ColumnType::kString:
      return "string";
  }
  return "unknown";
}

bool ParseBool(std::string_view t, bool* value) {
  if (t == "true" || t == "True" || t == "TRUE") {
    *value = true;
    return true;
  }
  if (t == "false" || t == "False" || t == "FALSE") {
    *value = false;
    return true;
  }
  return false;
}

namespace number_internal {

bool ParseIntSlow(std::string_view t, int64_t* value) {
  auto r = std::from_chars(t.data(), t.data() + t.size(), *value);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

bool ParseFloatSlow(std::string_view t, double* value) {
  auto r = std::from_chars(t.data(), t.data() + t.size(), *value);
  // Out of range is still a float (it saturates to inf or 0); junk after it is not.
  return (r.ec == std::errc() || r.ec == std::errc::result_out_of_range) &&
         r.ptr == t.data() + t.size();
}

}  // namespace number_internal

bool IsNanToken(std::string_view t) {
  return t.size() == 3 && (t[0] | 0x20) == 'n' && (t[1] | 0x20) == 'a' && (t[2] | 0x20) == 'n';
}

namespace {

// ASCII (hence valid UTF-8) cells skip the validator; short cells in one or two loads.
inline bool IsValidUtf8Fast(std::string_view t) {
  if (t.empty()) return true;
  if (t.size() <= 16) {  // fixed-size (overlapping) loads: a variable-length copy costs a call
    uint64_t a = 0, b = 0;
    if (t.size() >= 8) {
      std::memcpy(&a, t.data(), 8);
      std::memcpy(&b, t.data() + t.size() - 8, 8);
    } else if (t.size() >= 4) {
      uint32_t head, tail;
      std::memcpy(&head, t.data(), 4);
      std::memcpy(&tail, t.data() + t.size() - 4, 4);
      a = head | tail;
    } else {
      for (char c : t) a |= static_cast<unsigned char>(c);
    }
    if (((a | b) & 0x8080808080808080ULL) == 0) return true;
  }
  return IsValidUtf8(t);
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits at t[*pos].
bool Digits(std::string_view t, size_t* pos, size_t width, int* out) {
  if (*pos + width > t.size()) return false;
  int v = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = t[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += width;
  *out = v;
  return true;
}

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

bool IsTimestamp(std::string_view t) {
  size_t p = 0;
  int year, month, day;
  if (!Digits(t, &p, 4, &year) || p >= t.size() || t[p++] != '-') return false;
  if (!Digits(t, &p, 2, &month) || p >= t.size() || t[p++] != '-') return false;
  if (!Digits(t, &p, 2, &day)) return false;
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return false;
  if (p == t.size()) return true;
  if (t[p] != 'T' && t[p] != ' ') return false;
  ++p;
  int hour, minute, second = 0;
  if (!Digits(t, &p, 2, &hour) || p >= t.size() || t[p++] != ':') return false;
  if (!Digits(t, &p, 2, &minute)) return false;
  if (p < t.size() && t[p] == ':') {
    ++p;
    if (!Digits(t, &p, 2, &second)) return false;
    if (p < t.size() && (t[p] == '.' || t[p] == ',')) {
      ++p;
      size_t start = p;
      while (p < t.size() && IsDigit(t[p])) ++p;
      if (p == start) return false;
    }
  }
  if (hour > 23 || minute > 59 || second > 60) return false;  // 60: a leap second
  if (p == t.size()) return true;
  if (t[p] == 'Z' || t[p] == 'z') return p + 1 == t.size();
  if (t[p] != '+' && t[p] != '-') return false;
  ++p;
  int off_hour, off_minute = 0;
  if (!Digits(t, &p, 2, &off_hour)) return false;
  if (p < t.size() && t[p] == ':') ++p;
  if (p < t.size() && !Digits(t, &p, 2, &off_minute)) return false;
  return p == t.size() && off_hour <= 23 && off_minute <= 59;
}

CellKind ClassifyCell(std::string_view t) {
  if (t.empty()) return CellKind::kString;
  char c = t[0];
  if (IsDigit(c) || c == '-' || c == '+' || c == '.') {
    int64_t i;
    if (ParseInt(t, &i)) return CellKind::kInt;
    double d;
    if (ParseFloat(t, &d)) return CellKind::kFloat;
    if (IsTimestamp(t)) return CellKind::kTimestamp;
    return CellKind::kString;
  }
  bool b;
  if (ParseBool(t, &b)) return CellKind::kBool;
  // from_chars also reads inf/infinity/nan spelled any case.
  double d;
  if ((c | 0x20) == 'i' || (c | 0x20) == 'n') {
    if (ParseFloat(t, &d)) return CellKind::kFloat;
  }
  return CellKind::kString;
}

void ColumnTypeInferrer::AddSlow(std::string_view text, bool is_null) {
  if (is_null) {
    if (IsNanToken(text)) {
      ++nan_cells_;
    } else {
      ++nulls_;
    }
    return;
  }
  ++values_;
  if (strings_ > 0) {  // nothing widens past string; only UTF-8 is left to check
    if (!IsValidUtf8Fast(text)) ++invalid_utf8_;
    return;
  }
  // A float column stays float while its cells parse as floats: skip the
  // integer attempt. (Numbers, booleans and timestamps are ASCII: valid UTF-8.)
  double number;
  if (floats_ > 0 && bools_ + timestamps_ == 0 && ParseFloat(text, &number)) {
    ++floats_;
    if (std::isnan(number)) ++nan_cells_, --values_;  // counted with the NaN tokens
    return;
  }
  switch (ClassifyCell(text)) {
    case CellKind::kBool:
      ++bools_;
      break;
    case CellKind::kInt:
      ++ints_;
      if (ints_binary_ && !(text == "0" || text == "1")) ints_binary_ = false;
      break;
    case CellKind::kFloat:
      ++floats_;
      if (IsNanToken(text)) ++nan_cells_, --values_;
      break;
    case CellKind::kTimestamp:
      ++timestamps_;
      break;
    case CellKind::kString:
      ++strings_;
      if (!IsValidUtf8Fast(text)) ++invalid_utf8_;
      break;
  }
}

void ColumnTypeInferrer::AddParsedNumberSlow(std::string_view text, double value) {
  ++values_;
  if (strings_ > 0) return;  // numbers are ASCII: valid UTF-8
  if (floats_ > 0 && bools_ + timestamps_ == 0) {
    ++floats_;
    if (std::isnan(value)) ++nan_cells_, --values_;
    return;
  }
  // ClassifyCell's order: an integer when ParseInt accepts it, a float otherwise.
  int64_t integer;
  if (ParseInt(text, &integer)) {
    ++ints_;
    if (ints_binary_ && !(text == "0" || text == "1")) ints_binary_ = false;
  } else {
    ++floats_;
    if (IsNanToken(text)) ++nan_cells_, --values_;
  }
}

void ColumnTypeInferrer::AddColumn(const RowChunk& chunk, size_t column) {
  if (column >= chunk.num_columns) {  // a JSON column first seen in a later chunk
    nulls_ += static_cast<int64_t>(chunk.num_rows);
    return;
  }
  for (size_t row = 0; row < chunk.num_rows; ++row) {
    size_t i = row * chunk.num_columns + column;
    Add(chunk.cells[i], chunk.nulls[i] != 0);
  }
}

void ColumnTypeInferrer::Merge(const ColumnTypeInferrer& o) {
  values_ += o.values_;
  nulls_ += o.nulls_;
  nan_cells_ += o.nan_cells_;
  invalid_utf8_ += o.invalid_utf8_;
  bools_ += o.bools_;
  ints_ += o.ints_;
  floats_ += o.floats_;
  timestamps_ += o.timestamps_;
  strings_ += o.strings_;
  ints_binary_ = ints_binary_ && o.ints_binary_;
}

ColumnInference ColumnTypeInferrer::Finish() const {
  ColumnInference out;
  out.values = values_;
  out.nulls = nulls_;
  out.invalid_utf8 = invalid_utf8_;
  const bool numeric = ints_ + floats_ > 0;
  const bool others = bools_ + timestamps_ + strings_ > 0;
  if (strings_ > 0) {
    out.type = ColumnType::kString;
  } else if (numeric && !others) {
    // NaN is a float value: it widens an integer column to float.
    out.type = floats_ > 0 || nan_cells_ > 0 ? ColumnType::kFloat : ColumnType::kInt;
    out.looks_boolean = out.type == ColumnType::kInt && ints_binary_;
  } else if (bools_ > 0 && timestamps_ == 0 && (floats_ == 0 && (ints_ == 0 || ints_binary_))) {
    out.type = ColumnType::kBool;  // true/false mixed with 0/1
  } else if (timestamps_ > 0 && bools_ == 0 && !numeric) {
    out.type = ColumnType::kTimestamp;
  } else if (others || numeric) {
    out.type = ColumnType::kString;
  } else {
    // Nothing but nulls; a column of only NaN is a float column of NaNs.
    out.type = nan_cells_ > 0 ? ColumnType::kFloat : ColumnType::kEmpty;
  }
  if (out.type == ColumnType::kFloat) {
    out.nans = nan_cells_;
    out.values += nan_cells_;
  } else {
    out.nulls += nan_cells_;
  }
  return out;
}

Result<std::vector<ColumnInference>> InferColumnTypes(TableReader& reader) {
  std::vector<ColumnTypeInferrer> inferrers;
  int64_t rows_before = 0;
  RowChunk chunk;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
    if (!more) break;
    // Columns can appear late in JSON: earlier rows were null for them.
    while (inferrers.size() < reader.columns().size()) {
      inferrers.emplace_back().AddNulls(rows_before);
    }
    for (size_t col = 0; col < inferrers.size(); ++col) inferrers[col].AddColumn(chunk, col);
    rows_before += static_cast<int64_t>(chunk.num_rows);
  }
  while (inferrers.size() < reader.columns().size()) {
    inferrers.emplace_back().AddNulls(rows_before);
  }
  std::vector<ColumnInference> out;
  out.reserve(inferrers.size());
  for (const auto& inferrer : inferrers) out.push_back(inferrer.Finish());
  return out;
}

}  // namespace cairn::data
