// The cairn binary: a thin main; everything lives in the libraries.
#include "cli/cli.h"

int main(int argc, char** argv) { return cairn::RunCli(argc, argv); }
