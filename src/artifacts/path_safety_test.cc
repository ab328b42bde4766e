#include "artifacts/path_safety.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(PathSafety, AcceptsAndNormalizesPlainRelativePaths) {
  EXPECT_EQ(*NormalizeRelativePath(""), "");
  EXPECT_EQ(*NormalizeRelativePath("model/MLmodel"), "model/MLmodel");
  EXPECT_EQ(*NormalizeRelativePath("a//b/"), "a/b");
  EXPECT_EQ(*NormalizeRelativePath("plots/roc curve.png"), "plots/roc curve.png");
}

// One pattern per MLflow artifact path-traversal CVE family.
TEST(PathSafety, RejectsTraversalPatterns) {
  const char* bad[] = {
      "../etc/passwd",       // CVE-2023-1177 / CVE-2023-2356: dot-dot segments
      "a/../../secret",      // nested escape
      "/etc/passwd",         // absolute path (CVE-2023-6909)
      "%2e%2e/%2e%2e/etc",   // percent-encoded traversal left after one decode (CVE-2023-6015)
      "%252e%252e/etc",      // double-encoded
      "..\\..\\windows",     // backslash separators (CVE-2024-1483)
      "file:///etc/passwd",  // scheme smuggling (CVE-2024-1558, CVE-2024-1560)
      "http://evil/x",       // another scheme
      "a/./b",               // dot segment
      "..",                  // bare parent
  };
  for (const char* p : bad) {
    auto r = NormalizeRelativePath(p);
    EXPECT_FALSE(r.ok()) << p;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << p;
    }
  }
  std::string with_nul("a\0b", 3);
  EXPECT_FALSE(NormalizeRelativePath(with_nul).ok());
}

}  // namespace
}  // namespace cairn
