// Mergeable, deterministic summaries for the statistics of data too large to
// keep: a quantile sketch (KLL-style compactors with alternating offsets), a
// HyperLogLog distinct counter and a space-saving heavy-hitter counter. Each
// object is single-threaded; the same inputs in the same order give the same
// state (no randomness), so results do not depend on thread timing.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cairn::data {

// Quantiles of a stream of doubles in bounded memory. Level l holds items of
// weight 2^l; a full level is sorted and every other item (offset alternating
// 0, 1, 0, ... per level) moves up with twice the weight. Each compaction of
// level l moves any rank by at most 2^l, and level l compacts at most
// n / (k * 2^l) times, so the rank error of any query is at most
// levels() * n / k (RankErrorBound()); in practice the alternating offsets
// cancel most of it. Memory is about k * levels() doubles. NaNs must not be added.
class QuantileSketch {
 public:
  explicit QuantileSketch(int k = 4096) : k_(k) {}
  void Add(double value);
  // Add() of each value in order, without the per-value checks.
  void AddMany(const double* values, size_t n);
  // `value` with weight `weight` (>= 1), as items of weight 2^l for each bit l
  // of `weight`, each added to level l: the rank error bound stays true, since
  // the total weight reaching any level is still at most count().
  void AddWeighted(double value, int64_t weight);
  int64_t count() const { return count_; }
  int levels() const { return static_cast<int>(levels_.size()); }
  // Worst-case rank error as a fraction of count() (0 while nothing was compacted).
  double RankErrorBound() const;
  // The value whose estimated rank is fraction * count(), fraction in [0, 1];
  // 0 gives the minimum kept item, 1 the maximum. Requires count() > 0.
  double Quantile(double fraction) const;
  // Quantile() of each fraction, sorting the kept items once.
  std::vector<double> Quantiles(const std::vector<double>& fractions) const;
  // Estimated number of added values <= value.
  double Rank(double value) const;

 private:
  void Compact(size_t level);
  // (value, weight) of all kept items, sorted by value.
  std::vector<std::pair<double, int64_t>> Sorted() const;

  int k_;
  int64_t count_ = 0;
  std::vector<std::vector<double>> levels_;
  std::vector<uint8_t> next_offset_;  // per level: which half the next compaction keeps
  std::vector<uint64_t> sort_keys_, sort_scratch_;  // reused by the radix sort in Compact
  std::vector<double> merge_left_;                  // reused by the run merges in Compact
};

// murmur3's 64-bit finalizer: every input bit reaches every output bit, so
// inputs that differ in a few (high) bits land far apart in a hash table.
inline uint64_t MurmurFinalize64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Distinct count estimate with 2^14 one-byte registers (16 KiB): standard
// error 1.04 / sqrt(2^14) ~ 0.81%, with Ertl's improved estimator (no bias in
// the small and middle ranges, no empirical correction tables).
// Order-insensitive: Merge is a register-wise max.
class HyperLogLog {
 public:
  static constexpr int kPrecision = 14;
  static constexpr double kStandardError = 0.0081;
  HyperLogLog() : registers_(size_t{1} << kPrecision, 0) {}
  void Add(std::string_view value) { AddHash(Hash64(value)); }
  void AddHash(uint64_t hash);
  void Merge(const HyperLogLog& other);
  double Estimate() const;
  // A 64-bit hash (FNV-1a, then a murmur3 finalizer to spread the bits).
  static uint64_t Hash64(std::string_view value);

 private:
  std::vector<uint8_t> registers_;
};

// Heavy hitters by the space-saving algorithm with `capacity` counters: every
// value occurring more than total / capacity times is kept, and each kept
// count overestimates the true one by at most its `error` (<= total / capacity).
class SpaceSaving {
 public:
  struct Entry {
    std::string value;
    int64_t count = 0;
    int64_t error = 0;  // the count may exceed the true count by up to this
  };
  explicit SpaceSaving(size_t capacity = 1000) : capacity_(capacity) {}
  void Add(std::string_view value, int64_t weight = 1);
  int64_t total() const { return total_; }
  // Kept values, highest count first, ties by value.
  std::vector<Entry> Top(size_t k) const;

 private:
  size_t capacity_;
  int64_t total_ = 0;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, uint32_t> index_;  // value -> slot in entries_
  std::set<std::pair<int64_t, uint32_t>> by_count_;  // (count, slot), smallest first
};

// The radix sort under QuantileSketch's compactions (no NaNs; -0.0 before 0.0),
// also used to sort the statistics' counted values.
namespace sketch_internal {
void SortDoubles(std::vector<double>& items);
}  // namespace sketch_internal

}  // namespace cairn::data
