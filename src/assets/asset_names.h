// Naming rules shared by every asset kind (environments, data, components, ...):
// Azure ML's asset-name grammar. Pure functions; safe from any thread.
#pragma once

#include <string_view>

namespace cairn {

// The grammar, for error messages.
inline constexpr std::string_view kAssetNamePattern = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$";

// True when `name` matches kAssetNamePattern: 1-255 characters, letters, digits,
// '_', '.', '-', starting with a letter or digit.
bool IsValidAssetName(std::string_view name);

}  // namespace cairn
