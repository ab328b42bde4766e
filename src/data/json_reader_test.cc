#include "data/json_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "data/test_util.h"
#include "data/type_inference.h"

namespace cairn::data {
namespace {

using testing::ErrorOf;
using testing::MustRead;
using testing::ScratchDir;
using testing::Table;
using Row = std::vector<std::optional<std::string>>;

TEST(JsonReader, JsonLinesUnionOfKeysAndValueTexts) {
  ScratchDir dir;
  auto path = dir.Write("t.jsonl",
                        "{\"a\": 1, \"b\": \"x\"}\n"
                        "\n"
                        "{\"b\": null, \"c\": [1, 2], \"d\": true}\r\n"
                        "{\"a\": 2.5, \"c\": {\"k\": \"v\"}, \"b\": \"NA\", \"e\": -7}");
  Table t = MustRead(path);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0], (Row{"1", "x", std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(t.rows[1], (Row{std::nullopt, std::nullopt, "[1,2]", "true", std::nullopt}));
  EXPECT_EQ(t.rows[2], (Row{"2.5", std::nullopt, "{\"k\":\"v\"}", std::nullopt, "-7"}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 3, 4}));
  for (size_t block : {1, 2, 5, 13}) {
    ReaderOptions options;
    options.block_size = block;
    options.chunk_rows = 2;
    Table small = MustRead(path, options);
    EXPECT_EQ(small.rows, t.rows) << "block " << block;
    EXPECT_EQ(small.lines, t.lines) << "block " << block;
  }
}

TEST(JsonReader, GzippedJsonLinesAndArrays) {
  ScratchDir dir;
  auto write_gz = [&](const std::string& name, const std::string& text) {
    auto path = dir.path(name);
    gzFile gz = gzopen(path.c_str(), "wb");
    EXPECT_NE(gz, nullptr);
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
    return path;
  };
  Table lines = MustRead(write_gz("t.ndjson.gz", "{\"a\": \"x\"}\n{\"a\": \"y\"}\n"));
  EXPECT_EQ(lines.rows, (std::vector<Row>{{"x"}, {"y"}}));
  ReaderOptions options;
  options.block_size = 3;
  Table array = MustRead(write_gz("t.json.gz", "[{\"a\": [1, {\"b\": \"]\"}]}]"), options);
  EXPECT_EQ(array.rows, (std::vector<Row>{{"[1,{\"b\":\"]\"}]"}}));
}

TEST(JsonReader, DotJsonIsSniffed) {
  ScratchDir dir;
  Table lines = MustRead(dir.Write("lines.json", "{\"a\": 1}\n{\"a\": 2}\n"));
  EXPECT_EQ(lines.rows, (std::vector<Row>{{"1"}, {"2"}}));
  Table array = MustRead(dir.Write("array.json", "\xEF\xBB\xBF \n [ {\"a\": 1},\n {\"a\": 2} ]\n"));
  EXPECT_EQ(array.rows, (std::vector<Row>{{"1"}, {"2"}}));
  EXPECT_EQ(array.lines, (std::vector<int64_t>{2, 3}));
  Table empty_array = MustRead(dir.Write("none.json", "[]"));
  EXPECT_TRUE(empty_array.rows.empty());
  EXPECT_TRUE(empty_array.columns.empty());
}

TEST(JsonReader, LargeArrayStreamsInBoundedChunks) {
  ScratchDir dir;
  std::string text = "[\n";
  const int kRecords = 200000;
  for (int i = 0; i < kRecords; ++i) {
    text += "{\"id\": " + std::to_string(i) + ", \"name\": \"n" + std::to_string(i % 7) +
            "\", \"nested\": {\"s\": \"]},[\\\"\"}}" + (i + 1 < kRecords ? ",\n" : "\n");
  }
  text += "]\n";
  auto path = dir.Write("big.json", text);
  ReaderOptions options;
  options.block_size = 4096;
  options.chunk_rows = 1000;
  auto reader = TableReader::Open(path, options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->format(), Format::kJsonArray);
  RowChunk chunk;
  int64_t rows = 0;
  size_t largest_storage = 0;
  for (;;) {
    auto more = (*reader)->Next(&chunk);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ASSERT_LE(chunk.num_rows, 1000u);
    for (size_t r = 0; r < chunk.num_rows; ++r, ++rows) {
      ASSERT_EQ(chunk.cell(r, 0), std::to_string(rows));
      ASSERT_EQ(chunk.lines[r], rows + 2);
    }
    largest_storage = std::max(largest_storage, chunk.storage.size());
  }
  EXPECT_EQ(rows, kRecords);
  EXPECT_EQ(chunk.num_rows, 0u);
  EXPECT_LT(largest_storage, 64u * 1024);  // a chunk's worth, not the file's
  EXPECT_EQ((*reader)->columns(), (std::vector<std::string>{"id", "name", "nested"}));
}

TEST(JsonReader, ColumnsFirstSeenInLaterChunksAreNullBefore) {
  ScratchDir dir;
  auto path = dir.Write("t.jsonl", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3, \"b\": \"x\"}\n");
  ReaderOptions options;
  options.chunk_rows = 2;
  auto reader = TableReader::Open(path, options);
  ASSERT_TRUE(reader.ok());
  auto types = InferColumnTypes(**reader);
  ASSERT_TRUE(types.ok()) << types.status().ToString();
  ASSERT_EQ(types->size(), 2u);
  EXPECT_EQ((*types)[1].type, ColumnType::kString);
  EXPECT_EQ((*types)[1].nulls, 2);
  EXPECT_EQ((*types)[1].values, 1);
}

TEST(JsonReader, InvalidJsonNamesLineAndColumn) {
  ScratchDir dir;
  auto path = dir.Write("t.jsonl", "{\"a\": 1}\n{\"a\": }\n");
  std::string error = ErrorOf(path);
  EXPECT_EQ(error.rfind(path.string() + ":2:7: invalid JSON: syntax error", 0), 0u) << error;

  // The parser fails at the byte that breaks the literal: the "}" after "tru".
  auto array = dir.Write("t.json", "[{\"a\": 1},\n  {\"a\": 2,\n   \"b\": tru}]");
  error = ErrorOf(array);
  EXPECT_EQ(error.rfind(array.string() + ":3:12: invalid JSON:", 0), 0u) << error;
}

TEST(JsonReader, RecordsMustBeObjects) {
  ScratchDir dir;
  auto lines = dir.Write("t.jsonl", "{\"a\": 1}\n[1, 2]\n");
  EXPECT_EQ(ErrorOf(lines), lines.string() + ":2:1: a record must be a JSON object, found array");
  auto array = dir.Write("t.json", "[\n {\"a\": 1},\n 5\n]");
  EXPECT_EQ(ErrorOf(array), array.string() + ":3:2: a record must be a JSON object, found number");
}

TEST(JsonReader, MalformedArrays) {
  ScratchDir dir;
  auto unclosed = dir.Write("a.json", "[{\"a\": 1}\n");
  EXPECT_EQ(ErrorOf(unclosed), unclosed.string() +
                                   ":2:1: unexpected end of file: the JSON array is not closed "
                                   "(expected ']')");
  auto cut = dir.Write("b.json", "[{\"a\": 1},\n {\"a\": ");
  EXPECT_EQ(ErrorOf(cut).rfind(cut.string() + ":2:8: invalid JSON:", 0), 0u) << ErrorOf(cut);
  auto trailing = dir.Write("c.json", "[{\"a\": 1}] x");
  EXPECT_EQ(ErrorOf(trailing),
            trailing.string() + ":1:12: unexpected data after the end of the JSON array");
  auto missing_comma = dir.Write("d.json", "[{\"a\": 1} {\"a\": 2}]");
  EXPECT_EQ(ErrorOf(missing_comma),
            missing_comma.string() + ":1:11: expected ',' or ']' after an array element");
  ReaderOptions forced;
  forced.format = Format::kJsonArray;
  auto not_array = dir.Write("e.txt", "{\"a\": 1}");
  EXPECT_EQ(ErrorOf(not_array, forced),
            not_array.string() + ":1:1: expected '[' to open a JSON array of records");
}

TEST(JsonReader, EmptyFileIsAnError) {
  ScratchDir dir;
  auto path = dir.Write("t.jsonl", " \n\n");
  EXPECT_EQ(ErrorOf(path), path.string() + " is empty: expected JSON records");
}

}  // namespace
}  // namespace cairn::data
