// Number parsing for cells of a RowChunk's storage (the statistics' inner
// loop): ParseIntPadded and ParseFloatPadded return exactly what ParseInt and
// ParseFloat (data/type_inference.h) return, faster, by reading up to 8 bytes
// past a cell's end (ByteBuffer keeps kReadPadding readable bytes past its
// end).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "data/type_inference.h"

namespace cairn::data {

// A number's digit runs are found and converted a word at a time, with no
// loop whose trip count varies with the number's length (those loops'
// mispredictions were most of the parsing time). Anything unusual takes the
// plain parsers.

namespace number_internal {

// Bit 7 of each byte of `w` (p[0] in the low byte) set where the byte is not
// an ASCII digit, and in every byte from `size` on (size < 8). Lower bytes
// being digits, no borrow or carry reaches the first non-digit's byte, so its
// bit is exact (later bytes may be wrong, and are not used).
inline uint64_t NonDigits(uint64_t w, size_t size) {
  uint64_t bits =
      ((w - 0x3030303030303030ULL) | (w + 0x4646464646464646ULL)) & 0x8080808080808080ULL;
  if (size < 8) bits |= 0x8080808080808080ULL << (8 * size);
  return bits;
}
// How many leading bytes NonDigits found to be digits (0..8).
inline size_t DigitRun(uint64_t non_digits) {
  return non_digits == 0 ? 8 : static_cast<size_t>(__builtin_ctzll(non_digits)) / 8;
}
// The value of the first `n` (1..8) ASCII digits of `w` (p[0] the most significant).
inline uint64_t LeadingDigitsValue(uint64_t w, size_t n) {
  // Shifted up, the digits end at the top byte and zero digits fill the low bytes.
  const uint64_t digits = (w - 0x3030303030303030ULL) << (8 * (8 - n));
  uint64_t v = digits * 10 + (digits >> 8);  // pairs of digits
  return (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
          (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
         32;
}
inline uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline constexpr uint64_t kPow10Int[] = {
    1,        10,        100,        1000,           10000,           100000,          1000000,
    10000000, 100000000, 1000000000, 10000000000ULL, 100000000000ULL, 1000000000000ULL};

// The digits of `t` after an optional '-' (at *p, *n bytes); true when there was one.
inline bool SplitMinus(std::string_view t, const char** p, size_t* n) {
  const bool minus = !t.empty() && t[0] == '-';
  *p = t.data() + minus;
  *n = t.size() - minus;
  return minus;
}

}  // namespace number_internal

inline bool ParseIntPadded(std::string_view t, int64_t* value) {
  using namespace number_internal;
  const char* p;
  size_t n;
  const bool minus = SplitMinus(t, &p, &n);
  if (n == 0 || n > 16) return ParseInt(t, value);
  const uint64_t w = Load8(p);
  const size_t head = n < 8 ? n : 8;
  if (DigitRun(NonDigits(w, head)) != head) return ParseInt(t, value);  // '+', or not an integer
  uint64_t v = LeadingDigitsValue(w, head);
  if (n > 8) {
    const uint64_t w2 = Load8(p + 8);
    if (DigitRun(NonDigits(w2, n - 8)) != n - 8) return false;
    v = v * kPow10Int[n - 8] + LeadingDigitsValue(w2, n - 8);
  }
  *value = minus ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

// ParseFloatPadded's fast path without its last step: true when it takes `t`,
// with *scaled = the value times 10^*decimals (an exact double: the signed
// digits, times a power of ten for a positive exponent) and *decimals in
// 0..22. The value is *scaled / number_internal::kExactPow10[*decimals], one correctly
// rounded division (Clinger's fast path). False for anything else (ParseFloat
// then decides). (Deferring the divisions to one loop after the cells, and
// Eisel-Lemire's multiplication instead of a division, both measured slower.)
inline bool DecimalPadded(std::string_view t, double* scaled, int* decimals) {
  using namespace number_internal;
  const char* p;
  size_t n;
  const bool minus = SplitMinus(t, &p, &n);
  if (n == 0) return false;
  // The integer part: 1..7 digits, then the end or a '.'.
  const uint64_t w = Load8(p);
  const size_t int_digits = DigitRun(NonDigits(w, n));
  if (int_digits == 0 || int_digits == 8) return false;
  uint64_t mantissa = LeadingDigitsValue(w, int_digits);
  int exponent = 0;
  if (int_digits < n) {
    if (p[int_digits] != '.') return false;
    // The fraction: 0..7 digits, then the end or an exponent.
    const char* q = p + int_digits + 1;
    const size_t rest = n - int_digits - 1;
    const uint64_t w2 = Load8(q);
    const size_t frac_digits = DigitRun(NonDigits(w2, rest));
    if (frac_digits == 8) return false;
    if (frac_digits > 0) {
      mantissa = mantissa * kPow10Int[frac_digits] + LeadingDigitsValue(w2, frac_digits);
    }
    exponent = -static_cast<int>(frac_digits);
    if (frac_digits < rest) {
      // An exponent: e or E, an optional sign, 1..3 digits, the end.
      const char* e = q + frac_digits;
      const char* end = p + n;
      if ((*e | 0x20) != 'e') return false;
      ++e;
      const bool e_minus = e < end && *e == '-';
      if (e < end && (*e == '-' || *e == '+')) ++e;
      const size_t e_size = static_cast<size_t>(end - e);
      if (e_size == 0 || e_size > 3) return false;
      const uint64_t we = Load8(e);
      if (DigitRun(NonDigits(we, e_size)) != e_size) return false;
      const int e_value = static_cast<int>(LeadingDigitsValue(we, e_size));
      exponent += e_minus ? -e_value : e_value;
    }
  }
  // At most 14 digits: the mantissa is exact as a double.
  if (exponent < -22 || exponent > 22) return false;
  double d = static_cast<double>(mantissa);
  if (exponent > 0) d *= kExactPow10[exponent];  // one correctly rounded multiplication
  *scaled = minus ? -d : d;
  *decimals = exponent < 0 ? -exponent : 0;
  return true;
}

inline bool ParseFloatPadded(std::string_view t, double* value) {
  int decimals;
  if (!DecimalPadded(t, value, &decimals)) return ParseFloat(t, value);
  if (decimals > 0) *value /= number_internal::kExactPow10[decimals];
  return true;
}

}  // namespace cairn::data
