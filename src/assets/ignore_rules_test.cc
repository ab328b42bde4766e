#include "assets/ignore_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

// One ignore file at the root; every expectation below follows gitignore(5).
struct RootCase {
  const char* file;  // contents of the root ignore file
  const char* path;
  bool is_dir;
  bool ignored;  // IsIgnored: git's full answer, parent directories included
};

TEST(IgnoreRules, FollowsGitignoreSemantics) {
  const RootCase cases[] = {
      // A pattern without "/" matches a name at any depth, files and directories.
      {"foo", "foo", false, true},
      {"foo", "a/foo", false, true},
      {"foo", "a/b/foo", true, true},
      {"foo", "foobar", false, false},
      {"foo", "a/foo/x.c", false, true},  // inside an excluded directory
      // A leading "/" anchors to the ignore file's directory.
      {"/foo", "foo", false, true},
      {"/foo", "a/foo", false, false},
      // A "/" in the middle anchors too.
      {"doc/frotz", "doc/frotz", false, true},
      {"doc/frotz", "a/doc/frotz", false, false},
      {"doc/frotz/", "doc/frotz", true, true},
      {"doc/frotz/", "a/doc/frotz", true, false},
      // A trailing "/" matches directories only, at any depth when otherwise unanchored.
      {"frotz/", "frotz", true, true},
      {"frotz/", "a/frotz", true, true},
      {"frotz/", "frotz", false, false},
      {"frotz/", "frotz/inner.c", false, true},
      // Blank lines, comments, escapes.
      {"\n\n   \n", "anything", false, false},
      {"#foo", "#foo", false, false},
      {"\\#foo", "#foo", false, true},
      {"\\!foo", "!foo", false, true},
      {"\\!foo", "foo", false, false},
      {"\\*.txt", "*.txt", false, true},
      {"\\*.txt", "a.txt", false, false},
      // Trailing spaces are trimmed unless escaped; CRLF line ends are accepted.
      {"foo   ", "foo", false, true},
      {"foo\\ ", "foo ", false, true},
      {"foo\\ ", "foo", false, false},
      {"foo\r\nbar\r\n", "bar", false, true},
      {"\xEF\xBB\xBF"
       "foo",
       "foo", false, true},
      // "*" and "?" match anything but "/".
      {"*.txt", "a.txt", false, true},
      {"*.txt", "d/e/a.txt", false, true},
      {"*.txt", "a.txt.bak", false, false},
      {"doc/*.txt", "doc/a.txt", false, true},
      {"doc/*.txt", "doc/x/a.txt", false, false},
      {"/a*z", "ab/z", false, false},
      {"/a*z", "abz", false, true},
      {"a?c", "abc", false, true},
      {"a?c", "ac", false, false},
      {"/a?c", "a/c", false, false},
      // Bracket expressions.
      {"[a-c]x", "bx", false, true},
      {"[a-c]x", "dx", false, false},
      {"[!a-c]x", "dx", false, true},
      {"[!a-c]x", "ax", false, false},
      {"[^a]x", "bx", false, true},
      {"[^a]x", "ax", false, false},
      {"[]]x", "]x", false, true},
      {"[a-]x", "-x", false, true},
      {"file[[:digit:]]", "file7", false, true},
      {"file[[:digit:]]", "filea", false, false},
      {"[abc", "[abc", false, false},  // unterminated: matches nothing
      {"[abc", "a", false, false},
      // "foo/*" matches what is directly inside foo.
      {"foo/*", "foo/test.json", false, true},
      {"foo/*", "foo/bar", true, true},
      {"foo/*", "foo", true, false},
      // Leading "**/": in all directories.
      {"**/foo", "foo", false, true},
      {"**/foo", "a/b/foo", false, true},
      {"**/foo/bar", "foo/bar", false, true},
      {"**/foo/bar", "x/y/foo/bar", false, true},
      {"**/foo/bar", "x/foo/baz", false, false},
      // Trailing "/**": everything inside, not the directory itself.
      {"abc/**", "abc/x", false, true},
      {"abc/**", "abc/x/y", false, true},
      {"abc/**", "abc", true, false},
      {"abc/**", "x/abc/y", false, false},
      // "/**/": zero or more directories.
      {"a/**/b", "a/b", false, true},
      {"a/**/b", "a/x/b", false, true},
      {"a/**/b", "a/x/y/b", false, true},
      {"a/**/b", "a/xb", false, false},
      // Other runs of stars are plain stars.
      {"/a**z", "abcz", false, true},
      {"/a**z", "ab/cz", false, false},
      // Negation: the last matching pattern wins.
      {"*.log\n!keep.log", "a.log", false, true},
      {"*.log\n!keep.log", "keep.log", false, false},
      {"!keep.log\n*.log", "keep.log", false, true},
      // ...but nothing is re-included below an excluded directory.
      {"build/\n!build/keep.txt", "build/keep.txt", false, true},
      {"build\n!build/keep.txt", "build/keep.txt", false, true},
      // Excluding the contents instead of the directory allows it.
      {"build/*\n!build/keep.txt", "build/keep.txt", false, false},
      {"build/*\n!build/keep.txt", "build/other.txt", false, true},
  };
  for (const RootCase& c : cases) {
    IgnoreRules rules;
    rules.AddFile("", c.file);
    EXPECT_EQ(rules.IsIgnored(c.path, c.is_dir), c.ignored)
        << "pattern file \"" << c.file << "\", path \"" << c.path << "\""
        << (c.is_dir ? " (directory)" : "");
  }
}

TEST(IgnoreRules, MatchesExcludedIgnoresParents) {
  IgnoreRules rules;
  rules.AddFile("", "foo/*");
  EXPECT_TRUE(rules.MatchesExcluded("foo/bar", true));
  EXPECT_FALSE(rules.MatchesExcluded("foo/bar/hello.c", false));
  EXPECT_TRUE(rules.IsIgnored("foo/bar/hello.c", false));
}

TEST(IgnoreRules, SubdirectoryFileAppliesBelowItsDirectory) {
  IgnoreRules rules;
  rules.AddFile("sub", "*.o\n/top.txt\nd/x.c\n");
  EXPECT_TRUE(rules.IsIgnored("sub/a.o", false));
  EXPECT_TRUE(rules.IsIgnored("sub/d/a.o", false));
  EXPECT_FALSE(rules.IsIgnored("a.o", false));
  EXPECT_FALSE(rules.IsIgnored("other/a.o", false));
  EXPECT_FALSE(rules.IsIgnored("subx/a.o", false));
  EXPECT_TRUE(rules.IsIgnored("sub/top.txt", false));
  EXPECT_FALSE(rules.IsIgnored("sub/d/top.txt", false));
  EXPECT_FALSE(rules.IsIgnored("top.txt", false));
  EXPECT_TRUE(rules.IsIgnored("sub/d/x.c", false));
  EXPECT_FALSE(rules.IsIgnored("d/x.c", false));
  // A pattern never matches the ignore file's own directory.
  rules.AddFile("sub", "sub");
  EXPECT_FALSE(rules.IsIgnored("sub", true));
}

TEST(IgnoreRules, DeeperAndLaterFilesWin) {
  IgnoreRules rules;
  rules.AddFile("", "*.txt\n");
  rules.AddFile("sub", "!keep.txt\n");
  EXPECT_TRUE(rules.IsIgnored("keep.txt", false));
  EXPECT_FALSE(rules.IsIgnored("sub/keep.txt", false));
  EXPECT_TRUE(rules.IsIgnored("sub/other.txt", false));
  rules.AddFile("sub/deeper", "keep.txt\n");
  EXPECT_TRUE(rules.IsIgnored("sub/deeper/keep.txt", false));
  EXPECT_FALSE(rules.IsIgnored("sub/keep.txt", false));
}

TEST(IgnoreRules, TruncateForgetsLaterPatterns) {
  IgnoreRules rules;
  rules.AddFile("", "# comment\n\n*.o\n");
  size_t mark = rules.pattern_count();
  EXPECT_EQ(mark, 1u);
  rules.AddFile("sub", "*.txt\n!x.o\n");
  EXPECT_EQ(rules.pattern_count(), 3u);
  EXPECT_FALSE(rules.IsIgnored("sub/x.o", false));
  rules.Truncate(mark);
  EXPECT_EQ(rules.pattern_count(), 1u);
  EXPECT_TRUE(rules.IsIgnored("sub/x.o", false));
  EXPECT_FALSE(rules.IsIgnored("sub/a.txt", false));
}

TEST(GlobMatch, SegmentsAndPaths) {
  EXPECT_TRUE(GlobMatchSegment("", ""));
  EXPECT_FALSE(GlobMatchSegment("", "a"));
  EXPECT_TRUE(GlobMatchSegment("*", ""));
  EXPECT_TRUE(GlobMatchSegment("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(GlobMatchSegment("a*b*c", "aXbYbZ"));
  EXPECT_FALSE(GlobMatchSegment("abc\\", "abc"));  // a trailing backslash matches nothing
  EXPECT_TRUE(GlobMatchPath("**", "a/b/c"));
  EXPECT_TRUE(GlobMatchPath("a/**", "a/b/c"));
  EXPECT_FALSE(GlobMatchPath("a/**", "a"));
  EXPECT_TRUE(GlobMatchPath("**/b/**/d", "a/b/c/d"));
  EXPECT_TRUE(GlobMatchPath("**/b/**/d", "b/d"));
  EXPECT_FALSE(GlobMatchPath("**/b/**/d", "a/b/c/e"));
}

// Patterns that make a backtracking matcher explode must finish: with an
// exponential algorithm these inputs would never return.
TEST(GlobMatch, PathologicalPatternsDoBoundedWork) {
  std::string many_a(20000, 'a');
  EXPECT_FALSE(GlobMatchSegment("*a*a*a*a*a*a*a*a*a*a*b", many_a));
  EXPECT_TRUE(GlobMatchSegment("*a*a*a*a*a*a*a*a*a*a*b", many_a + "b"));

  std::string deep;
  for (int i = 0; i < 2000; ++i) deep += i == 0 ? "a" : "/a";
  EXPECT_FALSE(GlobMatchPath("**/a/**/a/**/a/**/a/**/a/**/b", deep));
  EXPECT_TRUE(GlobMatchPath("**/a/**/a/**/a/**/a/**/a/**/b", deep + "/b"));

  IgnoreRules rules;
  rules.AddFile("", "*a*a*a*a*a*a*a*a*a*a*b\n**/a/**/a/**/a/**/a/**/b\n");
  EXPECT_FALSE(rules.MatchesExcluded(deep + "/" + many_a, false));
}

}  // namespace
}  // namespace cairn
