// Tests of SnapshotCell: readers always see a live snapshot, a swapped-out
// snapshot is freed exactly when its last reader leaves, and concurrent
// readers and writers never touch a freed snapshot.
#include "serving/snapshot_cell.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cairn::serving {
namespace {

struct Tracked {
  explicit Tracked(int v, std::atomic<int>* live) : value(v), live(live), alive(true) { ++*live; }
  ~Tracked() {
    alive = false;
    --*live;
  }
  int value;
  std::atomic<int>* live;
  std::atomic<bool> alive;
};

TEST(SnapshotCell, FreesTheOldSnapshotWhenItsLastReaderLeaves) {
  std::atomic<int> live{0};
  SnapshotCell<Tracked> cell(std::make_shared<const Tracked>(1, &live));
  EXPECT_EQ(cell.Read()->value, 1);
  {
    auto guard = cell.Read();
    cell.Publish(std::make_shared<const Tracked>(2, &live));
    // The reader still holds snapshot 1.
    EXPECT_EQ(guard->value, 1);
    EXPECT_TRUE(guard->alive);
    EXPECT_EQ(live.load(), 2);
    EXPECT_EQ(cell.retired(), 1u);
    EXPECT_EQ(cell.Read()->value, 2);  // a new reader sees snapshot 2
    EXPECT_EQ(live.load(), 2);         // ...and leaving does not free snapshot 1 early
  }
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(cell.retired(), 0u);
  // Without readers a swap frees at once.
  cell.Publish(std::make_shared<const Tracked>(3, &live));
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(cell.Read()->value, 3);
}

TEST(SnapshotCell, ReadersAndWritersConcurrently) {
  std::atomic<int> live{0};
  {
    SnapshotCell<Tracked> cell(std::make_shared<const Tracked>(0, &live));
    std::atomic<bool> stop{false};
    std::atomic<long> bad{0}, reads{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 8; ++t) {
      readers.emplace_back([&] {
        int last = 0;
        while (!stop) {
          auto g = cell.Read();
          if (!g->alive || g->value < last) ++bad;  // freed, or went back in time
          last = g->value;
          std::this_thread::yield();
          if (!g->alive) ++bad;
          ++reads;
        }
      });
    }
    std::thread writer([&] {
      for (int v = 1; v <= 2000; ++v) cell.Publish(std::make_shared<const Tracked>(v, &live));
    });
    writer.join();
    stop = true;
    for (auto& r : readers) r.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_GT(reads.load(), 0);
    // Every reader left: only the current snapshot remains.
    cell.Publish(std::make_shared<const Tracked>(9999, &live));
    EXPECT_EQ(cell.retired(), 0u);
    EXPECT_EQ(live.load(), 1);
  }
  EXPECT_EQ(live.load(), 0);
}

}  // namespace
}  // namespace cairn::serving
