#include "data/stats.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "data/count_tables.h"
#include "data/csv_reader.h"
#include "data/padded_numbers.h"
#include "data/sketches.h"
#include "data/utf8.h"

namespace cairn::data {
namespace {

using namespace count_tables;

constexpr int kBuckets = 10;

// At most this many distinct values per column are counted (a 4 MiB table);
// a column with more keeps its values (or a sketch) instead.
constexpr size_t kMaxCountedValues = size_t{1} << 17;

// Where a column's non-null cells go while summarizing a chunk.
enum class Mode : uint8_t {
  kNumeric,  // cells that parse as numbers feed the numeric part, the others the string part
  kString,   // every cell feeds the string part only
  kBoth,     // every cell feeds both parts (the second pass for mixed columns)
  kSkip,     // not summarized in this pass
};

// A part's finite values, appended through a raw pointer into room reserved
// for the part's rows: a vector's push_back stores its end on every call and
// keeps the loop's other counters from staying in registers.
class FiniteValues {
 public:
  // Room for `n` values in all (kept ones included).
  void reserve(size_t n) {
    if (n <= capacity_) return;
    std::unique_ptr<double[]> bigger(new double[n]);
    std::copy(data_.get(), data_.get() + size_, bigger.get());
    data_ = std::move(bigger);
    capacity_ = n;
  }
  double* end_ptr() { return data_.get() + size_; }
  void set_end(const double* end) { size_ = static_cast<size_t>(end - data_.get()); }
  const double* data() const { return data_.get(); }
  const double* begin() const { return data_.get(); }
  const double* end() const { return data_.get() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::unique_ptr<double[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// One column of one chunk, summarized on a worker thread.
struct ChunkColumn {
  ColumnTypeInferrer inferrer;
  int64_t rows = 0;
  bool floats_first = false;  // a float was seen: try ParseFloat before ParseInt
  FiniteValues finite;
  double mean = 0, m2 = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  int64_t zeros = 0, inf = 0, numbers = 0;
  StringCounts strings;        // views into the chunk
  ShortStrings short_strings;  // of kString columns, flushed into `strings`
  int64_t string_cells = 0, string_bytes = 0;
};

// A chunk summarized in parts of at most chunk_rows rows (a CSV range holds
// several), merged part by part as if each were a chunk of its own.
struct ChunkSummary {
  RowChunk chunk;  // kept until merged: the string views point into it
  std::vector<std::vector<ChunkColumn>> parts;
};

// A column over all chunks merged so far, in chunk order.
struct ColumnState {
  ColumnTypeInferrer inferrer;
  int64_t rows = 0;
  int64_t finite = 0;
  double mean = 0, m2 = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  int64_t zeros = 0, inf = 0, numbers = 0;
  // The finite values, exactly in one of three forms: distinct values and
  // their counts while there are few (`counting`), then every value while
  // within the budget, then a sketch.
  bool counting = true;
  NumberCounts counts;
  std::vector<double> values;
  std::unique_ptr<QuantileSketch> sketch;
  int64_t string_cells = 0, string_bytes = 0;
  StringCounts strings;  // exact while within the budget; keys in `arena`
  StringArena arena;
  std::unique_ptr<HyperLogLog> distinct;
  std::unique_ptr<SpaceSaving> heavy;
};

Mode ModeOf(const std::vector<Mode>& modes, size_t column, Mode fallback) {
  return column < modes.size() ? modes[column] : fallback;
}

// A chunk's cells from its cell table (text views and null flags).
struct CellTable {
  const RowChunk* chunk;
  size_t num_rows() const { return chunk->num_rows; }
  size_t num_columns() const { return chunk->num_columns; }
  // Column `column`'s cells, row by row.
  struct Column {
    const std::string_view* cells;
    const uint8_t* nulls;
    size_t stride;
    std::string_view text(size_t row) const { return cells[row * stride]; }
    bool is_null(size_t row, std::string_view) const { return nulls[row * stride] != 0; }
  };
  Column column(size_t c) const {
    return {chunk->cells.data() + c, chunk->nulls.data() + c, chunk->num_columns};
  }
};

// A CSV range's cells from its field spans into the chunk's storage; nulls
// are found here (one length test rejects most cells) instead of by the parser.
struct SpanTable {
  const RowChunk* chunk;
  const FieldSpan* spans;
  const TableReader* reader;
  size_t num_rows() const { return chunk->num_rows; }
  size_t num_columns() const { return chunk->num_columns; }
  struct Column {
    const FieldSpan* spans;
    const char* base;
    const TableReader* reader;
    size_t stride;
    std::string_view text(size_t row) const {
      const FieldSpan& f = spans[row * stride];
      return {base + f.offset, f.size()};
    }
    bool is_null(size_t, std::string_view text) const { return reader->IsNullText(text); }
  };
  Column column(size_t c) const {
    return {spans + c, chunk->storage.data(), reader, chunk->num_columns};
  }
};

// Adds rows [row_begin, row_end) of one column to `out`; called for
// consecutive row blocks, then FinishChunkColumn.
template <typename Cells>
void SummarizeColumn(const Cells& cells, size_t row_begin, size_t row_end, Mode mode,
                     ChunkColumn* out) {
  out->rows += static_cast<int64_t>(row_end - row_begin);
  // Integers parse much faster as integers; once a float shows up, floats come first.
  bool floats_first = out->floats_first;
  // Counters in registers: out->finite's stores could alias them.
  int64_t numbers = 0, inf = 0, zeros = 0, string_cells = 0, string_bytes = 0;
  if (mode != Mode::kString) out->finite.reserve(out->finite.size() + (row_end - row_begin));
  double* finite = out->finite.end_ptr();
  // Numbers the inferrer would only count (see ColumnTypeInferrer::settled),
  // added at once before any other call to it and at the end.
  ColumnTypeInferrer::Settled settled = out->inferrer.settled();
  int64_t deferred = 0;
  auto flush = [&] {
    out->inferrer.AddSettled(settled, deferred);
    deferred = 0;
  };
  // Short texts of a string column take ShortStrings (see there).
  // A part of many distinct short texts fills the table: the rest of it
  // goes the general way without a lookup first.
  auto use_short_strings = [&] {
    return mode == Mode::kString && out->inferrer.is_string_column() && !out->short_strings.full();
  };
  bool short_strings = use_short_strings();
  for (size_t row = row_begin; row < row_end; ++row) {
    const std::string_view text = cells.text(row);
    if (short_strings && text.size() - 1 < 8) {        // 1..8 bytes
      const uint64_t word = ShortStrings::Word(text);  // cells are in padded storage
      ShortStrings::Slot* slot = out->short_strings.Find(text, word);
      if (slot == nullptr) {
        // New: a null token, non-ASCII text (for the UTF-8 count) or an
        // embedded NUL (which the word cannot tell from its end) goes the general way.
        const bool general = cells.is_null(row, text) || (word & 0x8080808080808080ULL) != 0 ||
                             std::memchr(text.data(), 0, text.size()) != nullptr;
        slot = out->short_strings.Insert(text, word,
                                         general ? ShortStrings::kGeneral : ShortStrings::kCounted);
      }
      if (slot == nullptr) {
        short_strings = false;  // full: the rest of the part goes the general way
      } else if (slot->kind == ShortStrings::kCounted) {
        ++slot->count;
        string_bytes += static_cast<int64_t>(text.size());
        continue;
      }
    }
    if (cells.is_null(row, text)) {
      flush();
      out->inferrer.Add(text, true);
      settled = out->inferrer.settled();
      continue;
    }
    bool is_number = false;
    double value;
    int64_t integer;
    // Cells are in a RowChunk's storage: the padded parsers may read past them.
    if (mode != Mode::kString && !floats_first && ParseIntPadded(text, &integer)) {
      value = static_cast<double>(integer);
      is_number = true;
    } else if (mode != Mode::kString && ParseFloatPadded(text, &value)) {
      is_number = true;
      floats_first = true;
    }
    if (is_number) {
      if (settled == ColumnTypeInferrer::kSettledFloat && !std::isnan(value)) {
        ++deferred;
      } else if (settled == ColumnTypeInferrer::kSettledInt && !floats_first) {
        ++deferred;
      } else {
        flush();
        if (floats_first) {
          out->inferrer.AddParsedNumber(text, value);
        } else {
          out->inferrer.AddParsedInt(text, integer);
        }
        settled = out->inferrer.settled();
      }
      ++numbers;
      if (std::isinf(value)) {
        ++inf;
      } else if (!std::isnan(value)) {  // NaNs are counted by the inferrer
        *finite++ = value;
        zeros += value == 0;
      }
    }
    if (!is_number) {
      flush();
      out->inferrer.Add(text, false);
      settled = out->inferrer.settled();
      short_strings = use_short_strings();
    }
    if (mode != Mode::kNumeric || !is_number) {
      out->strings.Add(text, CellHash(text), 1);
      ++string_cells;
      string_bytes += static_cast<int64_t>(text.size());
    }
  }
  flush();
  if (mode == Mode::kString) {
    const int64_t short_cells = out->short_strings.Flush(&out->strings);
    out->inferrer.AddAsciiStrings(short_cells);
    string_cells += short_cells;
  }
  if (mode != Mode::kString) out->finite.set_end(finite);
  out->numbers += numbers;
  out->inf += inf;
  out->zeros += zeros;
  out->string_cells += string_cells;
  out->string_bytes += string_bytes;
  out->floats_first = floats_first;
}

// The moments of the finite values summarized: four independent lanes (the
// order of the additions is fixed, so the result is too) instead of one
// dependent chain of additions.
void FinishChunkColumn(ChunkColumn* out) {
  const double* v = out->finite.data();
  const size_t n = out->finite.size();
  if (n == 0) return;
  double sum[4] = {0, 0, 0, 0};
  double lo[4], hi[4];
  for (int l = 0; l < 4; ++l) lo[l] = hi[l] = v[0];
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int l = 0; l < 4; ++l) {
      sum[l] += v[i + l];
      lo[l] = v[i + l] < lo[l] ? v[i + l] : lo[l];
      hi[l] = v[i + l] > hi[l] ? v[i + l] : hi[l];
    }
  }
  for (; i < n; ++i) {
    sum[0] += v[i];
    lo[0] = v[i] < lo[0] ? v[i] : lo[0];
    hi[0] = v[i] > hi[0] ? v[i] : hi[0];
  }
  const double mean = ((sum[0] + sum[1]) + (sum[2] + sum[3])) / static_cast<double>(n);
  double m2[4] = {0, 0, 0, 0};
  for (i = 0; i + 4 <= n; i += 4) {
    for (int l = 0; l < 4; ++l) m2[l] += (v[i + l] - mean) * (v[i + l] - mean);
  }
  for (; i < n; ++i) m2[0] += (v[i] - mean) * (v[i] - mean);
  out->mean = mean;
  out->m2 = (m2[0] + m2[1]) + (m2[2] + m2[3]);
  out->min = std::min({out->min, lo[0], lo[1], lo[2], lo[3]});
  out->max = std::max({out->max, hi[0], hi[1], hi[2], hi[3]});
}

template <typename Cells>
void SummarizeParts(const Cells& cells, const std::vector<Mode>& modes, Mode fallback,
                    size_t part_rows, ChunkSummary* s) {
  part_rows = std::max<size_t>(part_rows, 1);
  const size_t num_rows = cells.num_rows(), num_columns = cells.num_columns();
  for (size_t begin = 0; begin < num_rows; begin += part_rows) {
    const size_t end = std::min(num_rows, begin + part_rows);
    std::vector<ChunkColumn>& columns = s->parts.emplace_back(num_columns);
    for (size_t c = 0; c < num_columns; ++c) {
      const Mode mode = ModeOf(modes, c, fallback);
      if (mode == Mode::kString || mode == Mode::kSkip) continue;
      columns[c].finite.reserve(end - begin);
    }
    // Row blocks small enough for their cells, flags and bytes to stay in
    // cache while every column goes over them (column by column over the
    // whole part would read them from memory once per column).
    constexpr size_t kBlockRows = 512;
    for (size_t block = begin; block < end; block += kBlockRows) {
      const size_t block_end = std::min(end, block + kBlockRows);
      for (size_t c = 0; c < num_columns; ++c) {
        Mode mode = ModeOf(modes, c, fallback);
        if (mode != Mode::kSkip) {
          SummarizeColumn(cells.column(c), block, block_end, mode, &columns[c]);
        }
      }
    }
    for (ChunkColumn& column : columns) FinishChunkColumn(&column);
  }
}

ChunkSummary Summarize(RowChunk chunk, const std::vector<Mode>& modes, Mode fallback,
                       size_t part_rows) {
  ChunkSummary s;
  SummarizeParts(CellTable{&chunk}, modes, fallback, part_rows, &s);
  s.chunk = std::move(chunk);
  return s;
}

// Summarize() of a CSV range parsed with CsvRanges::SpansOnly().
ChunkSummary SummarizeSpans(RowChunk chunk, const FieldSpans& spans, const TableReader& reader,
                            const std::vector<Mode>& modes, Mode fallback, size_t part_rows) {
  ChunkSummary s;
  SummarizeParts(SpanTable{&chunk, spans.data(), &reader}, modes, fallback, part_rows, &s);
  s.chunk = std::move(chunk);
  return s;
}

void SketchStrings(ColumnState* st, const StatsOptions& options) {
  st->distinct = std::make_unique<HyperLogLog>();
  st->heavy = std::make_unique<SpaceSaving>(options.heavy_hitter_capacity);
  // A fixed order (count, then value) so the sketch does not depend on hashing.
  std::vector<std::pair<std::string_view, int64_t>> kept;
  kept.reserve(st->strings.size());
  st->strings.ForEach([&](const StringCounts::Slot& s) { kept.emplace_back(s.key(), s.count); });
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (const auto& [value, count] : kept) {
    st->distinct->Add(value);
    st->heavy->Add(value, count);
  }
  st->strings = {};
  st->arena = {};
}

void SketchNumbers(ColumnState* st, const StatsOptions& options) {
  st->sketch = std::make_unique<QuantileSketch>(options.quantile_sketch_k);
  if (st->counting) {  // ascending: a fixed order, whatever the table's
    for (const auto& [value, count] : st->counts.Sorted()) st->sketch->AddWeighted(value, count);
    st->counts = {};
    st->counting = false;
  }
  st->sketch->AddMany(st->values.data(), st->values.size());
  st->values = {};
}

size_t MaxCounted(const StatsOptions& options) {
  return std::min(kMaxCountedValues, static_cast<size_t>(options.exact_budget_values));
}

// The capacity a column's kept values take to hold `needed` values, from
// `capacity`. `scale` is how many times the rows merged so far the whole input
// is projected to hold (1 when unknown): growing once to the projected end
// instead of doubling avoids copying (and faulting in) the values again and
// again, and the peak of old and new arrays at each doubling.
size_t ValuesCapacity(size_t needed, size_t capacity, double scale) {
  if (needed <= capacity) return capacity;
  const double projected = static_cast<double>(needed) * scale * 1.0625;  // 1/16 slack
  return std::max({needed, static_cast<size_t>(projected), capacity + capacity / 2});
}

// Adds a part's finite values to the column's kept form (see ColumnState).
void KeepNumbers(const FiniteValues& finite, const StatsOptions& options, double scale,
                 ColumnState* st) {
  if (st->counting) {
    st->counts.AddMany(finite.data(), finite.size());
    // Nearly every value distinct after many (ids, measurements): the column
    // is bound to pass the counting limit (97% distinct among 32,768 values
    // in no particular order takes about half a million distinct values), so
    // it switches now rather than after filling and growing a table of
    // 131,072 keys on the one merging thread. Counts and values are both
    // exact; a file sorted by a column of fewer distinct values keeps its
    // values where counts would have done (more memory toward the budget).
    const bool nearly_all_distinct =
        st->finite >= 32768 && static_cast<int64_t>(st->counts.size()) * 100 > st->finite * 97;
    if (st->counts.size() <= MaxCounted(options) && !nearly_all_distinct) return;
    if (static_cast<double>(st->finite) * scale >
        static_cast<double>(options.exact_budget_values)) {
      SketchNumbers(st, options);  // bound to outgrow the budget: no list of values first
      return;
    }
    // Too many distinct values: every value from now on. Those so far in the
    // table's order, which the values' order of insertion decides (it is the
    // file's, for any thread count): sorting them first kept the merging
    // thread busy long enough for the others to run out of work.
    st->values.reserve(ValuesCapacity(static_cast<size_t>(st->finite), 0, scale));
    st->counts.ForEach([&](double value, int64_t count) {
      st->values.insert(st->values.end(), static_cast<size_t>(count), value);
    });
    st->counts = {};
    st->counting = false;
    if (static_cast<int64_t>(st->values.size()) > options.exact_budget_values) {
      SketchNumbers(st, options);
    }
    return;
  }
  // Projected past the budget at the end of the input: a sketch now, while
  // few values have to go into it (one thread merges; the others wait for it).
  if (!st->sketch && static_cast<double>(st->values.size() + finite.size()) * scale >
                         static_cast<double>(options.exact_budget_values)) {
    SketchNumbers(st, options);
  }
  if (st->sketch) {
    st->sketch->AddMany(finite.data(), finite.size());
  } else {
    st->values.reserve(
        ValuesCapacity(st->values.size() + finite.size(), st->values.capacity(), scale));
    st->values.insert(st->values.end(), finite.begin(), finite.end());
  }
}

void MergeColumn(ChunkColumn& c, const StatsOptions& options, double scale, ColumnState* st) {
  st->inferrer.Merge(c.inferrer);
  st->rows += c.rows;
  const int64_t n = static_cast<int64_t>(c.finite.size());
  if (n > 0) {
    // Chan et al.'s pairwise update of the mean and the sum of squared deviations.
    const int64_t total = st->finite + n;
    const double delta = c.mean - st->mean;
    st->mean += delta * static_cast<double>(n) / static_cast<double>(total);
    st->m2 += c.m2 + delta * delta * static_cast<double>(st->finite) * static_cast<double>(n) /
                         static_cast<double>(total);
    st->finite = total;
    st->min = std::min(st->min, c.min);
    st->max = std::max(st->max, c.max);
  }
  st->zeros += c.zeros;
  st->inf += c.inf;
  st->numbers += c.numbers;
  if (n > 0) KeepNumbers(c.finite, options, scale, st);
  st->string_cells += c.string_cells;
  st->string_bytes += c.string_bytes;
  if (!st->distinct) {
    c.strings.ForEach([&](const StringCounts::Slot& s) {
      st->strings.Add(s.key(), s.hash, s.count, &st->arena);
    });
    if (static_cast<int64_t>(st->strings.size()) > options.exact_budget_values) {
      SketchStrings(st, options);
    }
  } else {
    // The chunk's own values in a fixed order: the hash table's order is not part of the input.
    std::vector<std::pair<std::string_view, int64_t>> sorted;
    sorted.reserve(c.strings.size());
    c.strings.ForEach([&](const StringCounts::Slot& s) { sorted.emplace_back(s.key(), s.count); });
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [text, count] : sorted) {
      st->distinct->Add(text);
      st->heavy->Add(text, count);
    }
  }
}

// Bytes column `st` would hold while merging `c` exactly, or at the projected
// end of the input (`scale` as in ValuesCapacity) if that is more: a column
// bound to outgrow the budget switches to a sketch while it is small, not
// after millions of values (a stall of the only merging thread).
size_t ProjectedBytes(const ColumnState& st, const ChunkColumn& c, double scale) {
  size_t bytes = 0;
  if (st.counting) {
    // The table may double; past the distinct limit it turns into the list of
    // every value so far.
    const size_t n = c.finite.size();
    const size_t slots = SlotsFor(st.counts.size() + n);
    const size_t table = std::max(slots * sizeof(NumberCounts::Slot), st.counts.table_bytes());
    bytes +=
        table + (table > st.counts.table_bytes() ? table / 2 : 0);  // old and new while growing
    if (st.counts.size() + n > kMaxCountedValues) {
      bytes += ValuesCapacity(static_cast<size_t>(st.finite) + n, 0, scale) * sizeof(double);
    }
  } else if (!st.sketch) {
    const size_t needed = st.values.size() + c.finite.size();
    const size_t capacity = st.values.capacity();
    const size_t grown = ValuesCapacity(needed, capacity, scale);
    const size_t at_end = static_cast<size_t>(static_cast<double>(needed) * scale);
    // Growing holds the old and the new array at once: the budget covers that peak too.
    bytes += (std::max(grown, at_end) + (grown > capacity ? capacity : 0)) * sizeof(double);
  }
  if (!st.distinct) {
    bytes += st.strings.table_bytes() + st.arena.bytes();
    bytes += c.strings.size() * 2 * sizeof(StringCounts::Slot);  // room for new keys, roughly
  }
  return bytes;
}

// Before merging a chunk: while the columns would keep more than the byte
// budget, the column that would keep the most switches to sketches. Merges
// happen in file order, so the choice is the same for any thread count.
void EnforceByteBudget(const std::vector<ChunkColumn>& next, const std::vector<Mode>& modes,
                       Mode fallback, const StatsOptions& options, double scale,
                       std::vector<ColumnState>* states) {
  const size_t budget = static_cast<size_t>(options.exact_budget_bytes);
  std::vector<size_t> projected(next.size(), 0);
  size_t total = 0;
  for (size_t c = 0; c < next.size(); ++c) {
    if (ModeOf(modes, c, fallback) == Mode::kSkip) continue;
    projected[c] = ProjectedBytes((*states)[c], next[c], scale);
    total += projected[c];
  }
  while (total > budget) {
    size_t largest = 0;
    for (size_t c = 1; c < projected.size(); ++c) {
      if (projected[c] > projected[largest]) largest = c;
    }
    ColumnState& st = (*states)[largest];
    const bool has_numbers =
        !st.sketch && (!st.values.empty() || st.counts.size() > 0 || !next[largest].finite.empty());
    const bool has_strings =
        !st.distinct && (st.strings.size() > 0 || next[largest].strings.size() > 0);
    if (projected[largest] == 0 || (!has_numbers && !has_strings)) break;
    if (has_numbers) SketchNumbers(&st, options);
    if (has_strings) SketchStrings(&st, options);
    total -= projected[largest];
    projected[largest] = 0;
  }
}

// Merges a summarized chunk into the column states (in file order). `scale`:
// the input is projected to hold that many times the rows merged up to and
// with this chunk (1 when its size is unknown).
void MergeSummary(ChunkSummary& next, const std::vector<Mode>& modes, Mode fallback,
                  const StatsOptions& options, double scale, std::vector<ColumnState>* states) {
  for (std::vector<ChunkColumn>& part : next.parts) {
    if (states->size() < part.size()) states->resize(part.size());
    EnforceByteBudget(part, modes, fallback, options, scale, states);
    for (size_t c = 0; c < part.size(); ++c) {
      if (ModeOf(modes, c, fallback) != Mode::kSkip) {
        MergeColumn(part[c], options, scale, &(*states)[c]);
      }
    }
  }
  next.parts.clear();
}

// A column with text that is not a number in the first `rows` rows will not be
// numeric: its numbers go to the string summary from the start.
template <typename Cells>
void ChooseModes(const Cells& cells, size_t rows, std::vector<Mode>* modes) {
  modes->assign(cells.num_columns(), Mode::kNumeric);
  rows = std::min(rows, cells.num_rows());
  for (size_t c = 0; c < cells.num_columns(); ++c) {
    const auto column = cells.column(c);
    for (size_t r = 0; r < rows; ++r) {
      double value;
      const std::string_view text = column.text(r);
      if (!column.is_null(r, text) && !ParseFloat(text, &value)) {
        (*modes)[c] = Mode::kString;
        break;
      }
    }
  }
}

// RunPass over a plain CSV file: every thread parses and summarizes byte
// ranges, and whichever finds the next range in file order ready commits it
// (re-parsing it if its speculative start was wrong) and merges it.
Status RunRangePass(CsvRanges& ranges, TableReader& reader, const StatsOptions& options,
                    std::vector<Mode>* modes, Mode fallback, std::vector<ColumnState>* states,
                    int64_t* num_rows) {
  const int threads = std::max(1, options.threads);
  const size_t part_rows = reader.options().chunk_rows;
  const size_t count = ranges.size();
  const size_t max_in_flight = static_cast<size_t>(threads) * 2 + 1;
  std::mutex mu;
  std::condition_variable cv;
  std::map<size_t, std::pair<std::unique_ptr<CsvRange>, ChunkSummary>> ready;
  std::vector<std::unique_ptr<CsvRange>> spare;
  size_t next_task = 0, next_merge = 0;
  bool stop = false;
  Status status;
  int64_t rows = 0;

  ranges.SpansOnly();  // summarizing reads the fields' bytes and finds the nulls itself
  // The first range is parsed here: its first rows choose the modes the
  // workers need. Its start is known, so it is never parsed again.
  std::unique_ptr<CsvRange> first;
  if (count > 0 && modes->empty()) {
    first = std::make_unique<CsvRange>();
    CAIRN_RETURN_IF_ERROR(ranges.ParseSpeculative(0, first.get()));
    if (!first->failed) {
      ChooseModes(SpanTable{&first->chunk, first->spans.data(), &reader}, part_rows, modes);
    }
  }

  auto fail = [&](Status s) {  // under `mu`
    if (status.ok()) status = std::move(s);
    stop = true;
    cv.notify_all();
  };
  // Only the calling thread (`merger`) merges: the column states (sketch
  // levels, string tables, kept values) then stay in one core's cache instead
  // of moving between cores with every range, which made merging twice as slow.
  auto work = [&](bool merger) {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      const auto mergeable = [&] {
        return merger && !ready.empty() && ready.begin()->first == next_merge;
      };
      cv.wait(lock, [&] {
        return stop || mergeable() || next_merge >= count ||
               (next_task < count && next_task < next_merge + max_in_flight);
      });
      if (stop || next_merge >= count) return;
      if (!merger && next_task >= count) return;
      if (mergeable()) {
        auto [next_range, next] = std::move(ready.begin()->second);
        ready.erase(ready.begin());
        lock.unlock();
        if (next.parts.empty()) next_range->chunk = std::move(next.chunk);
        Result<bool> reparsed = ranges.Commit(next_range.get());
        if (reparsed.ok()) {
          if (*reparsed || next.parts.empty()) {
            next = SummarizeSpans(std::move(next_range->chunk), next_range->spans, reader, *modes,
                                  fallback, part_rows);
          }
          // Ranges are equally long: the file holds count / (ranges merged) times the rows so far.
          MergeSummary(next, *modes, fallback, options,
                       static_cast<double>(count) / static_cast<double>(next_merge + 1), states);
        }
        lock.lock();
        if (!reparsed.ok()) {
          fail(reparsed.status());
          return;
        }
        rows += static_cast<int64_t>(next.chunk.num_rows);
        next_range->chunk = std::move(next.chunk);
        spare.push_back(std::move(next_range));
        ++next_merge;
        cv.notify_all();
        continue;
      }
      if (next_task >= count || next_task >= next_merge + max_in_flight) continue;
      const size_t index = next_task++;
      std::unique_ptr<CsvRange> range = index == 0 && first ? std::move(first) : nullptr;
      const bool parse = range == nullptr;
      if (parse && !spare.empty()) {  // a merged range's buffers, already faulted in
        range = std::move(spare.back());
        spare.pop_back();
      }
      lock.unlock();
      Status parsed = Status::Ok();
      if (parse) {
        if (!range) range = std::make_unique<CsvRange>();
        parsed = ranges.ParseSpeculative(index, range.get());
      }
      ChunkSummary summary;
      // A failed range is either a real error or a wrong guess: Commit decides.
      if (parsed.ok() && !range->failed) {
        summary = SummarizeSpans(std::move(range->chunk), range->spans, reader, *modes, fallback,
                                 part_rows);
      }
      lock.lock();
      if (!parsed.ok()) {
        fail(parsed);
        return;
      }
      ready.emplace(index, std::make_pair(std::move(range), std::move(summary)));
      cv.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(work, false);
  work(true);
  for (auto& w : workers) w.join();
  CAIRN_RETURN_IF_ERROR(status);
  *num_rows = rows;
  if (states->size() < reader.columns().size()) states->resize(reader.columns().size());
  return Status::Ok();
}

// Reads `reader` to the end; worker threads summarize chunks and whichever
// worker finds the next chunk in order ready merges it, so states see chunks
// in file order whatever the timing. `modes` (by column) is filled from the
// first chunk when empty; columns past it use `fallback`.
Status RunPass(TableReader& reader, const StatsOptions& options, std::vector<Mode>* modes,
               Mode fallback, std::vector<ColumnState>* states, int64_t* num_rows) {
  if (std::unique_ptr<CsvRanges> ranges = CsvRanges::Split(reader)) {
    return RunRangePass(*ranges, reader, options, modes, fallback, states, num_rows);
  }
  const int threads = std::max(1, options.threads);
  const size_t max_in_flight = static_cast<size_t>(threads) * 2 + 1;
  const size_t part_rows = reader.options().chunk_rows;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int64_t, RowChunk>> todo;
  std::vector<RowChunk> spare;
  std::map<int64_t, ChunkSummary> ready;
  int64_t next_merge = 0;
  size_t in_flight = 0;
  bool merging = false, done_reading = false;
  const bool choose_modes = modes->empty();

  auto work = [&] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return !todo.empty() || done_reading; });
      if (todo.empty()) return;
      auto [index, chunk] = std::move(todo.front());
      todo.pop_front();
      lock.unlock();
      ChunkSummary summary = Summarize(std::move(chunk), *modes, fallback, part_rows);
      lock.lock();
      ready.emplace(index, std::move(summary));
      if (merging) continue;  // the merging worker picks it up in order
      merging = true;
      while (!ready.empty() && ready.begin()->first == next_merge) {
        ChunkSummary next = std::move(ready.begin()->second);
        ready.erase(ready.begin());
        lock.unlock();
        MergeSummary(next, *modes, fallback, options, 1.0, states);
        lock.lock();
        spare.push_back(std::move(next.chunk));
        --in_flight;
        ++next_merge;
        cv.notify_all();
      }
      merging = false;
    }
  };
  std::vector<std::thread> workers;
  Status status;
  int64_t rows = 0;
  for (int64_t index = 0;; ++index) {
    RowChunk chunk;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < max_in_flight; });
      if (!spare.empty()) {
        chunk = std::move(spare.back());
        spare.pop_back();
      }
    }
    Result<bool> more = reader.Next(&chunk);
    if (!more.ok()) {
      status = more.status();
      break;
    }
    if (!*more) break;
    rows += static_cast<int64_t>(chunk.num_rows);
    if (index == 0 && choose_modes) ChooseModes(CellTable{&chunk}, chunk.num_rows, modes);
    if (workers.empty()) {
      for (int t = 0; t < threads; ++t) workers.emplace_back(work);
    }
    std::lock_guard<std::mutex> lock(mu);
    todo.emplace_back(index, std::move(chunk));
    ++in_flight;
    cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done_reading = true;
    cv.notify_all();
  }
  for (auto& w : workers) w.join();
  *num_rows = rows;
  if (states->size() < reader.columns().size()) states->resize(reader.columns().size());
  return status;
}

bool IsNumeric(ColumnType type) { return type == ColumnType::kInt || type == ColumnType::kFloat; }

// Puts the elements of the given sorted ranks (positions in sorted order) in
// place, as a full sort would, by nested selections: O(n log(ranks)) instead
// of O(n log n).
void SelectRanks(std::vector<double>::iterator begin, std::vector<double>::iterator end,
                 size_t offset, const size_t* ranks_begin, const size_t* ranks_end) {
  if (ranks_begin == ranks_end || end - begin <= 1) return;
  const size_t* middle = ranks_begin + (ranks_end - ranks_begin) / 2;
  auto nth = begin + static_cast<ptrdiff_t>(*middle - offset);
  std::nth_element(begin, nth, end);
  SelectRanks(begin, nth, offset, ranks_begin, middle);
  SelectRanks(nth + 1, end, *middle + 1, middle + 1, ranks_end);
}

// The values at the given ranks (ascending, distinct) of `values` in sorted
// order, which may reorder them. A radix selection: one pass for the range of
// the order-preserving keys, one counting the keys' top 16 bits (of that
// range), one gathering the few buckets that hold a wanted rank; then
// selections inside those buckets only. About three reads of the values
// instead of a dozen nested nth_element passes; inputs whose wanted buckets
// hold much of the data (few distinct values) take the nested selections.
std::vector<double> ValuesAtRanks(std::vector<double>& values, const std::vector<size_t>& ranks) {
  const size_t n = values.size();
  std::vector<double> out(ranks.size());
  auto by_selection = [&] {
    SelectRanks(values.begin(), values.end(), 0, ranks.data(), ranks.data() + ranks.size());
    for (size_t i = 0; i < ranks.size(); ++i) out[i] = values[ranks[i]];
    return out;
  };
  if (n < (size_t{1} << 16) || n > UINT32_MAX || ranks.empty()) return by_selection();
  uint64_t lo = ~uint64_t{0}, hi = 0;
  for (double v : values) {
    const uint64_t key = OrderedKey(v);
    lo = std::min(lo, key);
    hi = std::max(hi, key);
  }
  constexpr int kBits = 16;
  const int shift = std::max(0, static_cast<int>(std::bit_width(hi - lo)) - kBits);
  const size_t buckets = static_cast<size_t>((hi - lo) >> shift) + 1;
  std::vector<uint32_t> counts(buckets, 0);
  for (double v : values) ++counts[(OrderedKey(v) - lo) >> shift];
  // Each wanted rank's bucket, and the rank of its bucket's first value.
  std::vector<size_t> bucket_of(ranks.size()), first_rank(ranks.size());
  size_t below = 0, r = 0;
  for (size_t b = 0; b < buckets && r < ranks.size(); ++b) {
    while (r < ranks.size() && ranks[r] < below + counts[b]) {
      bucket_of[r] = b;
      first_rank[r] = below;
      ++r;
    }
    below += counts[b];
  }
  // Wanted buckets get consecutive places in `gathered`.
  std::vector<int32_t> slot(buckets, -1);
  std::vector<size_t> slot_start, slot_fill;
  size_t total = 0;
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (slot[bucket_of[i]] >= 0) continue;
    slot[bucket_of[i]] = static_cast<int32_t>(slot_start.size());
    slot_start.push_back(total);
    total += counts[bucket_of[i]];
  }
  if (total > n / 8) return by_selection();
  slot_fill = slot_start;
  std::vector<double> gathered(total);
  for (double v : values) {
    const int32_t at = slot[(OrderedKey(v) - lo) >> shift];
    if (at >= 0) gathered[slot_fill[static_cast<size_t>(at)]++] = v;
  }
  for (size_t i = 0; i < ranks.size();) {
    // The wanted ranks in bucket_of[i], selected inside its values.
    size_t j = i;
    while (j < ranks.size() && bucket_of[j] == bucket_of[i]) ++j;
    const size_t start = slot_start[static_cast<size_t>(slot[bucket_of[i]])];
    const auto begin = gathered.begin() + static_cast<ptrdiff_t>(start);
    const auto end = begin + counts[bucket_of[i]];
    // SelectRanks wants ranks relative to `offset`, the rank of the bucket's first value.
    std::vector<size_t> local(ranks.begin() + static_cast<ptrdiff_t>(i),
                              ranks.begin() + static_cast<ptrdiff_t>(j));
    for (size_t& rank : local) rank -= first_rank[i];
    SelectRanks(begin, end, 0, local.data(), local.data() + local.size());
    for (size_t k = i; k < j; ++k) out[k] = *(begin + static_cast<ptrdiff_t>(local[k - i]));
    i = j;
  }
  return out;
}

// numpy's default (linear) quantiles of n values, from `values_at`, which
// gives the values at sorted, distinct ranks.
template <typename ValuesAt>
std::vector<double> LinearQuantiles(size_t n, const std::vector<double>& fractions,
                                    ValuesAt&& values_at) {
  std::vector<size_t> ranks;
  for (double f : fractions) {
    const size_t lo = static_cast<size_t>(std::floor(f * static_cast<double>(n - 1)));
    ranks.push_back(lo);
    if (lo + 1 < n) ranks.push_back(lo + 1);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  const std::vector<double> at = values_at(ranks);
  auto value = [&](size_t rank) {
    return at[static_cast<size_t>(std::lower_bound(ranks.begin(), ranks.end(), rank) -
                                  ranks.begin())];
  };
  std::vector<double> out;
  for (double f : fractions) {
    const double h = f * static_cast<double>(n - 1);
    const size_t lo = static_cast<size_t>(std::floor(h));
    out.push_back(lo + 1 >= n
                      ? value(lo)
                      : value(lo) + (h - static_cast<double>(lo)) * (value(lo + 1) - value(lo)));
  }
  return out;
}

// The values at sorted, distinct ranks of the values counted in `sorted`
// ((value, count) ascending).
std::vector<double> CountedValuesAtRanks(const std::vector<std::pair<double, int64_t>>& sorted,
                                         const std::vector<size_t>& ranks) {
  std::vector<double> out;
  size_t below = 0, i = 0;
  for (size_t rank : ranks) {
    while (i < sorted.size() && rank >= below + static_cast<size_t>(sorted[i].second)) {
      below += static_cast<size_t>(sorted[i].second);
      ++i;
    }
    out.push_back(sorted[std::min(i, sorted.size() - 1)].first);
  }
  return out;
}

void FinishNumeric(ColumnState& st, const ColumnInference& inference, NumericStats* out) {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  out->finite = st.finite;
  out->zeros = st.zeros;
  out->nan = inference.nans;
  out->inf = st.inf;
  if (st.finite == 0) {
    out->mean = out->std_dev = out->min = out->median = out->max = kNan;
    return;
  }
  out->mean = st.mean;
  out->std_dev = std::sqrt(st.m2 / static_cast<double>(st.finite));
  out->min = st.min;
  out->max = st.max;
  out->quantiles.resize(kBuckets + 1);
  std::vector<std::pair<double, int64_t>> counted;  // (value, count) ascending, when counting
  if (st.sketch) {
    out->quantiles_are_estimate = true;
    out->rank_error_bound = st.sketch->RankErrorBound();
    std::vector<double> fractions;
    for (int i = 0; i <= kBuckets; ++i) fractions.push_back(i / 10.0);
    out->quantiles = st.sketch->Quantiles(fractions);
  } else {
    std::vector<double> fractions;
    for (int i = 0; i <= kBuckets; ++i) fractions.push_back(i / 10.0);
    const size_t n = static_cast<size_t>(st.finite);
    if (st.counting) {
      counted = st.counts.Sorted();
      out->quantiles = LinearQuantiles(n, fractions, [&](const std::vector<size_t>& ranks) {
        return CountedValuesAtRanks(counted, ranks);
      });
    } else {
      out->quantiles = LinearQuantiles(n, fractions, [&](const std::vector<size_t>& ranks) {
        return ValuesAtRanks(st.values, ranks);
      });
    }
  }
  // The extremes are tracked exactly either way.
  out->quantiles.front() = st.min;
  out->quantiles.back() = st.max;
  out->median = out->quantiles[kBuckets / 2];

  // Equal-width buckets with numpy.histogram's conventions: [low, high), the
  // last one closed; a single value widens the range to [v - 0.5, v + 0.5].
  double lo = st.min, hi = st.max;
  if (lo == hi) lo -= 0.5, hi += 0.5;
  const double width = (hi - lo) / kBuckets;
  std::vector<double> edges(kBuckets + 1);
  for (int i = 0; i <= kBuckets; ++i) edges[i] = lo + width * i;
  edges.back() = hi;
  std::vector<double> counts(kBuckets, 0);
  if (st.sketch) {
    double below = 0;
    for (int i = 0; i < kBuckets; ++i) {
      double upto =
          i + 1 == kBuckets ? static_cast<double>(st.finite) : st.sketch->Rank(edges[i + 1]);
      counts[i] = std::max(0.0, upto - below);
      below = std::max(below, upto);
    }
  } else if (st.counting) {
    for (const auto& [v, count] : counted) {
      int b = static_cast<int>((v - lo) / width);
      counts[std::clamp(b, 0, kBuckets - 1)] += static_cast<double>(count);
    }
  } else {
    for (double v : st.values) {
      int b = static_cast<int>((v - lo) / width);
      counts[std::clamp(b, 0, kBuckets - 1)] += 1;
    }
  }
  for (int i = 0; i < kBuckets; ++i) out->histogram.push_back({edges[i], edges[i + 1], counts[i]});
  const double per_bucket = static_cast<double>(st.finite) / kBuckets;
  for (int i = 0; i < kBuckets; ++i) {
    out->quantile_histogram.push_back({out->quantiles[i], out->quantiles[i + 1], per_bucket});
  }
  st.values = {};
}

void FinishString(const ColumnState& st, const ColumnInference& inference, int top_k,
                  StringStats* out) {
  out->invalid_utf8 = inference.invalid_utf8;
  out->avg_length = st.string_cells == 0 ? 0
                                         : static_cast<double>(st.string_bytes) /
                                               static_cast<double>(st.string_cells);
  const size_t k = static_cast<size_t>(std::max(0, top_k));
  if (st.distinct) {
    out->unique = static_cast<int64_t>(std::llround(st.distinct->Estimate()));
    out->unique_is_estimate = true;
    out->top_k_is_estimate = true;
    for (const auto& e : st.heavy->Top(k)) out->top_k.push_back({e.value, e.count});
    return;
  }
  out->unique = static_cast<int64_t>(st.strings.size());
  std::vector<std::pair<std::string_view, int64_t>> all;
  all.reserve(st.strings.size());
  st.strings.ForEach([&](const StringCounts::Slot& s) { all.emplace_back(s.key(), s.count); });
  auto order = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (all.size() > k) {
    std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end(), order);
    all.resize(k);
  } else {
    std::sort(all.begin(), all.end(), order);
  }
  for (const auto& [value, count] : all) out->top_k.push_back({std::string(value), count});
}

// Invalid UTF-8 bytes become U+FFFD so the JSON can be written.
std::string ValidUtf8(const std::string& text) {
  if (IsValidUtf8(text)) return text;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 0;
    for (size_t n = 1; n <= 4 && i + n <= text.size(); ++n) {
      if (IsValidUtf8(std::string_view(text).substr(i, n))) {
        len = n;
        break;
      }
    }
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      i += 1;
    } else {
      out.append(text, i, len);
      i += len;
    }
  }
  return out;
}

std::string Num(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100);
  return buf;
}

// Display text: control bytes and invalid UTF-8 as '?', long values cut.
std::string Printable(const std::string& value) {
  std::string out = ValidUtf8(value);
  for (char& ch : out) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
  }
  if (out.size() > 24) out = out.substr(0, 21) + "...";
  return out;
}

void AppendTable(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows, std::string* out) {
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      text += cells[i];
      if (i + 1 < cells.size()) text += std::string(widths[i] - cells[i].size() + 2, ' ');
    }
    *out += text + "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

FeatureStats FinishFeature(std::string name, const ColumnInference& inference, int64_t num_rows,
                           const StatsOptions& options, ColumnState* state) {
  FeatureStats f;
  f.name = std::move(name);
  f.type = inference.type;
  f.count = inference.values;
  f.missing = inference.nulls;
  f.missing_fraction =
      num_rows == 0 ? 0 : static_cast<double>(f.missing) / static_cast<double>(num_rows);
  if (IsNumeric(f.type)) {
    f.has_numeric = true;
    FinishNumeric(*state, inference, &f.numeric);
  } else if (f.type != ColumnType::kEmpty) {
    f.has_string = true;
    FinishString(*state, inference, options.top_k, &f.string);
  }
  *state = ColumnState();  // frees the kept values early
  return f;
}

}  // namespace

Result<DatasetStats> ComputeStats(TableReader& reader, const StatsOptions& options) {
  if (options.exact_budget_values < 0 || options.exact_budget_bytes < 0 || options.top_k < 0 ||
      options.quantile_sketch_k < 2 || options.heavy_hitter_capacity < 1) {
    return InvalidParameter(
        "statistics options: exact_budget_values, exact_budget_bytes and top_k must be >= 0, "
        "quantile_sketch_k >= 2 "
        "and heavy_hitter_capacity >= 1");
  }
  std::vector<Mode> modes;
  std::vector<ColumnState> states;
  int64_t num_rows = 0;
  CAIRN_RETURN_IF_ERROR(RunPass(reader, options, &modes, Mode::kNumeric, &states, &num_rows));

  std::vector<ColumnInference> inferences(states.size());
  std::vector<Mode> rescan(states.size(), Mode::kSkip);
  bool again = false;
  for (size_t c = 0; c < states.size(); ++c) {
    ColumnTypeInferrer inferrer = states[c].inferrer;
    inferrer.AddNulls(num_rows - states[c].rows);  // JSON columns absent from early chunks
    inferences[c] = inferrer.Finish();
    const Mode mode = ModeOf(modes, c, Mode::kNumeric);
    const ColumnType type = inferences[c].type;
    // The first pass kept numbers of kNumeric columns only as numbers, and
    // kString columns only as text: a column that became the other kind is read again.
    const bool lacks_text = !IsNumeric(type) && type != ColumnType::kEmpty &&
                            mode == Mode::kNumeric && states[c].numbers > 0;
    const bool lacks_numbers = IsNumeric(type) && mode == Mode::kString;
    if (lacks_text || lacks_numbers) {
      rescan[c] = Mode::kBoth;
      again = true;
    }
  }
  if (again) {
    ReaderOptions reopen = reader.options();
    reopen.format = reader.format();
    reopen.delimiter = reader.delimiter();
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> second,
                           TableReader::Open(reader.path(), reopen));
    std::vector<ColumnState> fresh;
    int64_t rows_again = 0;
    CAIRN_RETURN_IF_ERROR(RunPass(*second, options, &rescan, Mode::kSkip, &fresh, &rows_again));
    if (rows_again != num_rows) {
      return Status(ErrorCode::kInvalidState,
                    reader.path().string() + " changed while its statistics were computed");
    }
    for (size_t c = 0; c < states.size() && c < fresh.size(); ++c) {
      if (rescan[c] == Mode::kBoth) states[c] = std::move(fresh[c]);
    }
  }

  DatasetStats out;
  out.source = reader.path().string();
  out.num_rows = num_rows;
  const auto& names = reader.columns();
  out.features.resize(states.size());
  // Columns finish independently (quantile selection dominates): spread them over the threads.
  std::atomic<size_t> next_column{0};
  auto finish = [&] {
    for (size_t c; (c = next_column.fetch_add(1)) < states.size();) {
      out.features[c] =
          FinishFeature(c < names.size() ? names[c] : "column_" + std::to_string(c + 1),
                        inferences[c], num_rows, options, &states[c]);
    }
  };
  std::vector<std::thread> finishers;
  for (int t = 1; t < options.threads; ++t) finishers.emplace_back(finish);
  finish();
  for (auto& t : finishers) t.join();
  for (const auto& f : out.features) {
    if (f.numeric.quantiles_are_estimate || f.string.unique_is_estimate) out.exact = false;
  }
  return out;
}

nlohmann::json StatsToJson(const DatasetStats& stats) {
  using nlohmann::json;
  json features = json::array();
  auto buckets = [](const std::vector<HistogramBucket>& bs) {
    json a = json::array();
    for (const auto& b : bs) a.push_back({{"low", b.low}, {"high", b.high}, {"count", b.count}});
    return a;
  };
  for (const auto& f : stats.features) {
    json j = {{"name", ValidUtf8(f.name)},
              {"type", ColumnTypeName(f.type)},
              {"count", f.count},
              {"missing", f.missing},
              {"missing_fraction", f.missing_fraction}};
    if (f.has_numeric) {
      const NumericStats& n = f.numeric;
      json quantiles = json::array();
      for (size_t i = 0; i < n.quantiles.size(); ++i) {
        quantiles.push_back(
            {{"fraction", static_cast<double>(i) / kBuckets}, {"value", n.quantiles[i]}});
      }
      // NaN (no finite values) is written as null by nlohmann::json.
      j["numeric"] = {{"finite", n.finite},
                      {"mean", n.mean},
                      {"std_dev", n.std_dev},
                      {"zeros", n.zeros},
                      {"nan", n.nan},
                      {"inf", n.inf},
                      {"min", n.min},
                      {"median", n.median},
                      {"max", n.max},
                      {"quantiles", quantiles},
                      {"histogram", buckets(n.histogram)},
                      {"quantile_histogram", buckets(n.quantile_histogram)},
                      {"quantiles_are_estimate", n.quantiles_are_estimate},
                      {"rank_error_bound", n.rank_error_bound}};
    }
    if (f.has_string) {
      const StringStats& s = f.string;
      json top = json::array();
      for (const auto& t : s.top_k)
        top.push_back({{"value", ValidUtf8(t.value)}, {"count", t.count}});
      j["string"] = {{"unique", s.unique},
                     {"unique_is_estimate", s.unique_is_estimate},
                     {"top_k", top},
                     {"top_k_is_estimate", s.top_k_is_estimate},
                     {"avg_length", s.avg_length},
                     {"invalid_utf8", s.invalid_utf8}};
    }
    features.push_back(std::move(j));
  }
  return {{"format", kStatsFormat},
          {"source", ValidUtf8(stats.source)},
          {"num_rows", stats.num_rows},
          {"exact", stats.exact},
          {"features", features}};
}

std::string StatsTable(const DatasetStats& stats) {
  std::string out = stats.source + ": " + std::to_string(stats.num_rows) + " rows, " +
                    std::to_string(stats.features.size()) + " features" +
                    (stats.exact ? "" : " (some statistics estimated from sketches)") + "\n";
  std::vector<std::vector<std::string>> numeric, strings, empty;
  for (const auto& f : stats.features) {
    if (f.has_numeric) {
      const NumericStats& n = f.numeric;
      numeric.push_back({Printable(f.name), ColumnTypeName(f.type), std::to_string(f.count),
                         Percent(f.missing_fraction), Num(n.mean), Num(n.std_dev),
                         std::to_string(n.zeros), std::to_string(n.nan + n.inf), Num(n.min),
                         Num(n.median), Num(n.max)});
    } else if (f.has_string) {
      const StringStats& s = f.string;
      std::string top;
      for (size_t i = 0; i < s.top_k.size() && i < 3; ++i) {
        if (i > 0) top += ", ";
        top += Printable(s.top_k[i].value) + " (" + std::to_string(s.top_k[i].count) + ")";
      }
      strings.push_back({Printable(f.name), ColumnTypeName(f.type), std::to_string(f.count),
                         Percent(f.missing_fraction),
                         (s.unique_is_estimate ? "~" : "") + std::to_string(s.unique),
                         Num(s.avg_length), std::to_string(s.invalid_utf8), top});
    } else {
      empty.push_back({Printable(f.name), std::to_string(f.missing)});
    }
  }
  if (!numeric.empty()) {
    out += "\nnumeric features\n";
    AppendTable({"feature", "type", "count", "missing", "mean", "std", "zeros", "nan/inf", "min",
                 "median", "max"},
                numeric, &out);
  }
  if (!strings.empty()) {
    out += "\nstring features\n";
    AppendTable(
        {"feature", "type", "count", "missing", "unique", "avg len", "bad utf8", "top values"},
        strings, &out);
  }
  if (!empty.empty()) {
    out += "\nempty features (no values)\n";
    AppendTable({"feature", "missing"}, empty, &out);
  }
  return out;
}

}  // namespace cairn::data
