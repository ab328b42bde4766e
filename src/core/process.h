// Child processes without a shell: RunProcess spawns an argv vector (posix_spawn),
// appends the child's stdout and stderr to a log file and waits for it. Stateless;
// safe from any thread (each call owns its descriptors and its child).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn {

// Runs argv[0] (looked up in PATH when it has no '/') with the rest of argv as
// its arguments, stdin from /dev/null, stdout and stderr both appended to
// `log_file` (created if missing), and the parent's environment overridden by
// `extra_env`. Blocks until the child exits and returns its exit code; a child
// killed by signal N yields 128 + N, as a shell reports it. A Status error means
// the command never ran: empty argv, an unwritable log, or a program that cannot
// be executed (RESOURCE_DOES_NOT_EXIST when it is not found).
Result<int> RunProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                       const std::map<std::string, std::string>& extra_env = {});

}  // namespace cairn
