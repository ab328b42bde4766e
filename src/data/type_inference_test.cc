#include "data/type_inference.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>

#include "data/padded_numbers.h"
#include "data/test_util.h"

namespace cairn::data {
namespace {

// `text` in storage followed by digits and a dot, as a cell of a RowChunk is
// followed by the next cells: the padded parsers must stop at its end.
struct PaddedCell {
  explicit PaddedCell(std::string_view text)
      : bytes(std::string(text) + "12345.6789012345e6789"), view(bytes.data(), text.size()) {}
  std::string bytes;
  std::string_view view;
};

// ParseInt and ParseFloat (and their padded forms) accept exactly what
// from_chars reads whole (floats also when out of range, as infinities or
// zeros), with the same values.
void ExpectParsersMatchFromChars(const std::string& text) {
  const char* b = text.data();
  const char* e = b + text.size();
  int64_t fast_int = 0, slow_int = 0;
  auto ri = std::from_chars(b, e, slow_int);
  const bool int_ok = ri.ec == std::errc() && ri.ptr == e;
  EXPECT_EQ(ParseInt(text, &fast_int), int_ok) << text;
  if (int_ok) {
    EXPECT_EQ(fast_int, slow_int) << text;
  }
  const PaddedCell cell(text);
  int64_t padded_int = 0;
  EXPECT_EQ(ParseIntPadded(cell.view, &padded_int), int_ok) << text;
  if (int_ok) {
    EXPECT_EQ(padded_int, slow_int) << text;
  }
  double fast = 0, slow = 0;
  auto rf = std::from_chars(b, e, slow);
  const bool float_ok =
      (rf.ec == std::errc() || rf.ec == std::errc::result_out_of_range) && rf.ptr == e;
  EXPECT_EQ(ParseFloat(text, &fast), float_ok) << text;
  if (float_ok) {
    EXPECT_EQ(std::memcmp(&fast, &slow, sizeof fast), 0) << text;
  }
  double padded = 0;
  EXPECT_EQ(ParseFloatPadded(cell.view, &padded), float_ok) << text;
  if (float_ok) {
    EXPECT_EQ(std::memcmp(&padded, &slow, sizeof padded), 0) << text;
  }
}

// The eight-digits-at-a-time paths of ParseInt and ParseFloat against
// from_chars on random digit strings of every length, with a non-digit byte
// (of any value) dropped in at every position.
TEST(TypeInference, DigitBlocksMatchFromChars) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string text = trial % 3 == 0 ? "-" : "";
    const size_t digits = 1 + rng() % 24;
    for (size_t i = 0; i < digits; ++i) text += static_cast<char>('0' + rng() % 10);
    if (trial % 4 == 1) text.insert(text.size() - rng() % std::min<size_t>(digits, 12), ".");
    if (trial % 5 == 2) {
      const char junk = static_cast<char>(rng() % 256);
      text[rng() % text.size()] = junk == '+' ? '/' : junk;  // from_chars takes no '+'
    }
    ExpectParsersMatchFromChars(text);
  }
}

// Decimal shapes: digits, a dot and more digits on both sides of the fast
// paths' limits (8-digit steps, 19 digits, 2^53), with and without exponents, and
// random strings over the characters it looks at, all against from_chars.
TEST(TypeInference, DecimalShapesMatchFromChars) {
  std::mt19937_64 rng(17);
  for (size_t int_len = 0; int_len <= 18; ++int_len) {
    for (size_t frac_len = 0; frac_len <= 18; ++frac_len) {
      for (int form = 0; form < 4; ++form) {
        std::string text = form == 3 ? "-" : "";
        for (size_t i = 0; i < int_len; ++i) text += static_cast<char>('0' + rng() % 10);
        if (frac_len > 0 || form == 1) text += '.';
        for (size_t i = 0; i < frac_len; ++i) text += static_cast<char>('0' + rng() % 10);
        if (form == 2)
          text += rng() % 2 ? "e-" + std::to_string(rng() % 30) : "E+0" + std::to_string(rng() % 9);
        ExpectParsersMatchFromChars(text);
      }
    }
  }
  const std::string alphabet = "0123456789012345678901234567890123456789..eE+-x \x80\xff";
  for (int trial = 0; trial < 100000; ++trial) {
    std::string text;
    const size_t len = rng() % 21;
    for (size_t i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    if (!text.empty() && text[0] == '+') text[0] = '1';  // from_chars takes no '+'
    ExpectParsersMatchFromChars(text);
  }
}

// ParseFloat's fast path must give exactly what from_chars gives.
TEST(TypeInference, ParseFloatMatchesFromChars) {
  auto same = [](const char* text) {
    const size_t n = std::strlen(text);
    double fast = 0, slow = 0;
    const bool ok = ParseFloat(std::string_view(text, n), &fast);
    auto r = std::from_chars(text, text + n, slow);
    const bool slow_ok =
        (r.ec == std::errc() || r.ec == std::errc::result_out_of_range) && r.ptr == text + n;
    EXPECT_EQ(ok, slow_ok) << text;
    if (ok && slow_ok) {
      EXPECT_EQ(std::memcmp(&fast, &slow, sizeof fast), 0) << text;
    }
    double padded = 0;
    EXPECT_EQ(ParseFloatPadded(PaddedCell(std::string_view(text, n)).view, &padded), slow_ok)
        << text;
    if (slow_ok) {
      EXPECT_EQ(std::memcmp(&padded, &slow, sizeof padded), 0) << text;
    }
  };
  for (const char* text : {".5",
                           "5.",
                           "-.5",
                           "1e5",
                           "1E+05",
                           "00012",
                           "-0",
                           "1e0022",
                           "1.e5",
                           ".",
                           "-",
                           "e5",
                           "1e",
                           "1e+",
                           "0.1",
                           "123456789012345678901",
                           "9007199254740993",
                           "1.7976931348623157e308",
                           "2.2250738585072014e-308",
                           "1e-22",
                           "1e23",
                           "4.35",
                           "-2094.00",
                           "6.80184e+06",
                           "934.7060",
                           "123.",
                           "123.e5",
                           "1.5e",
                           "1.5e+0005",
                           "1.5E-3",
                           "1234567.1234567",
                           "12345678.5",
                           "1.12345678",
                           "-0.0",
                           "1.5e-",
                           "1e99999"}) {
    same(text);
  }
  // A leading '+' (which from_chars refuses) is taken by all of them alike.
  double plus = 0, padded_plus = 0;
  EXPECT_TRUE(ParseFloat("+5.25", &plus));
  EXPECT_TRUE(ParseFloatPadded(PaddedCell("+5.25").view, &padded_plus));
  EXPECT_EQ(plus, padded_plus);
  std::mt19937_64 rng(3);
  char buf[64];
  for (int i = 0; i < 200000; ++i) {
    const uint64_t r = rng();
    const double x = static_cast<double>(static_cast<int64_t>(r)) * 1e-9;
    switch (i % 3) {
      case 0:
        std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(r % 10), x);
        break;
      case 1:
        std::snprintf(buf, sizeof buf, "%.*g", static_cast<int>(r % 17) + 1, x);
        break;
      default:
        std::snprintf(buf, sizeof buf, "%.*e", static_cast<int>(r % 17), x);
        break;
    }
    same(buf);
  }
}

TEST(TypeInference, ClassifiesCells) {
  struct Case {
    const char* text;
    CellKind kind;
  };
  const Case cases[] = {
      {"0", CellKind::kInt},
      {"-42", CellKind::kInt},
      {"+7", CellKind::kInt},
      {"9223372036854775807", CellKind::kInt},
      {"9223372036854775808", CellKind::kFloat},  // past int64
      {"1.5", CellKind::kFloat},
      {"-.5", CellKind::kFloat},
      {"1e-3", CellKind::kFloat},
      {"1E+10", CellKind::kFloat},
      {"inf", CellKind::kFloat},
      {"-Infinity", CellKind::kFloat},
      {"nan", CellKind::kFloat},
      {"1e999", CellKind::kFloat},
      {"true", CellKind::kBool},
      {"False", CellKind::kBool},
      {"TRUE", CellKind::kBool},
      {"tRUE", CellKind::kString},
      {"yes", CellKind::kString},
      {"2024-01-31", CellKind::kTimestamp},
      {"-", CellKind::kString},
      {"+", CellKind::kString},
      {"1.2.3", CellKind::kString},
      {"12abc", CellKind::kString},
      {" 12", CellKind::kString},
      {"0x1F", CellKind::kString},
      {"", CellKind::kString},
      {"abc", CellKind::kString},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyCell(c.text), c.kind) << c.text;
  }
}

TEST(TypeInference, RecognizesIso8601Timestamps) {
  for (const char* good :
       {"2024-01-31", "2024-02-29", "2024-01-31T12:34:56Z", "2024-01-31 12:34:56",
        "2024-01-31T12:34", "2024-01-31T12:34:56.123456", "2024-01-31T12:34:56,5+02:00",
        "2024-01-31T23:59:60-0530", "2024-01-31T00:00:00+01", "2024-01-31T12:34:56z"}) {
    EXPECT_TRUE(IsTimestamp(good)) << good;
  }
  for (const char* bad :
       {"2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-1-31", "24-01-31",
        "2024-01-31T", "2024-01-31T24:00:00", "2024-01-31T12:60", "2024-01-31T12:34:56.",
        "2024-01-31T12:34:56Zx", "2024-01-31T12:34:56+2", "2024-01-31X12:34", "2024/01/31"}) {
    EXPECT_FALSE(IsTimestamp(bad)) << bad;
  }
}

struct Cell {
  const char* text;
  bool null = false;
};

ColumnInference Infer(std::initializer_list<Cell> cells) {
  ColumnTypeInferrer inferrer;
  for (const Cell& c : cells) inferrer.Add(c.text, c.null);
  return inferrer.Finish();
}

TEST(TypeInference, WideningRules) {
  struct Case {
    std::initializer_list<Cell> cells;
    ColumnType type;
  };
  const Case cases[] = {
      {{}, ColumnType::kEmpty},
      {{{"", true}, {"NA", true}}, ColumnType::kEmpty},
      {{{"1"}, {"-2"}, {"", true}}, ColumnType::kInt},
      {{{"1"}, {"2.5"}}, ColumnType::kFloat},
      {{{"1e3"}, {"7"}}, ColumnType::kFloat},
      {{{"true"}, {"FALSE"}}, ColumnType::kBool},
      {{{"true"}, {"0"}, {"1"}}, ColumnType::kBool},
      {{{"true"}, {"2"}}, ColumnType::kString},
      {{{"true"}, {"0.5"}}, ColumnType::kString},
      {{{"2024-01-31"}, {"2024-01-31T12:34:56Z"}}, ColumnType::kTimestamp},
      {{{"2024-01-31"}, {"5"}}, ColumnType::kString},
      {{{"2024-01-31"}, {"true"}}, ColumnType::kString},
      {{{"1"}, {"x"}, {"2"}}, ColumnType::kString},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(ColumnTypeName(Infer(cases[i].cells).type), ColumnTypeName(cases[i].type))
        << "case " << i;
  }
}

TEST(TypeInference, ZeroOneIsIntThatLooksBoolean) {
  ColumnInference r = Infer({{"0"}, {"1"}, {"1"}, {"", true}});
  EXPECT_EQ(r.type, ColumnType::kInt);
  EXPECT_TRUE(r.looks_boolean);
  EXPECT_EQ(r.values, 3);
  EXPECT_EQ(r.nulls, 1);
  EXPECT_FALSE(Infer({{"0"}, {"1"}, {"2"}}).looks_boolean);
}

TEST(TypeInference, NanIsAFloatValueInNumericColumnsAndANullElsewhere) {
  ColumnInference ints = Infer({{"1"}, {"NaN", true}, {"", true}});
  EXPECT_EQ(ints.type, ColumnType::kFloat);  // NaN cannot be an integer
  EXPECT_EQ(ints.nans, 1);
  EXPECT_EQ(ints.values, 2);
  EXPECT_EQ(ints.nulls, 1);

  ColumnInference nan_value = Infer({{"1.5"}, {"nan"}});  // not a null token: still NaN
  EXPECT_EQ(nan_value.type, ColumnType::kFloat);
  EXPECT_EQ(nan_value.nans, 1);
  EXPECT_EQ(nan_value.values, 2);

  ColumnInference strings = Infer({{"a"}, {"NaN", true}});
  EXPECT_EQ(strings.type, ColumnType::kString);
  EXPECT_EQ(strings.nans, 0);
  EXPECT_EQ(strings.nulls, 1);

  EXPECT_EQ(Infer({{"NaN", true}}).type, ColumnType::kFloat);
}

TEST(TypeInference, CountsInvalidUtf8AndMergesPartialResults) {
  ColumnTypeInferrer a, b;
  a.Add("caf\xC3\xA9", false);
  a.Add("caf\xE9", false);
  b.Add("1", false);
  b.Add("", true);
  a.Merge(b);
  ColumnInference r = a.Finish();
  EXPECT_EQ(r.type, ColumnType::kString);
  EXPECT_EQ(r.invalid_utf8, 1);
  EXPECT_EQ(r.values, 3);
  EXPECT_EQ(r.nulls, 1);
}

TEST(TypeInference, InfersEveryColumnOfAFile) {
  testing::ScratchDir dir;
  auto path = dir.Write("t.csv",
                        "i,f,b,t,s,e,z\n"
                        "1,1.5,true,2024-01-01,a,,0\n"
                        "2,NaN,false,2024-01-02 10:00:00,b,NA,1\n"
                        "3,2,True,2024-01-03T00:00:00Z,3,,1\n");
  auto reader = TableReader::Open(path);
  ASSERT_TRUE(reader.ok());
  auto types = InferColumnTypes(**reader);
  ASSERT_TRUE(types.ok()) << types.status().ToString();
  std::vector<std::string> names;
  for (const auto& c : *types) names.push_back(ColumnTypeName(c.type));
  EXPECT_EQ(names, (std::vector<std::string>{"int", "float", "bool", "timestamp", "string", "empty",
                                             "int"}));
  EXPECT_EQ((*types)[1].nans, 1);
  EXPECT_EQ((*types)[5].nulls, 3);
  EXPECT_TRUE((*types)[6].looks_boolean);
}

TEST(TypeInference, AddParsedNumberCountsAsAdd) {
  const std::vector<std::vector<const char*>> columns = {{"1", "0", "1"},
                                                         {"1", "2.5", "nan", "NaN"},
                                                         {"true", "0", "1"},
                                                         {"2024-01-01", "7"},
                                                         {"x", "1e3"},
                                                         {"3", "-inf", "1e999", "-nan"},
                                                         {"+7", "9223372036854775808"}};
  for (const auto& cells : columns) {
    ColumnTypeInferrer plain, parsed;
    for (const char* cell : cells) {
      plain.Add(cell, false);
      double value;
      if (ParseFloat(cell, &value)) {
        parsed.AddParsedNumber(cell, value);
      } else {
        parsed.Add(cell, false);
      }
    }
    ColumnInference a = plain.Finish(), b = parsed.Finish();
    EXPECT_EQ(a.type, b.type) << cells[0];
    EXPECT_EQ(a.looks_boolean, b.looks_boolean) << cells[0];
    EXPECT_EQ(a.values, b.values) << cells[0];
    EXPECT_EQ(a.nulls, b.nulls) << cells[0];
    EXPECT_EQ(a.nans, b.nans) << cells[0];
  }
}

}  // namespace
}  // namespace cairn::data
