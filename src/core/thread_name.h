// NameThisThread: gives the calling thread a name that `top -H`, `ps -L`,
// /proc/<pid>/task/*/comm and perf show, so an operator (or a profile) can
// tell the scheduler from the committer from an HTTP worker.
#pragma once

#include <pthread.h>

#include <string>

namespace cairn {

// Linux keeps 15 bytes; a longer name is cut (setname would refuse it).
inline void NameThisThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace cairn
