// The counting tables under the statistics (data/stats.cc): distinct strings
// and distinct numbers with their counts (open addressing, linear probing),
// the arena their kept strings live in, and the word-keyed counts of a string
// column's short cells. Internal to the statistics: only stats.cc includes
// this, and the tables are single-threaded (one per column per chunk, or per
// column state on the merging thread).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "data/sketches.h"

namespace cairn::data::count_tables {

// A cheap 64-bit hash for short cells (category names, ids): 8 bytes at a
// time, multiplied and folded. std::hash on string_view costs several times more.
inline uint64_t CellHash(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = s.size() * kMul;
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {  // two overlapping 4-byte loads cover 4..7 bytes
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    h = (h ^ ((uint64_t{a} << 32) | b)) * kMul;
  } else if (n > 0) {
    const uint64_t w = (uint64_t{static_cast<unsigned char>(p[0])} << 16) |
                       (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
                       static_cast<unsigned char>(p[n - 1]);
    h = (h ^ w) * kMul;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  h ^= h >> 32;
  return h;
}

// a == b for the bytes of two equally long strings; short ones (the usual
// category) by a few loads instead of a call to memcmp.
inline bool SameBytes(const char* a, std::string_view b) {
  const char* p = b.data();
  const size_t n = b.size();
  if (n >= 8 && n <= 16) {
    uint64_t x0, x1, y0, y1;
    std::memcpy(&x0, a, 8);
    std::memcpy(&y0, p, 8);
    std::memcpy(&x1, a + n - 8, 8);
    std::memcpy(&y1, p + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t x0, x1, y0, y1;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, p, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, p + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n < 4) {
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != p[i]) return false;
    }
    return true;
  }
  return std::memcmp(a, p, n) == 0;
}

// Open-addressing tables below grow before `keys` would crowd `slots`: a
// quarter full while small (a table of a few categories or values stays in
// L1, and a key a few slots past its place costs a mispredicted branch per
// cell), half full from 4,096 slots on.
constexpr size_t kMinSlots = 64;
inline bool Crowded(size_t keys, size_t slots) { return keys * (slots < 4096 ? 4 : 2) > slots; }
// The slots a table holding `keys` keys has.
inline size_t SlotsFor(size_t keys) {
  size_t slots = kMinSlots;
  while (Crowded(keys, slots)) slots *= 2;
  return slots;
}

// Bytes of strings kept by a column's exact counts: blocks that never move,
// so the counts table can hold views into them.
class StringArena {
 public:
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return std::string_view(kEmpty, 0);
    if (s.size() > kBlock / 4) {
      blocks_.emplace_back(new char[s.size()]);
      bytes_ += s.size();
      std::memcpy(blocks_.back().get(), s.data(), s.size());
      auto view = std::string_view(blocks_.back().get(), s.size());
      // Keep filling the current block: move the big one before it.
      if (blocks_.size() > 1) std::swap(blocks_[blocks_.size() - 1], blocks_[blocks_.size() - 2]);
      return view;
    }
    if (blocks_.empty() || used_ + s.size() > block_size_) {
      // Blocks grow from 1 KiB, so a column of a few categories costs little.
      block_size_ = block_size_ == 0 ? size_t{1024} : std::min(block_size_ * 2, kBlock);
      block_size_ = std::max(block_size_, s.size());
      blocks_.emplace_back(new char[block_size_]);
      bytes_ += block_size_;
      used_ = 0;
    }
    char* at = blocks_.back().get() + used_;
    std::memcpy(at, s.data(), s.size());
    used_ += s.size();
    return std::string_view(at, s.size());
  }
  size_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  static constexpr char kEmpty[1] = {0};
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_size_ = 0;
  size_t used_ = 0;
  size_t bytes_ = 0;
};

// Counts per distinct string in an open-addressing table (linear probing,
// power-of-two size, see Crowded). Keys are views: into the chunk for a
// chunk's counts, into an arena for a column's running counts.
class StringCounts {
 public:
  struct Slot {
    const char* data = nullptr;  // nullptr: empty slot
    uint32_t size = 0;
    uint64_t hash = 0;
    int64_t count = 0;
    std::string_view key() const { return {data, size}; }
  };

  // Adds `count` to `text`; a new key is copied into `arena` when one is given.
  // Inline for a key already there (most cells of a categorical column): one
  // probe sequence, no call.
  inline void Add(std::string_view text, uint64_t hash, int64_t count,
                  StringArena* arena = nullptr) {
    if (!slots_.empty()) {
      const size_t mask = slots_.size() - 1;
      // The key's slot or the next one, chosen without a branch: a key one
      // slot past its place (a collision in a small table of categories) is
      // found as predictably as one in place.
      const size_t home = hash & mask, next = (home + 1) & mask;
      const size_t at = slots_[home].hash == hash ? home : next;
      Slot& found = slots_[at];
      if (found.hash == hash && found.data != nullptr && found.size == text.size() &&
          SameBytes(found.data, text)) {
        found.count += count;
        return;
      }
      for (size_t i = home; slots_[i].data != nullptr; i = (i + 1) & mask) {
        Slot& slot = slots_[i];
        if (slot.hash == hash && slot.size == text.size() && SameBytes(slot.data, text)) {
          slot.count += count;
          return;
        }
      }
    }
    Insert(text, hash, count, arena);
  }
  size_t size() const { return size_; }
  size_t table_bytes() const { return slots_.size() * sizeof(Slot); }
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& slot : slots_) {
      if (slot.data != nullptr) f(slot);
    }
  }

 private:
  // Add() of a key that may be new.
  [[gnu::noinline]] void Insert(std::string_view text, uint64_t hash, int64_t count,
                                StringArena* arena) {
    if (Crowded(size_ + 1, slots_.size())) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.data == nullptr) {
        const std::string_view kept = arena != nullptr ? arena->Copy(text) : text;
        slot.data = kept.data() != nullptr ? kept.data() : "";
        slot.size = static_cast<uint32_t>(kept.size());
        slot.hash = hash;
        slot.count = count;
        ++size_;
        return;
      }
      if (slot.hash == hash && slot.size == text.size() && SameBytes(slot.data, text)) {
        slot.count += count;
        return;
      }
    }
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? kMinSlots : old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.data == nullptr) continue;
      size_t i = slot.hash & mask;
      while (slots_[i].data != nullptr) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// Doubles (no NaNs) as unsigned keys in the same order (-0.0 before 0.0).
inline uint64_t OrderedKey(double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

// Counts per distinct finite value, in an open-addressing table keyed by the
// value's bits (linear probing, power-of-two size, see Crowded). A
// column with few distinct values keeps these instead of every value: exact
// quantiles and histogram for at most 4 MiB (kMaxCountedValues in stats.cc), and a hash
// probe per value instead of an append now and a selection (or a sketch) later.
class NumberCounts {
 public:
  struct Slot {
    uint64_t bits = kEmpty;
    int64_t count = 0;
  };
  void Add(double value, int64_t count = 1) {
    const uint64_t bits = std::bit_cast<uint64_t>(value);
    if (!slots_.empty()) {
      // The value's slot or the next one, chosen without a branch (see StringCounts::Add).
      const size_t mask = slots_.size() - 1;
      const size_t home = Hash(bits) & mask;
      const size_t at = slots_[home].bits == bits ? home : (home + 1) & mask;
      if (slots_[at].bits == bits) {
        slots_[at].count += count;
        return;
      }
    }
    for (;;) {
      const size_t mask = slots_.size() - 1;
      for (size_t i = Hash(bits) & mask; !slots_.empty(); i = (i + 1) & mask) {
        Slot& slot = slots_[i];
        if (slot.bits == bits) {
          slot.count += count;
          return;
        }
        if (slot.bits != kEmpty) continue;
        if (Crowded(size_ + 1, slots_.size())) break;  // a new key: grow first
        slot = {bits, count};
        ++size_;
        return;
      }
      Grow();
    }
  }
  void AddMany(const double* values, size_t n) {
    for (size_t i = 0; i < n;) {
      i = CountKnown(values, i, n);
      if (i < n) Add(values[i++]);  // a new value, or one further from its slot
    }
  }
  size_t size() const { return size_; }
  size_t table_bytes() const { return slots_.size() * sizeof(Slot); }
  // f(value, count) for every distinct value, in the table's order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& slot : slots_) {
      if (slot.bits != kEmpty) f(std::bit_cast<double>(slot.bits), slot.count);
    }
  }
  // (value, count) of every distinct value, ascending (-0.0 before 0.0).
  // The values are radix-sorted, then their counts looked up: std::sort of
  // the pairs took the merging thread long enough (a column switching from
  // counts to values, early in the file) to leave the others waiting.
  std::vector<std::pair<double, int64_t>> Sorted() const {
    std::vector<double> values;
    values.reserve(size_);
    for (const Slot& slot : slots_) {
      if (slot.bits != kEmpty) values.push_back(std::bit_cast<double>(slot.bits));
    }
    sketch_internal::SortDoubles(values);  // by OrderedKey too
    std::vector<std::pair<double, int64_t>> out;
    out.reserve(values.size());
    const size_t mask = slots_.size() - 1;
    for (const double value : values) {
      const uint64_t bits = std::bit_cast<uint64_t>(value);
      size_t i = Hash(bits) & mask;
      while (slots_[i].bits != bits) i = (i + 1) & mask;
      out.emplace_back(value, slots_[i].count);
    }
    return out;
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // a NaN's bits: never a finite value
  // murmur3's finalizer: the table takes the low bits, and values often
  // differ only in their high ones (sign, exponent, top of the mantissa for
  // small integers) or in repeating patterns (thirds): a multiply alone
  // piled them into a few slots.
  static size_t Hash(uint64_t bits) { return static_cast<size_t>(MurmurFinalize64(bits)); }
  // Counts values[i..n) while each is in its slot or the next one; returns
  // where it stopped. Everything the loop touches is a local (a member or a
  // counter spilled to memory made each iteration wait for the last one's store).
  size_t CountKnown(const double* values, size_t i, size_t n) {
    if (slots_.empty()) return i;
    Slot* const slots = slots_.data();
    const size_t mask = slots_.size() - 1;
    // A table of many distinct values is past the L2 cache: the slot of the
    // value a few places ahead is fetched while this one is counted.
    constexpr size_t kAhead = 8;
    const size_t prefetch_end = slots_.size() * sizeof(Slot) > (size_t{256} << 10) ? n : 0;
    for (; i < n; ++i) {
      if (i + kAhead < prefetch_end) {
        __builtin_prefetch(&slots[Hash(std::bit_cast<uint64_t>(values[i + kAhead])) & mask]);
      }
      const uint64_t bits = std::bit_cast<uint64_t>(values[i]);
      const size_t home = Hash(bits) & mask;
      const size_t at = slots[home].bits == bits ? home : (home + 1) & mask;
      if (slots[at].bits != bits) break;
      ++slots[at].count;
    }
    return i;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? kMinSlots : old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.bits == kEmpty) continue;
      size_t i = Hash(slot.bits) & mask;
      while (slots_[i].bits != kEmpty) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// Counts of a string column's cells of at most 8 bytes, keyed by their bytes
// as one word (a padded load, see padded_numbers.h): a multiply for the slot
// and one compare instead of CellHash, a view's compares and the null-token
// scan per cell. Each distinct short text is checked once, when first seen:
// a null token or non-ASCII text is marked to take the general path. Counts
// go to the chunk's StringCounts at Flush. A fixed 64 slots: a column with
// more than 32 distinct short texts in a part takes the general path.
class ShortStrings {
 public:
  enum Kind : uint8_t { kCounted, kGeneral };
  struct Slot {
    uint64_t word = 0;
    const char* data = nullptr;  // nullptr: empty slot
    uint32_t size = 0;
    Kind kind = kCounted;
    int64_t count = 0;
  };
  static uint64_t Word(std::string_view text) {
    uint64_t w;
    std::memcpy(&w, text.data(), 8);
    return text.size() == 8 ? w : w & ((uint64_t{1} << (8 * text.size())) - 1);
  }
  // The slot of `text` (1..8 bytes, word Word(text)), or nullptr.
  Slot* Find(std::string_view text, uint64_t word) {
    size_t i = static_cast<size_t>(((word + text.size()) * 0x9E3779B97F4A7C15ULL) >> 58);
    for (;; i = (i + 1) & 63) {
      Slot& slot = slots_[i];
      if (slot.word == word && slot.size == text.size() && slot.data != nullptr) return &slot;
      if (slot.data == nullptr) break;
    }
    return nullptr;
  }
  // Whether the table has its 32 keys (Insert fails from then on).
  bool full() const { return size_ >= 32; }
  // A new slot for `text`, or nullptr when the table is full.
  Slot* Insert(std::string_view text, uint64_t word, Kind kind) {
    if (full()) return nullptr;
    size_t i = static_cast<size_t>(((word + text.size()) * 0x9E3779B97F4A7C15ULL) >> 58);
    while (slots_[i].data != nullptr) i = (i + 1) & 63;
    ++size_;
    slots_[i] = {word, text.data(), static_cast<uint32_t>(text.size()), kind, 0};
    return &slots_[i];
  }
  // Adds the counts to `strings` and zeroes them; returns the cells counted.
  int64_t Flush(StringCounts* strings) {
    int64_t cells = 0;
    for (Slot& slot : slots_) {
      if (slot.data == nullptr || slot.count == 0) continue;
      const std::string_view text(slot.data, slot.size);
      strings->Add(text, CellHash(text), slot.count);
      cells += slot.count;
      slot.count = 0;
    }
    return cells;
  }

 private:
  Slot slots_[64];
  size_t size_ = 0;
};

}  // namespace cairn::data::count_tables
