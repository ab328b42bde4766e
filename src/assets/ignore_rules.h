// gitignore(5) pattern semantics for any directory tree, git work tree or not:
// parsing ignore files and deciding whether a root-relative path is excluded.
// Const methods are safe to call concurrently; mutation needs external locking.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

// The patterns of the ignore files met so far, in precedence order (the last
// matching pattern decides, as in git). Paths are relative to the snapshot root,
// "/"-separated, without a leading or trailing "/".
class IgnoreRules {
 public:
  // Appends the patterns of one ignore file found in directory `base` ("" for the
  // root). Its patterns apply only below `base`, anchored patterns relative to
  // it. Add a parent's files before its children's: later patterns win.
  void AddFile(std::string_view base, std::string_view contents);

  // What the last pattern matching `path` itself says (true = excluded); parent
  // directories are not consulted. A walker that never descends into excluded
  // directories needs only this.
  bool MatchesExcluded(std::string_view path, bool is_dir) const;

  // git's complete answer: excluded when `path` matches or any parent directory
  // is excluded (a file cannot be re-included when its directory is excluded).
  bool IsIgnored(std::string_view path, bool is_dir) const;

  size_t pattern_count() const { return patterns_.size(); }
  // Forgets the patterns added after pattern_count() was `count` (a walker
  // leaving the directory whose ignore files added them).
  void Truncate(size_t count);

 private:
  struct Pattern {
    std::string base;                   // directory of the ignore file, "" for the root
    std::vector<std::string> segments;  // glob per path segment; "**" spans directories
    bool anchored = false;  // false: one segment matched against the basename at any depth
    bool negated = false;   // "!pattern": re-include
    bool dir_only = false;  // "pattern/": directories only
  };
  static bool Matches(const Pattern& pattern, std::string_view path, bool is_dir);

  std::vector<Pattern> patterns_;
};

// gitignore glob of one path segment (no "/"): "*", "?", "[...]" with ranges,
// "!"/"^" negation and [:class:] names, "\" escapes. Malformed patterns (an
// unterminated "[" or a trailing "\") match nothing. Worst case O(|glob|*|text|).
bool GlobMatchSegment(std::string_view glob, std::string_view text);

// A "/"-separated glob against a "/"-separated path: each segment by
// GlobMatchSegment, a segment that is exactly "**" matching zero or more whole
// segments, except that a final "/**" needs at least one ("a/**" matches what is
// inside a, not a itself). Worst case polynomial, never exponential.
bool GlobMatchPath(std::string_view glob, std::string_view path);

}  // namespace cairn
