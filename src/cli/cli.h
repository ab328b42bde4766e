// The `cairn` command line: `cairn server` runs the server in-process; every
// other command is an HTTP client of a running server (--server / CAIRN_URL).
// Exit codes: 0 ok, 1 the server refused the request, 2 usage error,
// 3 the server could not be reached.
#pragma once

namespace cairn {

int RunCli(int argc, char** argv);

}  // namespace cairn
