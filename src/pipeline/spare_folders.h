// SpareFolders: recycles the empty work folders of finished steps. On ext4
// (without a journal, as on the dev VM, and on any busy filesystem) creating
// an inode - a folder or a file - costs about as much as spawning a small
// process, while renaming one costs a few microseconds. A step that leaves
// nothing behind (no output, no files, an empty log) gives its folder, with
// its empty log file inside, to the pool; the next step takes it by one
// rename instead of creating two inodes. A recycled folder stays where it is
// until it is taken (one rename per step, not two); at shutdown the ones not
// taken move into the pool folder under the jobs root (<jobs>/.spare, a name
// no job can have), which survives restarts. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::pipeline {

class SpareFolders {
 public:
  // `log_name`: the one (empty) file a recycled folder may hold.
  SpareFolders(std::filesystem::path pool, std::string log_name, size_t max_spares = 64);
  // Moves the spares still in place into the pool, for the next server.
  ~SpareFolders();

  // Creates the pool folder and adopts spares an earlier server left there.
  Status Open();

  // Makes `target` (its parent must exist) a folder: a spare renamed there
  // (holding at most an empty `log_name`), or a new one. True when it did so,
  // false when `target` already was a folder holding something (left as it
  // is; no separate existence check is needed first).
  Result<bool> Take(const std::filesystem::path& target);

  // Adds `folder` (left where it is) to the pool when it holds nothing but, at
  // most, an empty regular file named `log_name`, and the pool is not full.
  // True when it did; the folder then moves when it is taken.
  bool Recycle(const std::filesystem::path& folder);

  size_t size();

 private:
  std::filesystem::path pool_;
  std::string log_name_;
  size_t max_spares_;
  std::mutex mu_;
  std::vector<std::filesystem::path> spares_;  // in pool_, or recycled in place
  uint64_t next_ = 0;                          // the next spare's name
};

}  // namespace cairn::pipeline
