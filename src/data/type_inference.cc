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

namespace {

// The value of the eight ASCII digits at p (p[0] the most significant), or
// false when one of the bytes is not a digit: one load and three multiplies
// (SWAR) instead of eight dependent steps.
inline bool EightDigits(const char* p, uint64_t* out) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  const uint64_t digits = w - 0x3030303030303030ULL;
  // A byte below '0' sets its top bit in `digits`, one above '9' in w + 0x46...
  if (((digits | (w + 0x4646464646464646ULL)) & 0x8080808080808080ULL) != 0) return false;
  uint64_t v = digits * 10 + (digits >> 8);  // pairs of digits
  v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
      32;
  *out = v;
  return true;
}

// FourDigits: EightDigits for the four ASCII digits at p (a number's usual
// integer part or fraction is shorter than eight but often four or more).
inline bool FourDigits(const char* p, uint32_t* out) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  const uint32_t digits = w - 0x30303030u;
  if (((digits | (w + 0x46464646u)) & 0x80808080u) != 0) return false;
  const uint32_t pairs = digits * 10 + (digits >> 8);  // bytes 0 and 2: two-digit values
  *out = (pairs & 0xFF) * 100 + ((pairs >> 16) & 0xFF);
  return true;
}

}  // namespace

bool ParseInt(std::string_view t, int64_t* value) {
  const bool plus = !t.empty() && t[0] == '+';  // from_chars takes '-' only
  if (plus) t.remove_prefix(1);
  if (t.empty() || (plus && t[0] == '-')) return false;
  // Up to 18 digits cannot overflow int64: the common case, without from_chars.
  const bool minus = t[0] == '-';
  const size_t first = minus ? 1 : 0;
  if (t.size() - first >= 1 && t.size() - first <= 18) {
    int64_t v = 0;
    size_t i = first;
    for (uint64_t eight; i + 8 <= t.size() && EightDigits(t.data() + i, &eight); i += 8) {
      v = v * 100000000 + static_cast<int64_t>(eight);
    }
    for (uint32_t four; i + 4 <= t.size() && FourDigits(t.data() + i, &four); i += 4) {
      v = v * 10000 + static_cast<int64_t>(four);
    }
    for (; i < t.size(); ++i) {
      unsigned digit = static_cast<unsigned>(t[i] - '0');
      if (digit > 9) return false;
      v = v * 10 + static_cast<int64_t>(digit);
    }
    *value = minus ? -v : v;
    return true;
  }
  auto r = std::from_chars(t.data(), t.data() + t.size(), *value);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

namespace {

// Clinger's fast path: a decimal of at most 19 digits whose digits fit in 53
// bits, scaled by 10^e with |e| <= 22, is exactly one correctly rounded
// multiplication or division of two exact doubles, so it equals what
// from_chars returns. Anything else (or anything unusual) returns false and
// goes to from_chars.
bool FastDecimal(std::string_view t, double* value) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* p = t.data();
  const char* end = p + t.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  int digits = 0;
  // Integer parts are short in practice (an eight-digit step would mostly
  // fail on the '.'): four at a time, then digit by digit. Long fractions
  // take eight at a time, then four. (Past 19 digits the mantissa may wrap:
  // such input is rejected below anyway.)
  for (uint32_t four; end - p >= 4 && FourDigits(p, &four); p += 4, digits += 4) {
    mantissa = mantissa * 10000 + four;
  }
  while (p < end && static_cast<unsigned>(*p - '0') <= 9) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    ++p, ++digits;
  }
  int exponent = 0;
  if (p < end && *p == '.') {
    ++p;
    const char* fraction = p;
    for (uint64_t eight; end - p >= 8 && EightDigits(p, &eight); p += 8, digits += 8) {
      mantissa = mantissa * 100000000 + eight;
    }
    for (uint32_t four; end - p >= 4 && FourDigits(p, &four); p += 4, digits += 4) {
      mantissa = mantissa * 10000 + four;
    }
    while (p < end && static_cast<unsigned>(*p - '0') <= 9) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      ++p, ++digits;
    }
    exponent = -static_cast<int>(p - fraction);
  }
  if (digits == 0 || digits > 19) return false;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    const bool minus = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+')) ++p;
    int e = 0, e_digits = 0;
    while (p < end && static_cast<unsigned>(*p - '0') <= 9 && e_digits < 4) {
      e = e * 10 + (*p - '0');
      ++p, ++e_digits;
    }
    if (e_digits == 0) return false;
    exponent += minus ? -e : e;
  }
  if (p != end || mantissa > (uint64_t{1} << 53) || exponent < -22 || exponent > 22) return false;
  double d = static_cast<double>(mantissa);
  d = exponent < 0 ? d / kPow10[-exponent] : d * kPow10[exponent];
  *value = negative ? -d : d;
  return true;
}

}  // namespace

bool ParseFloat(std::string_view t, double* value) {
  const bool plus = !t.empty() && t[0] == '+';
  if (plus) t.remove_prefix(1);
  if (t.empty() || (plus && t[0] == '-')) return false;
  if (FastDecimal(t, value)) return true;
  auto r = std::from_chars(t.data(), t.data() + t.size(), *value);
  // Out of range is still a float (it saturates to inf or 0); junk after it is not.
  return (r.ec == std::errc() || r.ec == std::errc::result_out_of_range) &&
         r.ptr == t.data() + t.size();
}

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
