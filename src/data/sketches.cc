#include "data/sketches.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>

namespace cairn::data {

// ---- QuantileSketch -------------------------------------------------------------------

void QuantileSketch::Add(double value) {
  if (levels_.empty()) {
    levels_.emplace_back();
    levels_[0].reserve(static_cast<size_t>(k_));
    next_offset_.push_back(0);
  }
  levels_[0].push_back(value);
  ++count_;
  if (levels_[0].size() >= static_cast<size_t>(k_)) Compact(0);
}

void QuantileSketch::AddMany(const double* values, size_t n) {
  if (n == 0) return;
  if (levels_.empty()) Add(*values++), --n;
  const size_t k = static_cast<size_t>(k_);
  while (n > 0) {
    std::vector<double>& level0 = levels_[0];
    const size_t take = std::min(n, k - std::min(k, level0.size()));
    level0.insert(level0.end(), values, values + take);
    values += take;
    n -= take;
    count_ += static_cast<int64_t>(take);
    if (levels_[0].size() >= k) Compact(0);
  }
}

void QuantileSketch::AddWeighted(double value, int64_t weight) {
  if (weight <= 0) return;
  if (weight == 1) return Add(value);
  for (int level = 0; weight != 0; ++level, weight >>= 1) {
    if ((weight & 1) == 0) continue;
    while (levels_.size() <= static_cast<size_t>(level)) {
      levels_.emplace_back();
      next_offset_.push_back(0);
    }
    levels_[level].push_back(value);
    count_ += int64_t{1} << level;
    if (levels_[level].size() >= static_cast<size_t>(k_)) Compact(level);
  }
}

namespace {

// Doubles (no NaNs) as unsigned keys in the same order: -0.0 sorts before 0.0.
inline uint64_t OrderedKey(double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}
inline double FromOrderedKey(uint64_t key) {
  return std::bit_cast<double>((key >> 63) != 0 ? key & ~(uint64_t{1} << 63) : ~key);
}

// Sorts doubles by their order-preserving 64-bit keys: an LSD radix sort on
// the high 32 bits only (three 11-bit digits; one pass counts them all, a
// digit that is the same in every key is skipped), then the rare runs of
// keys equal in their high half are finished by comparison. For a few
// thousand doubles this is several times faster than std::sort (no
// mispredictions) and half the passes of a full 64-bit radix sort.
void RadixSort(std::vector<double>& items, std::vector<uint64_t>& keys,
               std::vector<uint64_t>& scratch) {
  constexpr int kBits = 11, kDigits = 3, kRadix = 1 << kBits, kLow = 64 - kBits * kDigits;
  const size_t n = items.size();
  if (n < 2) return;
  keys.resize(n);
  scratch.resize(n);
  static thread_local uint32_t counts[kDigits][kRadix];
  std::fill(&counts[0][0], &counts[0][0] + kDigits * kRadix, 0u);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t key = OrderedKey(items[i]);
    keys[i] = key;
    for (int b = 0; b < kDigits; ++b) ++counts[b][(key >> (kLow + kBits * b)) & (kRadix - 1)];
  }
  uint64_t* from = keys.data();
  uint64_t* to = scratch.data();
  for (int b = 0; b < kDigits; ++b) {
    const int shift = kLow + kBits * b;
    uint32_t* count = counts[b];
    if (count[(from[0] >> shift) & (kRadix - 1)] == n) continue;  // one digit value: no reorder
    uint32_t sum = 0;
    for (int d = 0; d < kRadix; ++d) {
      const uint32_t here = count[d];
      count[d] = sum;
      sum += here;
    }
    for (size_t i = 0; i < n; ++i) to[count[(from[i] >> shift) & (kRadix - 1)]++] = from[i];
    std::swap(from, to);
  }
  // Keys with the same high bits are adjacent now, in input order: sort each
  // such run that is not in order already (runs of equal values are).
  for (size_t i = 0; i + 1 < n;) {
    size_t j = i + 1;
    bool sorted = true;
    while (j < n && (from[j] >> kLow) == (from[i] >> kLow)) {
      sorted = sorted && from[j - 1] <= from[j];
      ++j;
    }
    if (!sorted) std::sort(from + i, from + j);
    i = j;
  }
  for (size_t i = 0; i < n; ++i) items[i] = FromOrderedKey(from[i]);
}

// Sorts items that are a few sorted runs (what compactions below leave on an
// upper level) by merging the runs; many runs fall back to the radix sort.
// Each merge copies its left run to `left` and merges forward in place (the
// output never passes the right run's next item), stably, without the
// temporary buffer std::inplace_merge allocates on every call.
void SortRuns(std::vector<double>& items, std::vector<uint64_t>& keys,
              std::vector<uint64_t>& scratch, std::vector<double>& left) {
  size_t bounds[4];
  size_t runs = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    if (items[i] < items[i - 1]) {
      if (runs == 4) return RadixSort(items, keys, scratch);
      bounds[runs++] = i;
    }
  }
  // Merge from the right: [.., b_last) with [b_last, end), and so on.
  double* data = items.data();
  const size_t n = items.size();
  for (size_t r = runs; r-- > 0;) {
    const size_t lo = r == 0 ? 0 : bounds[r - 1], mid = bounds[r];
    left.assign(data + lo, data + mid);
    size_t a = 0, b = mid, out = lo;
    const size_t a_end = left.size();
    while (a < a_end && b < n) data[out++] = data[b] < left[a] ? data[b++] : left[a++];
    while (a < a_end) data[out++] = left[a++];
  }
}

}  // namespace

namespace sketch_internal {
void SortDoubles(std::vector<double>& items) {
  std::vector<uint64_t> keys, scratch;
  RadixSort(items, keys, scratch);
}
}  // namespace sketch_internal

void QuantileSketch::Compact(size_t level) {
  if (level + 1 == levels_.size()) {
    levels_.emplace_back();
    next_offset_.push_back(0);
  }
  std::vector<double>& items = levels_[level];
  // Level 0 holds the input as it came; upper levels hold sorted halves of compactions.
  if (level == 0) {
    RadixSort(items, sort_keys_, sort_scratch_);
  } else {
    SortRuns(items, sort_keys_, sort_scratch_, merge_left_);
  }
  // An odd item out stays at this level so the weight moved up is exact.
  size_t paired = items.size() & ~size_t{1};
  size_t offset = next_offset_[level];
  next_offset_[level] ^= 1;
  std::vector<double>& up = levels_[level + 1];
  for (size_t i = offset; i < paired; i += 2) up.push_back(items[i]);
  if (paired < items.size()) {
    double last = items.back();
    items.clear();
    items.push_back(last);
  } else {
    items.clear();
  }
  if (up.size() >= static_cast<size_t>(k_)) Compact(level + 1);
}

double QuantileSketch::RankErrorBound() const {
  if (levels_.size() <= 1) return 0;
  return static_cast<double>(levels_.size() - 1) / k_;
}

std::vector<std::pair<double, int64_t>> QuantileSketch::Sorted() const {
  std::vector<std::pair<double, int64_t>> all;
  for (size_t l = 0; l < levels_.size(); ++l) {
    for (double v : levels_[l]) all.emplace_back(v, int64_t{1} << l);
  }
  std::sort(all.begin(), all.end());
  return all;
}

double QuantileSketch::Quantile(double fraction) const {
  auto all = Sorted();
  if (all.empty()) return std::nan("");
  int64_t weight = 0;
  for (const auto& item : all) weight += item.second;
  // The first item whose cumulative weight reaches the target rank.
  double target = std::clamp(fraction, 0.0, 1.0) * static_cast<double>(weight);
  int64_t seen = 0;
  for (const auto& [value, w] : all) {
    seen += w;
    if (static_cast<double>(seen) >= target) return value;
  }
  return all.back().first;
}

std::vector<double> QuantileSketch::Quantiles(const std::vector<double>& fractions) const {
  auto all = Sorted();
  std::vector<double> out;
  int64_t weight = 0;
  for (const auto& item : all) weight += item.second;
  for (double fraction : fractions) {
    if (all.empty()) {
      out.push_back(std::nan(""));
      continue;
    }
    // As Quantile(): the first item whose cumulative weight reaches the target rank.
    const double target = std::clamp(fraction, 0.0, 1.0) * static_cast<double>(weight);
    int64_t seen = 0;
    double value = all.back().first;
    for (const auto& [v, w] : all) {
      seen += w;
      if (static_cast<double>(seen) >= target) {
        value = v;
        break;
      }
    }
    out.push_back(value);
  }
  return out;
}

double QuantileSketch::Rank(double value) const {
  double rank = 0;
  for (size_t l = 0; l < levels_.size(); ++l) {
    for (double v : levels_[l]) {
      if (v <= value) rank += static_cast<double>(int64_t{1} << l);
    }
  }
  return rank;
}

// ---- HyperLogLog ----------------------------------------------------------------------

uint64_t HyperLogLog::Hash64(std::string_view value) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : value) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return MurmurFinalize64(h);
}

void HyperLogLog::AddHash(uint64_t hash) {
  size_t index = hash >> (64 - kPrecision);
  uint64_t rest = hash << kPrecision;
  // Position of the first 1 bit in the remaining 50 bits (51 when all are 0).
  uint8_t rank = rest == 0 ? static_cast<uint8_t>(64 - kPrecision + 1)
                           : static_cast<uint8_t>(std::countl_zero(rest) + 1);
  if (rank > registers_[index]) registers_[index] = rank;
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  for (size_t i = 0; i < registers_.size(); ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

namespace {

// Helper series of Ertl's estimator ("New cardinality estimation algorithms
// for HyperLogLog sketches", 2017), which is unbiased across the whole range
// without the empirical bias tables of HyperLogLog++.
double Sigma(double x) {
  if (x == 1) return std::numeric_limits<double>::infinity();
  double y = 1, z = x, previous;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

double Tau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1, z = 1 - x, previous;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z != previous);
  return z / 3;
}

}  // namespace

double HyperLogLog::Estimate() const {
  constexpr int q = 64 - kPrecision;  // register values run 0..q+1
  const double m = static_cast<double>(registers_.size());
  std::vector<double> histogram(q + 2, 0);
  for (uint8_t r : registers_) histogram[r] += 1;
  double z = m * Tau(1 - histogram[q + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * Sigma(histogram[0] / m);
  return m * m / (2 * std::log(2.0) * z);
}

// ---- SpaceSaving ----------------------------------------------------------------------

void SpaceSaving::Add(std::string_view value, int64_t weight) {
  total_ += weight;
  auto it = index_.find(std::string(value));
  if (it != index_.end()) {
    Entry& e = entries_[it->second];
    by_count_.erase({e.count, it->second});
    e.count += weight;
    by_count_.insert({e.count, it->second});
    return;
  }
  if (entries_.size() < capacity_) {
    uint32_t slot = static_cast<uint32_t>(entries_.size());
    entries_.push_back({std::string(value), weight, 0});
    index_.emplace(std::string(value), slot);
    by_count_.insert({weight, slot});
    return;
  }
  // Replace the smallest counter: the newcomer may have occurred up to that many times.
  auto smallest = by_count_.begin();
  uint32_t slot = smallest->second;
  Entry& e = entries_[slot];
  by_count_.erase(smallest);
  index_.erase(e.value);
  e.error = e.count;
  e.count += weight;
  e.value = std::string(value);
  index_.emplace(e.value, slot);
  by_count_.insert({e.count, slot});
}

std::vector<SpaceSaving::Entry> SpaceSaving::Top(size_t k) const {
  std::vector<Entry> out = entries_;
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

}  // namespace cairn::data
