#include "data/csv_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

#include "data/test_util.h"

namespace cairn::data {
namespace {

using testing::ErrorOf;
using testing::MustRead;
using testing::ReadAll;
using testing::ScratchDir;
using testing::Table;
using Row = std::vector<std::optional<std::string>>;

TEST(CsvReader, Rfc4180QuotingEscapesEmbeddedNewlinesAndCrlf) {
  ScratchDir dir;
  auto path = dir.Write("t.csv",
                        "id,text,note\r\n"
                        "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
                        "2,\"line1\r\nline2\",plain\r\n"
                        "3,\"\",\"\"\"\"");  // no final newline; "" is an empty (null) field
  Table t = MustRead(path);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"id", "text", "note"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0], (Row{"1", "x, y", "say \"hi\""}));
  EXPECT_EQ(t.rows[1], (Row{"2", "line1\r\nline2", "plain"}));
  EXPECT_EQ(t.rows[2], (Row{"3", std::nullopt, "\""}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 3, 5}));
}

TEST(CsvReader, SkipsBomAndBlankLinesKeepingLineNumbers) {
  ScratchDir dir;
  auto path = dir.Write("t.csv",
                        "\xEF\xBB\xBF"
                        "a,b\n\n1,2\n\r\n3,4\n\n");
  Table t = MustRead(path);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.rows, (std::vector<Row>{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{3, 5}));
}

TEST(CsvReader, QuoteInsideAnUnquotedFieldIsKeptLiterally) {
  ScratchDir dir;
  Table t = MustRead(dir.Write("t.csv", "height,name\n5'11\",O\"Brien\n"));
  EXPECT_EQ(t.rows, (std::vector<Row>{{"5'11\"", "O\"Brien"}}));
}

TEST(CsvReader, TrailingDelimiterAtEndOfFileIsAnEmptyField) {
  ScratchDir dir;
  Table t = MustRead(dir.Write("t.csv", "a,b\n1,"));
  EXPECT_EQ(t.rows, (std::vector<Row>{{"1", std::nullopt}}));
}

TEST(CsvReader, NullTokensAreConfigurable) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "a,b,c,d\nNA,null,,NaN\nna,x,-,n/a\n");
  Table t = MustRead(path);
  EXPECT_EQ(t.rows[0], (Row{std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(t.rows[1], (Row{"na", "x", "-", "n/a"}));
  ReaderOptions options;
  options.null_tokens = {"-", "n/a"};
  t = MustRead(path, options);
  EXPECT_EQ(t.rows[0], (Row{"NA", "null", "", "NaN"}));
  EXPECT_EQ(t.rows[1], (Row{"na", "x", std::nullopt, std::nullopt}));
}

TEST(CsvReader, DetectsTheDelimiter) {
  EXPECT_EQ(DetectDelimiter("a;b;c\n1;2,5;3\n4;5;6\n", false), ';');
  EXPECT_EQ(DetectDelimiter("a\tb\n1\t2\n", false), '\t');
  EXPECT_EQ(DetectDelimiter("a|b|c\n1|2|3", true), '|');
  EXPECT_EQ(DetectDelimiter("a,b\n1,2\n", false), ',');
  // Delimiters inside quotes do not count, even across lines.
  EXPECT_EQ(DetectDelimiter("\"x,y,z\";b\n\"1,\n2\";3\n", false), ';');
  EXPECT_EQ(DetectDelimiter("single\n1\n2\n", false), ',');
  // Inconsistent counts: the most frequent in the header wins.
  EXPECT_EQ(DetectDelimiter("a;b;c,d\n1;2\n", false), ';');

  ScratchDir dir;
  Table t = MustRead(dir.Write("t.tsv", "a\tb\n1,5\t2\n"));
  EXPECT_EQ(t.rows, (std::vector<Row>{{"1,5", "2"}}));
  auto semicolons = TableReader::Open(dir.Write("s.csv", "a;b\n\"x;y\";2\n"));
  ASSERT_TRUE(semicolons.ok());
  EXPECT_EQ((*semicolons)->delimiter(), ';');
  ReaderOptions options;
  options.delimiter = ',';
  t = MustRead(dir.Write("u.csv", "a;b,c\n1;2,3\n"), options);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a;b", "c"}));
}

TEST(CsvReader, WithoutHeaderColumnsAreNumbered) {
  ScratchDir dir;
  ReaderOptions options;
  options.header = false;
  Table t = MustRead(dir.Write("t.csv", "1,2\n3,4\n"), options);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"column_1", "column_2"}));
  EXPECT_EQ(t.rows, (std::vector<Row>{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 2}));
}

TEST(CsvReader, ReadsGzipDetectedByContent) {
  ScratchDir dir;
  std::string text = "a,b\n";
  for (int i = 0; i < 5000; ++i)
    text += std::to_string(i) + ",\"v\"\"" + std::to_string(i) + "\"\n";
  auto path = dir.path("t.csv.gz");
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
  ReaderOptions options;
  options.block_size = 1000;
  options.chunk_rows = 777;
  Table t = MustRead(path, options);
  ASSERT_EQ(t.rows.size(), 5000u);
  EXPECT_EQ(t.rows[4999], (Row{"4999", "v\"4999"}));
  EXPECT_EQ(t.chunks, 7u);

  // Truncated gzip: an IO error naming the file, not silently fewer rows.
  std::string bytes = *ReadFile(path);
  auto cut = dir.Write("cut.csv.gz", bytes.substr(0, bytes.size() / 2));
  auto bad = ReadAll(cut, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kIoError);
  EXPECT_NE(bad.status().message().find("cut.csv.gz"), std::string::npos);
}

TEST(CsvReader, RecordsSpanningReadBlocksAndChunksParseTheSame) {
  std::string text = "k,\"quoted \"\"head\"\"\",v\r\n";
  for (int i = 0; i < 40; ++i) {
    text += std::to_string(i) + ",\"multi\nline " + std::to_string(i) + " \"\"q\"\"\"," +
            (i % 3 == 0 ? "" : "x" + std::to_string(i)) + (i % 2 ? "\r\n" : "\n");
  }
  ScratchDir dir;
  auto path = dir.Write("t.csv", text);
  ReaderOptions whole;
  Table expected = MustRead(path, whole);
  ASSERT_EQ(expected.rows.size(), 40u);
  EXPECT_EQ(expected.columns[1], "quoted \"head\"");
  EXPECT_EQ(expected.rows[7], (Row{"7", "multi\nline 7 \"q\"", "x7"}));
  EXPECT_EQ(expected.lines[7], 2 + 2 * 7);
  for (size_t block : {1, 2, 3, 5, 7, 16, 63}) {
    for (size_t chunk_rows : {1, 3, 1000}) {
      ReaderOptions options;
      options.block_size = block;
      options.chunk_rows = chunk_rows;
      Table t = MustRead(path, options);
      EXPECT_EQ(t.rows, expected.rows) << "block " << block << " chunk " << chunk_rows;
      EXPECT_EQ(t.lines, expected.lines) << "block " << block << " chunk " << chunk_rows;
      EXPECT_EQ(t.chunks, (40 + chunk_rows - 1) / chunk_rows);
    }
  }
}

TEST(CsvReader, ChunkBytesBoundsAChunk) {
  ScratchDir dir;
  ReaderOptions options;
  options.chunk_bytes = 10;
  Table t = MustRead(dir.Write("t.csv", "a\n1111\n2222\n3333\n4444\n5555\n"), options);
  EXPECT_EQ(t.rows.size(), 5u);
  EXPECT_EQ(t.chunks, 3u);  // a chunk closes once its rows reach 10 bytes
}

TEST(CsvReader, ChunkCellsOutliveTheReaderAndMoves) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "a,b\nx,\"y\"\"z\"\n");
  RowChunk moved;
  {
    auto reader = TableReader::Open(path);
    ASSERT_TRUE(reader.ok());
    RowChunk chunk;
    ASSERT_TRUE(*(*reader)->Next(&chunk));
    moved = std::move(chunk);
  }
  EXPECT_EQ(moved.cell(0, 0), "x");
  EXPECT_EQ(moved.cell(0, 1), "y\"z");
}

TEST(CsvReader, MovedFromChunkCanBeFilledAgain) {
  ScratchDir dir;
  ReaderOptions options;
  options.chunk_rows = 1;
  auto reader = TableReader::Open(dir.Write("t.csv", "a\nfirst\nsecond\n"), options);
  ASSERT_TRUE(reader.ok());
  RowChunk chunk;
  ASSERT_TRUE(*(*reader)->Next(&chunk));
  RowChunk taken = std::move(chunk);
  ASSERT_TRUE(*(*reader)->Next(&chunk));
  EXPECT_EQ(taken.cell(0, 0), "first");
  EXPECT_EQ(chunk.cell(0, 0), "second");
}

TEST(CsvReader, RaggedRowsNameLineColumnAndWhatIsWrong) {
  ScratchDir dir;
  auto more = dir.Write("more.csv", "a,b\n1,2\n1,2,3\n");
  EXPECT_EQ(ErrorOf(more),
            more.string() + ":3:5: row has 3 fields but the header has 2 (field 3 starts here)");
  auto fewer = dir.Write("fewer.csv", "a,b,c\n1,\"x\ny\"\n");
  EXPECT_EQ(ErrorOf(fewer), fewer.string() +
                                ":3:2: row has 2 fields but the header has 3 (the row ends here; "
                                "missing the last 1)");
}

TEST(CsvReader, UnterminatedQuoteNamesWhereItOpened) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "a,b\n1,2\n3,\"abc\n4,5\n6,7\n");
  std::string error = ErrorOf(path);
  EXPECT_EQ(error.rfind(path.string() + ":3:3: unterminated quoted field", 0), 0u) << error;
  ReaderOptions tiny;
  tiny.block_size = 2;
  EXPECT_EQ(ErrorOf(path, tiny), error);
}

TEST(CsvReader, TextAfterAClosingQuoteIsAnError) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "a,b\n1,\"x\"y\n");
  std::string error = ErrorOf(path);
  EXPECT_EQ(error.rfind(path.string() + ":2:6: unexpected character after the closing quote", 0),
            0u)
      << error;
}

TEST(CsvReader, EmptyFileIsAnErrorAndHeaderOnlyHasNoRows) {
  ScratchDir dir;
  auto empty = dir.Write("empty.csv", "");
  EXPECT_EQ(ErrorOf(empty), empty.string() + " is empty: a CSV file needs at least a header row");
  EXPECT_NE(ErrorOf(dir.Write("blank.csv", "\n\r\n")).find("is empty"), std::string::npos);
  Table t = MustRead(dir.Write("header.csv", "a,b\n"));
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(t.rows.empty());
}

TEST(CsvReader, HeaderNamesMustBeUnique) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "a,b,a\n1,2,3\n");
  EXPECT_EQ(ErrorOf(path), path.string() +
                               ":1:1: duplicate column name 'a' (columns 1 and 3): column names "
                               "must be unique");
}

TEST(CsvReader, OpenErrors) {
  ScratchDir dir;
  auto missing = TableReader::Open(dir.path("nope.csv"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceDoesNotExist);
  auto unknown = TableReader::Open(dir.Write("t.parquet", "x"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(unknown.status().message().find("cannot tell the format"), std::string::npos);
  ReaderOptions huge;
  huge.chunk_bytes = size_t{2} << 30;
  auto too_big = TableReader::Open(dir.Write("t.csv", "a\n1\n"), huge);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().message(), "chunk_bytes must be at most 1 GiB");
}

// A pipeline step's uri_file output has no extension (outputs/train/train):
// its format is sniffed from the first non-blank byte.
TEST(CsvReader, ExtensionlessFilesAreSniffed) {
  ScratchDir dir;
  auto csv = TableReader::Open(dir.Write("train", "a,b\n1,2\n"));
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  EXPECT_EQ((*csv)->format(), Format::kCsv);
  EXPECT_EQ((*csv)->columns(), (std::vector<std::string>{"a", "b"}));
  auto array = TableReader::Open(dir.Write("raw", "\n  [{\"a\": 1}]"));
  ASSERT_TRUE(array.ok()) << array.status().message();
  EXPECT_EQ((*array)->format(), Format::kJsonArray);
  auto lines = TableReader::Open(dir.Write("lines", "{\"a\": 1}\n{\"a\": 2}\n"));
  ASSERT_TRUE(lines.ok()) << lines.status().message();
  EXPECT_EQ((*lines)->format(), Format::kJsonLines);
  EXPECT_FALSE(TableReader::Open(dir.Write("empty", "")).ok());
}

}  // namespace
}  // namespace cairn::data

namespace cairn::data {
namespace {

using testing::ScratchDir;
using testing::Table;

// Reads `path` through CsvRanges as threads would: every range parsed
// speculatively (last first), then committed in order. `reparsed` counts the
// ranges whose speculative start was wrong.
// With `spans`, the ranges carry field spans (CsvRanges::SpansOnly) and the
// table is built from them, nulls by TableReader::IsNullText.
Result<Table> ReadByRanges(const std::filesystem::path& path, const ReaderOptions& options,
                           size_t* reparsed, bool spans = false) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, TableReader::Open(path, options));
  std::unique_ptr<CsvRanges> ranges = CsvRanges::Split(*reader);
  if (!ranges) return InternalError("not splittable");
  if (spans) ranges->SpansOnly();
  std::vector<CsvRange> parsed(ranges->size());
  for (size_t i = parsed.size(); i-- > 0;) {
    CAIRN_RETURN_IF_ERROR(ranges->ParseSpeculative(i, &parsed[i]));
  }
  Table table;
  table.columns = reader->columns();
  for (CsvRange& range : parsed) {
    CAIRN_ASSIGN_OR_RETURN(bool again, ranges->Commit(&range));
    *reparsed += again ? 1 : 0;
    if (!spans) {
      AppendChunk(range.chunk, table);
      continue;
    }
    if (!range.chunk.cells.empty() ||
        range.spans.size() != range.chunk.num_rows * table.columns.size()) {
      return InternalError("spans and cells do not match the rows");
    }
    for (size_t r = 0; r < range.chunk.num_rows; ++r) {
      std::vector<std::optional<std::string>> row;
      for (size_t c = 0; c < table.columns.size(); ++c) {
        const FieldSpan& f = range.spans[r * table.columns.size() + c];
        if (f.escaped()) return InternalError("a span still flagged as escaped");
        const std::string_view text(range.chunk.storage.data() + f.offset, f.size());
        if (reader->IsNullText(text)) {
          row.push_back(std::nullopt);
        } else {
          row.push_back(std::string(text));
        }
      }
      table.rows.push_back(std::move(row));
      table.lines.push_back(range.chunk.lines[r]);
    }
  }
  // The reader handed its rows over.
  RowChunk rest;
  auto more = reader->Next(&rest);
  if (!more.ok() || *more) return InternalError("the split reader still has rows");
  return table;
}

// Every range size from 1 byte to the whole file puts a boundary at every
// offset: inside quoted fields holding line breaks (also right after a
// quoted "\n", so the speculation is wrong), on a quote, between \r and \n,
// in blank lines, in "" escapes, and at a final record without a line break.
TEST(CsvRanges, EveryBoundaryOffsetGivesTheSequentialRowsAndLines) {
  const std::string text =
      "id,text,note\r\n"
      "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
      "2,\"line1\r\nline2\",plain\r\n"
      "\n"
      "3,\"\n4,fake,row\n\",\"\"\"\"\n"
      "\r\n"
      "5,\"a\"\"\nb\",NA\n"
      "6,O\"Brien,\"\"\n"
      "7,,\"end\"";
  ScratchDir dir;
  auto path = dir.Write("t.csv", text);
  Table expected = testing::MustRead(path);
  ASSERT_EQ(expected.rows.size(), 6u);
  EXPECT_EQ(expected.rows[2][1], "\n4,fake,row\n");
  size_t reparsed_total = 0;
  for (size_t block = 1; block <= text.size() + 1; ++block) {
    for (bool spans : {false, true}) {
      ReaderOptions options;
      options.block_size = block;
      size_t reparsed = 0;
      auto t = ReadByRanges(path, options, &reparsed, spans);
      ASSERT_TRUE(t.ok()) << "block " << block << ": " << t.status().ToString();
      EXPECT_EQ(t->rows, expected.rows) << "block " << block << (spans ? " spans" : "");
      EXPECT_EQ(t->lines, expected.lines) << "block " << block << (spans ? " spans" : "");
      reparsed_total += reparsed;
    }
  }
  EXPECT_GT(reparsed_total, 0u);  // some guesses were wrong and were corrected
}

TEST(CsvRanges, ErrorsNameTheSameLineAndColumnForEveryBoundary) {
  ScratchDir dir;
  const std::vector<std::string> bad = {
      "a,b\n1,2\n\"q\nq\",2\n3,\"abc\n4,5\n6,7\n",  // unterminated quote on line 5
      "a,b\n\"x\ny\",2\n1,2,3\n",                   // ragged row on line 4
      "a,b\n1,2\n\"x\"y,2\n",                       // text after a closing quote
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    auto path = dir.Write("bad" + std::to_string(i) + ".csv", bad[i]);
    const std::string expected = testing::ErrorOf(path);
    ASSERT_NE(expected, "(no error)");
    for (size_t block = 1; block <= bad[i].size() + 1; ++block) {
      ReaderOptions options;
      options.block_size = block;
      size_t reparsed = 0;
      auto t = ReadByRanges(path, options, &reparsed);
      ASSERT_FALSE(t.ok()) << "file " << i << " block " << block;
      EXPECT_EQ(t.status().message(), expected) << "file " << i << " block " << block;
    }
  }
}

TEST(CsvRanges, LargeRandomFilesMatchTheSequentialReader) {
  ScratchDir dir;
  std::mt19937_64 rng(11);
  const char* pieces[] = {"a", "\"q,\"", "\"l\nm\"", "\"\"\"\"", "", "NA", "\"x\r\ny\""};
  std::string text = "c1,c2,c3\n";
  for (int r = 0; r < 3000; ++r) {
    for (int c = 0; c < 3; ++c) {
      if (c > 0) text += ',';
      text += pieces[rng() % 7];
    }
    text += rng() % 5 == 0 ? "\r\n" : "\n";
    if (rng() % 50 == 0) text += "\n";
  }
  auto path = dir.Write("r.csv", text);
  Table expected = testing::MustRead(path);
  for (size_t block : {7, 64, 1000, 4096}) {
    for (bool spans : {false, true}) {
      ReaderOptions options;
      options.block_size = block;
      size_t reparsed = 0;
      auto t = ReadByRanges(path, options, &reparsed, spans);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      EXPECT_EQ(t->rows, expected.rows) << "block " << block << (spans ? " spans" : "");
      EXPECT_EQ(t->lines, expected.lines) << "block " << block << (spans ? " spans" : "");
    }
  }
}

TEST(CsvRanges, OnlyUnreadPlainCsvFilesSplit) {
  ScratchDir dir;
  auto csv = dir.Write("t.csv", "a\n1\n2\n");
  auto read = TableReader::Open(csv);
  ASSERT_TRUE(read.ok());
  RowChunk chunk;
  ASSERT_TRUE(*(*read)->Next(&chunk));
  EXPECT_EQ(CsvRanges::Split(**read), nullptr);  // already read from

  auto path = dir.path("t.csv.gz");
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, "a\n1\n", 4), 4);
  ASSERT_EQ(gzclose(gz), Z_OK);
  auto gzipped = TableReader::Open(path);
  ASSERT_TRUE(gzipped.ok());
  EXPECT_EQ(CsvRanges::Split(**gzipped), nullptr);

  auto json = TableReader::Open(dir.Write("t.jsonl", "{\"a\": 1}\n"));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(CsvRanges::Split(**json), nullptr);

  auto header_only = TableReader::Open(dir.Write("h.csv", "a,b\n"));
  ASSERT_TRUE(header_only.ok());
  auto ranges = CsvRanges::Split(**header_only);
  ASSERT_NE(ranges, nullptr);
  EXPECT_EQ(ranges->size(), 0u);
}

}  // namespace
}  // namespace cairn::data

namespace cairn::data {
namespace {

// Every implementation of the structural scan this CPU runs finds the same
// bytes as the scalar loop, on random blocks rich in the special bytes.
TEST(CsvRanges, SpecialMaskImplementationsAgree) {
  std::mt19937_64 rng(17);
  const char alphabet[] = {',', ';', '\n', '\r', '"', 'a', '0', '\0', '\x80', '\xff', '\t', ' '};
  char block[64];
  for (int trial = 0; trial < 20000; ++trial) {
    for (char& c : block) {
      c = trial % 2 == 0 ? alphabet[rng() % sizeof alphabet] : static_cast<char>(rng() % 256);
    }
    const char delim = trial % 3 == 0 ? ';' : (trial % 3 == 1 ? ',' : '\t');
    const uint64_t scalar = csv_internal::SpecialMask(0, block, delim);
    for (int level = 1; level < csv_internal::SpecialMaskLevels(); ++level) {
      ASSERT_EQ(csv_internal::SpecialMask(level, block, delim), scalar)
          << "level " << level << " trial " << trial;
    }
  }
}

// The range parser's 64-byte fast path (simple records) against the state
// machine (the sequential reader), with every scan implementation, on files
// mostly of simple records with the cases that make it step aside: quotes,
// CRLF, blank lines, a record at the end without a line break.
TEST(CsvRanges, FastPathMatchesTheStateMachine) {
  std::mt19937_64 rng(23);
  std::string text = "a,b,c\n";
  for (int r = 0; r < 2000; ++r) {
    const int kind = static_cast<int>(rng() % 40);
    std::string row = std::to_string(rng() % 1000) + "," + std::string(rng() % 70, 'x') + "," +
                      (rng() % 4 == 0 ? "NA" : std::to_string(r));
    if (kind == 0) row = "\"q\n" + row + "\",1,2";
    if (kind == 1) row += "\r";
    if (kind == 2) row = "\n" + row;
    if (kind == 3) row = "5'11\"," + std::to_string(r) + ",";
    text += row + "\n";
  }
  text += "9,last,row";
  ScratchDir dir;
  auto path = dir.Write("f.csv", text);
  Table expected = testing::MustRead(path);
  ASSERT_EQ(expected.rows.size(), 2001u);
  for (int level = 0; level < csv_internal::SpecialMaskLevels(); ++level) {
    csv_internal::LimitSpecialMaskLevel(level);
    for (size_t block : {1, 63, 64, 65, 4096, 1 << 20}) {
      ReaderOptions options;
      options.block_size = block;
      size_t reparsed = 0;
      auto t = ReadByRanges(path, options, &reparsed);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      EXPECT_EQ(t->rows, expected.rows) << "level " << level << " block " << block;
      EXPECT_EQ(t->lines, expected.lines) << "level " << level << " block " << block;
    }
  }
  csv_internal::LimitSpecialMaskLevel(2);

  // A ragged simple row is the state machine's error, same place.
  auto ragged = dir.Write("r.csv", "a,b\n1,2\n3,4\n5,6,7\n8,9\n");
  const std::string error = testing::ErrorOf(ragged);
  for (size_t block : {1, 5, 64}) {
    ReaderOptions options;
    options.block_size = block;
    size_t reparsed = 0;
    auto t = ReadByRanges(ragged, options, &reparsed);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().message(), error);
  }
}

}  // namespace
}  // namespace cairn::data
