// serving/snapshot_cell.h: SnapshotCell<T>, an RCU-style cell holding an
// immutable T that many threads read on the hot path while a rare writer
// replaces it. Why not std::atomic<std::shared_ptr>: libstdc++ implements its
// load with a spin lock in the pointer's low bit plus a reference-count
// increment on one shared cache line; with more scoring threads than cores a
// reader preempted inside that critical section makes every other reader spin
// for the rest of its time slice (a profile of the 16-client benchmark showed
// most of Router::Score's own time in that spin).
//
// Reads here take no lock and write no shared cache line: a reader adds one to
// its thread's stripe counter (64 cache-line-padded stripes), loads the
// pointer, and subtracts one when its guard ends. A writer swaps the pointer
// and retires the old snapshot; a retired snapshot is freed once every stripe
// has been seen at zero after the swap (every reader that could have loaded it
// has left). The check runs at the swap and, while anything is retired, when a
// reader leaves, so an old snapshot (and the model runtimes it keeps alive) is
// released as soon as its last in-flight request ends. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace cairn::serving {

template <class T>
class SnapshotCell {
 public:
  explicit SnapshotCell(std::shared_ptr<const T> initial) : owner_(std::move(initial)) {
    current_.store(owner_.get());
  }
  // No reader may be active (the owner stops its threads first).
  ~SnapshotCell() = default;
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Keeps the snapshot it points to alive until it goes out of scope.
  class Guard {
   public:
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() {
      stripe_->readers.fetch_sub(1, std::memory_order_seq_cst);
      if (cell_->retired_count_.load(std::memory_order_relaxed) != 0) cell_->Reclaim();
    }
    const T* get() const { return value_; }
    const T& operator*() const { return *value_; }
    const T* operator->() const { return value_; }

   private:
    friend class SnapshotCell;
    Guard(const SnapshotCell* cell, typename SnapshotCell::Stripe* stripe)
        : cell_(cell), stripe_(stripe) {
      stripe_->readers.fetch_add(1, std::memory_order_seq_cst);
      value_ = cell_->current_.load(std::memory_order_seq_cst);
    }
    const SnapshotCell* cell_;
    typename SnapshotCell::Stripe* stripe_;
    const T* value_;
  };

  Guard Read() const { return Guard(this, &stripes_[ThreadStripe()]); }

  // The current snapshot as a shared_ptr (for writers building the next one).
  std::shared_ptr<const T> Current() const {
    std::lock_guard lk(mu_);
    return owner_;
  }

  // Publishes `next`; the previous snapshot is freed once no reader can hold it.
  void Publish(std::shared_ptr<const T> next) {
    {
      std::lock_guard lk(mu_);
      Retired r;
      r.snapshot = std::move(owner_);
      owner_ = std::move(next);
      current_.store(owner_.get(), std::memory_order_seq_cst);
      r.pending = ~uint64_t{0};
      retired_.push_back(std::move(r));
      retired_count_.store(retired_.size(), std::memory_order_relaxed);
    }
    Reclaim();
  }

  // Snapshots swapped out but not yet freed (tests).
  size_t retired() const { return retired_count_.load(); }

 private:
  static constexpr size_t kStripes = 64;
  struct alignas(64) Stripe {
    std::atomic<int64_t> readers{0};
  };
  struct Retired {
    std::shared_ptr<const T> snapshot;
    uint64_t pending = 0;  // stripes not yet seen at zero since the swap
  };

  static size_t ThreadStripe() {
    static std::atomic<size_t> next{0};
    thread_local size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return mine;
  }

  // Frees retired snapshots whose every stripe has been seen at zero. The
  // snapshots are destroyed outside the lock (their destructors may stop
  // model runtimes).
  void Reclaim() const {
    std::vector<std::shared_ptr<const T>> done;
    {
      std::lock_guard lk(mu_);
      for (size_t i = 0; i < retired_.size();) {
        Retired& r = retired_[i];
        for (size_t s = 0; s < kStripes; ++s) {
          const uint64_t bit = uint64_t{1} << s;
          if ((r.pending & bit) && stripes_[s].readers.load(std::memory_order_seq_cst) == 0) {
            r.pending &= ~bit;
          }
        }
        if (r.pending == 0) {
          done.push_back(std::move(r.snapshot));
          retired_.erase(retired_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          ++i;
        }
      }
      retired_count_.store(retired_.size(), std::memory_order_relaxed);
    }
  }

  mutable std::array<Stripe, kStripes> stripes_{};
  std::atomic<const T*> current_{nullptr};
  mutable std::mutex mu_;  // writers and reclamation
  std::shared_ptr<const T> owner_;
  mutable std::vector<Retired> retired_;
  mutable std::atomic<size_t> retired_count_{0};
};

}  // namespace cairn::serving
