#include "assets/ignore_rules.h"

#include <cctype>

namespace cairn {
namespace {

enum class SingleMatch { kMatch, kNoMatch, kMalformed };

bool InNamedClass(std::string_view name, unsigned char c, bool* known) {
  *known = true;
  if (name == "alnum") return std::isalnum(c);
  if (name == "alpha") return std::isalpha(c);
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c);
  if (name == "digit") return std::isdigit(c);
  if (name == "graph") return std::isgraph(c);
  if (name == "lower") return std::islower(c);
  if (name == "print") return std::isprint(c);
  if (name == "punct") return std::ispunct(c);
  if (name == "space") return std::isspace(c);
  if (name == "upper") return std::isupper(c);
  if (name == "xdigit") return std::isxdigit(c);
  *known = false;
  return false;
}

// Matches the bracket expression starting at glob[start] == '[' against `c`;
// sets *next to the index just past its closing ']'.
SingleMatch MatchBracket(std::string_view glob, size_t start, unsigned char c, size_t* next) {
  size_t j = start + 1;
  bool negate = false;
  if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) {
    negate = true;
    ++j;
  }
  bool matched = false;
  for (bool first = true;; first = false) {
    if (j >= glob.size()) return SingleMatch::kMalformed;  // no closing ']'
    char ch = glob[j];
    if (ch == ']' && !first) {
      ++j;
      break;
    }
    if (ch == '[' && j + 1 < glob.size() && glob[j + 1] == ':') {
      size_t close = glob.find(":]", j + 2);
      if (close != std::string_view::npos) {
        bool known = false;
        if (InNamedClass(glob.substr(j + 2, close - j - 2), c, &known)) matched = true;
        if (!known) return SingleMatch::kMalformed;
        j = close + 2;
        continue;
      }
    }
    if (ch == '\\') {
      if (++j >= glob.size()) return SingleMatch::kMalformed;
      ch = glob[j];
    }
    unsigned char lo = static_cast<unsigned char>(ch);
    ++j;
    if (j + 1 < glob.size() && glob[j] == '-' && glob[j + 1] != ']') {
      j += 1;
      char hi_ch = glob[j++];
      if (hi_ch == '\\') {
        if (j >= glob.size()) return SingleMatch::kMalformed;
        hi_ch = glob[j++];
      }
      if (lo <= c && c <= static_cast<unsigned char>(hi_ch)) matched = true;
    } else if (lo == c) {
      matched = true;
    }
  }
  *next = j;
  return matched != negate ? SingleMatch::kMatch : SingleMatch::kNoMatch;
}

// Matches the one-character token at glob[i] (literal, escape, '?' or bracket).
SingleMatch MatchToken(std::string_view glob, size_t i, char c, size_t* next) {
  switch (glob[i]) {
    case '\\':
      if (i + 1 >= glob.size()) return SingleMatch::kMalformed;
      *next = i + 2;
      return glob[i + 1] == c ? SingleMatch::kMatch : SingleMatch::kNoMatch;
    case '?':
      *next = i + 1;
      return SingleMatch::kMatch;
    case '[':
      return MatchBracket(glob, i, static_cast<unsigned char>(c), next);
    default:
      *next = i + 1;
      return glob[i] == c ? SingleMatch::kMatch : SingleMatch::kNoMatch;
  }
}

std::vector<std::string_view> SplitSlash(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t slash = s.find('/', pos);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, slash - pos));
    pos = slash + 1;
  }
}

// Glob segments of an anchored pattern. A final "**" must match at least one
// segment, so it becomes "**" followed by "*" (any one segment).
std::vector<std::string> GlobSegments(std::string_view glob) {
  std::vector<std::string> out;
  for (std::string_view seg : SplitSlash(glob)) out.emplace_back(seg);
  if (!out.empty() && out.back() == "**") out.emplace_back("*");
  return out;
}

// The classic two-pointer wildcard match, over segments: every non-"**" glob
// segment consumes exactly one path segment, so resuming from the latest "**"
// alone is complete, and the work is bounded by |glob| * |path| segment tests.
bool MatchSegments(const std::vector<std::string>& glob,
                   const std::vector<std::string_view>& path) {
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t gi = 0, pi = 0, star_g = kNone, star_p = 0;
  while (pi < path.size()) {
    if (gi < glob.size() && glob[gi] == "**") {
      star_g = ++gi;
      star_p = pi;
      continue;
    }
    if (gi < glob.size() && GlobMatchSegment(glob[gi], path[pi])) {
      ++gi;
      ++pi;
      continue;
    }
    if (star_g == kNone) return false;
    gi = star_g;
    pi = ++star_p;
  }
  while (gi < glob.size() && glob[gi] == "**") ++gi;
  return gi == glob.size();
}

// Drops trailing spaces unless escaped with a backslash, as git does.
std::string_view TrimTrailingSpaces(std::string_view line) {
  size_t end = 0;
  for (size_t i = 0; i < line.size();) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      i += 2;
      end = i;
    } else {
      if (line[i] != ' ') end = i + 1;
      ++i;
    }
  }
  return line.substr(0, end);
}

}  // namespace

bool GlobMatchSegment(std::string_view glob, std::string_view text) {
  // Same two-pointer scheme as MatchSegments, per character: '*' never has to
  // cross a '/' here, so it is an ordinary star.
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t gi = 0, ti = 0, star_g = kNone, star_t = 0;
  while (ti < text.size()) {
    if (gi < glob.size() && glob[gi] == '*') {
      while (gi < glob.size() && glob[gi] == '*') ++gi;
      star_g = gi;
      star_t = ti;
      continue;
    }
    if (gi < glob.size()) {
      size_t next = 0;
      SingleMatch m = MatchToken(glob, gi, text[ti], &next);
      if (m == SingleMatch::kMalformed) return false;
      if (m == SingleMatch::kMatch) {
        gi = next;
        ++ti;
        continue;
      }
    }
    if (star_g == kNone) return false;
    gi = star_g;
    ti = ++star_t;
  }
  while (gi < glob.size() && glob[gi] == '*') ++gi;
  return gi == glob.size();
}

bool GlobMatchPath(std::string_view glob, std::string_view path) {
  return MatchSegments(GlobSegments(glob), SplitSlash(path));
}

void IgnoreRules::AddFile(std::string_view base, std::string_view contents) {
  if (contents.substr(0, 3) == "\xEF\xBB\xBF") contents.remove_prefix(3);  // UTF-8 BOM
  size_t pos = 0;
  while (pos < contents.size()) {
    size_t eol = contents.find('\n', pos);
    if (eol == std::string_view::npos) eol = contents.size();
    std::string_view line = contents.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    line = TrimTrailingSpaces(line);
    Pattern p;
    p.base = std::string(base);
    if (!line.empty() && line.front() == '!') {
      p.negated = true;
      line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/') {
      p.dir_only = true;
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    // A "/" at the start or in the middle anchors the pattern to `base`.
    p.anchored = line.find('/') != std::string_view::npos;
    if (p.anchored) {
      if (line.front() == '/') line.remove_prefix(1);
      if (line.empty()) continue;
      p.segments = GlobSegments(line);
    } else {
      p.segments.emplace_back(line);
    }
    patterns_.push_back(std::move(p));
  }
}

bool IgnoreRules::Matches(const Pattern& pattern, std::string_view path, bool is_dir) {
  if (pattern.dir_only && !is_dir) return false;
  if (!pattern.base.empty()) {
    // Only paths strictly below the ignore file's directory.
    if (path.size() <= pattern.base.size() + 1 ||
        path.substr(0, pattern.base.size()) != pattern.base || path[pattern.base.size()] != '/') {
      return false;
    }
    path.remove_prefix(pattern.base.size() + 1);
  }
  if (!pattern.anchored) {
    size_t slash = path.rfind('/');
    return GlobMatchSegment(pattern.segments.front(),
                            slash == std::string_view::npos ? path : path.substr(slash + 1));
  }
  return MatchSegments(pattern.segments, SplitSlash(path));
}

bool IgnoreRules::MatchesExcluded(std::string_view path, bool is_dir) const {
  for (auto it = patterns_.rbegin(); it != patterns_.rend(); ++it) {
    if (Matches(*it, path, is_dir)) return !it->negated;
  }
  return false;
}

bool IgnoreRules::IsIgnored(std::string_view path, bool is_dir) const {
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (MatchesExcluded(path.substr(0, slash), /*is_dir=*/true)) return true;
  }
  return MatchesExcluded(path, is_dir);
}

void IgnoreRules::Truncate(size_t count) {
  if (count < patterns_.size()) patterns_.resize(count);
}

}  // namespace cairn
