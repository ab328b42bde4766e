// AppendJsonString: writes a JSON string literal straight into a buffer, for
// the hot paths that emit small fixed-shape JSON (a pipeline step's outbox
// events) where building an nlohmann::json object costs more than the rest of
// the work. Escapes exactly as nlohmann::json::dump does, so output is
// byte-identical (json_text_test.cc holds the two to each other).
#pragma once

#include <string>
#include <string_view>

namespace cairn {

// Appends `value` quoted and escaped: `"` and `\` escaped, \b \f \n \r \t by
// name, other control characters as \u00XX; every other byte as it is (UTF-8
// passes through; the caller gives valid UTF-8).
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace cairn
