// Tests of AppendJsonString against nlohmann::json's own escaping.
#include "core/json_text.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

namespace cairn {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonTextTest, EscapesLikeNlohmann) {
  for (std::string s : {std::string(""), std::string("plain"), std::string("a\"b\\c"),
                        std::string("\b\f\n\r\t"), std::string("\x01\x1f\x7f", 3),
                        std::string("nul\0inside", 10), std::string("caf\xc3\xa9 \xe2\x82\xac")}) {
    EXPECT_EQ(Quoted(s), nlohmann::json(s).dump()) << s;
  }
}

TEST(JsonTextTest, RandomAsciiAndControlBytesMatchNlohmann) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 127);  // valid UTF-8: nlohmann throws on invalid
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 24, ' ');
    for (char& c : s) c = static_cast<char>(byte(rng));
    ASSERT_EQ(Quoted(s), nlohmann::json(s).dump());
  }
}

TEST(JsonTextTest, RoundTripsThroughTheParser) {
  std::string doc = "{";
  AppendJsonString(doc, "key\n");
  doc += ':';
  AppendJsonString(doc, "va\"lue\x02");
  doc += '}';
  auto parsed = nlohmann::json::parse(doc);
  EXPECT_EQ(parsed.at("key\n").get<std::string>(), "va\"lue\x02");
}

}  // namespace
}  // namespace cairn
