// Per-column type inference over the text cells of RowChunks: each column gets
// the narrowest type that accepts all its non-null cells (see docs/data.md,
// "Type inference"), with counts of nulls, NaNs and invalid UTF-8 cells.
// A ColumnTypeInferrer is single-threaded; infer chunks on several threads
// with one inferrer each and Merge() them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/table_reader.h"

namespace cairn::data {

enum class ColumnType { kEmpty, kBool, kInt, kFloat, kTimestamp, kString };
const char* ColumnTypeName(ColumnType type);

// What a single non-null cell looks like on its own.
enum class CellKind { kBool, kInt, kFloat, kTimestamp, kString };
CellKind ClassifyCell(std::string_view text);

// Cell predicates, exposed for the statistics and schema steps.
bool ParseBool(std::string_view text, bool* value);  // true/false/True/False/TRUE/FALSE
inline bool ParseInt(std::string_view text, int64_t* value);
inline bool ParseFloat(std::string_view text, double* value);
// ISO 8601 date or date-time: 2024-01-31, 2024-01-31T12:34[:56[.123]], 'T' or
// ' ', then optionally Z, +hh:mm, +hhmm or +hh. Fields are range-checked.
bool IsTimestamp(std::string_view text);
// "NaN" spelled any case: a float NaN in numeric columns, a null elsewhere.
bool IsNanToken(std::string_view text);

struct ColumnInference {
  ColumnType type = ColumnType::kEmpty;
  // An integer column holding only 0 and 1: the schema step may call it boolean.
  bool looks_boolean = false;
  int64_t values = 0;        // non-null cells, NaNs of float columns included
  int64_t nulls = 0;         // null cells (NaN tokens count here unless the column is float)
  int64_t nans = 0;          // NaN cells of a float column
  int64_t invalid_utf8 = 0;  // non-null cells that are not valid UTF-8
};

// ---- Number parsing (inline: it is the innermost step of the statistics) ----

namespace number_internal {

// from_chars for what the fast paths below do not take (in the .cc, so that
// <charconv> stays out of this header).
bool ParseIntSlow(std::string_view t, int64_t* value);
bool ParseFloatSlow(std::string_view t, double* value);

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

}  // namespace number_internal

inline bool ParseInt(std::string_view t, int64_t* value) {
  const bool plus = !t.empty() && t[0] == '+';  // from_chars takes '-' only
  if (plus) t.remove_prefix(1);
  if (t.empty() || (plus && t[0] == '-')) return false;
  // Up to 18 digits cannot overflow int64: the common case, without from_chars.
  const bool minus = t[0] == '-';
  const size_t first = minus ? 1 : 0;
  if (t.size() - first >= 1 && t.size() - first <= 18) {
    int64_t v = 0;
    size_t i = first;
    for (uint64_t eight; i + 8 <= t.size() && number_internal::EightDigits(t.data() + i, &eight);
         i += 8) {
      v = v * 100000000 + static_cast<int64_t>(eight);
    }
    for (uint32_t four; i + 4 <= t.size() && number_internal::FourDigits(t.data() + i, &four);
         i += 4) {
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
  return number_internal::ParseIntSlow(t, value);
}

namespace number_internal {

// Powers of ten that are exact doubles (Clinger's fast path scales by them).
inline constexpr double kExactPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                         1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// Clinger's fast path: a decimal of at most 19 digits whose digits fit in 53
// bits, scaled by 10^e with |e| <= 22, is exactly one correctly rounded
// multiplication or division of two exact doubles, so it equals what
// from_chars returns. Anything else (or anything unusual) returns false and
// goes to from_chars.
inline bool FastDecimal(std::string_view t, double* value) {
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
  d = exponent < 0 ? d / kExactPow10[-exponent] : d * kExactPow10[exponent];
  *value = negative ? -d : d;
  return true;
}

}  // namespace number_internal

inline bool ParseFloat(std::string_view t, double* value) {
  const bool plus = !t.empty() && t[0] == '+';
  if (plus) t.remove_prefix(1);
  if (t.empty() || (plus && t[0] == '-')) return false;
  if (number_internal::FastDecimal(t, value)) return true;
  return number_internal::ParseFloatSlow(t, value);
}

class ColumnTypeInferrer {
 public:
  void Add(std::string_view text, bool is_null) {
    // A string column so far: only the UTF-8 check is left, and an ASCII cell
    // of up to 16 bytes needs none (inline, from two fixed-size loads).
    if (!is_null && strings_ > 0 && text.size() <= 16) {
      uint64_t bits = 0;
      const char* p = text.data();
      const size_t n = text.size();
      if (n >= 8) {
        uint64_t a, b;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + n - 8, 8);
        bits = a | b;
      } else if (n >= 4) {
        uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        bits = a | b;
      } else {
        for (size_t i = 0; i < n; ++i) bits |= static_cast<unsigned char>(p[i]);
      }
      if ((bits & 0x8080808080808080ULL) == 0) {
        ++values_;
        return;
      }
    }
    AddSlow(text, is_null);
  }
  void AddNulls(int64_t count) { nulls_ += count; }
  // A string column so far: every further non-null cell only counts, and
  // AddAsciiStrings(n) is Add() of n non-null ASCII cells.
  bool is_string_column() const { return strings_ != 0; }
  void AddAsciiStrings(int64_t n) { values_ += n; }
  // For a loop over parsed numbers: while the state stays as it is, what
  // AddParsedNumber of a non-NaN value and AddParsedInt do is only counting —
  // kSettledFloat: every such number adds to values and floats (a float
  // column so far); kSettledInt: every AddParsedInt adds to values and ints
  // (an integer column that is not 0/1 only). AddSettled adds n of them at
  // once; a caller defers them only while it makes no other call.
  enum Settled { kNotSettled, kSettledFloat, kSettledInt };
  Settled settled() const {
    if (strings_ != 0) return kNotSettled;
    if (floats_ > 0 && bools_ + timestamps_ == 0) return kSettledFloat;
    if (floats_ == 0 && ints_ > 0 && !ints_binary_) return kSettledInt;
    return kNotSettled;
  }
  void AddSettled(Settled kind, int64_t n) {
    values_ += n;
    if (kind == kSettledFloat) floats_ += n;
    if (kind == kSettledInt) ints_ += n;
  }
  // Add() for a non-null cell that ParseFloat already read as `value`: the
  // same counts without parsing the cell again (the statistics parse it anyway).
  // Inline for a column that is a float column so far, the common case.
  void AddParsedNumber(std::string_view text, double value) {
    if (strings_ == 0 && floats_ > 0 && bools_ + timestamps_ == 0 && value == value) {
      ++values_;
      ++floats_;
      return;
    }
    AddParsedNumberSlow(text, value);
  }
  // Add() for a non-null cell that ParseInt already read as `value`.
  void AddParsedInt(std::string_view text, int64_t /*value*/) {
    ++values_;
    if (strings_ > 0) return;
    if (floats_ > 0 &&
        bools_ + timestamps_ == 0) {  // as AddParsedNumber: an integer is a float here
      ++floats_;
      return;
    }
    ++ints_;
    if (ints_binary_ && !(text.size() == 1 && (text[0] == '0' || text[0] == '1'))) {
      ints_binary_ = false;
    }
  }
  void AddColumn(const RowChunk& chunk, size_t column);
  void Merge(const ColumnTypeInferrer& other);
  ColumnInference Finish() const;

 private:
  int64_t values_ = 0;
  int64_t nulls_ = 0;      // nulls other than NaN tokens
  int64_t nan_cells_ = 0;  // NaN tokens and non-null cells that parse to NaN
  int64_t invalid_utf8_ = 0;
  int64_t bools_ = 0, ints_ = 0, floats_ = 0, timestamps_ = 0, strings_ = 0;
  bool ints_binary_ = true;  // every integer seen is 0 or 1

  void AddSlow(std::string_view text, bool is_null);
  void AddParsedNumberSlow(std::string_view text, double value);
};

// Reads the rest of `reader` and infers every column. Memory is one chunk.
Result<std::vector<ColumnInference>> InferColumnTypes(TableReader& reader);

}  // namespace cairn::data
