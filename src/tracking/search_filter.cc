#include "tracking/search_filter.h"

#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>

namespace cairn {
namespace {

enum class Tok { kIdent, kString, kNumber, kOp, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok kind;
  std::string text;  // identifier/keyword, unquoted string, number text, operator
  bool quoted_ident = false;
  size_t pos = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    for (;;) {
      while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
      if (i_ >= s_.size()) break;
      size_t start = i_;
      char c = s_[i_];
      if (c == '\'' || c == '"' || c == '`') {
        auto str = Quoted(c);
        if (!str.ok()) return str.status();
        // Double quotes and backticks quote identifiers after a dot (tags."a.b");
        // single quotes and double quotes standing alone are string values.
        bool after_dot = !out.empty() && out.back().kind == Tok::kIdent &&
                         !out.back().text.empty() && out.back().text.back() == '.';
        if (after_dot && c != '\'') {
          out.back().text += *str;
          out.back().quoted_ident = true;
        } else if (c == '`') {
          out.push_back({Tok::kIdent, *str, true, start});
        } else {
          out.push_back({Tok::kString, *str, false, start});
        }
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          ((c == '-' || c == '+' || c == '.') && i_ + 1 < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[i_ + 1])) || s_[i_ + 1] == '.'))) {
        ++i_;
        while (i_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                ((s_[i_] == '-' || s_[i_] == '+') && (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E')))) {
          ++i_;
        }
        out.push_back({Tok::kNumber, std::string(s_.substr(start, i_ - start)), false, start});
        continue;
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' ||
                s_[i_] == '.' || s_[i_] == '-' || s_[i_] == '/' || s_[i_] == ':')) {
          ++i_;
        }
        // A quoted part may follow a dot: tags."my key"
        out.push_back({Tok::kIdent, std::string(s_.substr(start, i_ - start)), false, start});
        continue;
      }
      if (c == '(') {
        out.push_back({Tok::kLParen, "(", false, i_++});
        continue;
      }
      if (c == ')') {
        out.push_back({Tok::kRParen, ")", false, i_++});
        continue;
      }
      if (c == ',') {
        out.push_back({Tok::kComma, ",", false, i_++});
        continue;
      }
      if (c == '=' || c == '!' || c == '<' || c == '>') {
        std::string op(1, c);
        ++i_;
        if (i_ < s_.size() && s_[i_] == '=') {
          op += '=';
          ++i_;
        }
        if (op == "!") return Error(start, "'!' must be followed by '=' (use '!=')");
        if (op == "==") op = "=";
        out.push_back({Tok::kOp, op, false, start});
        continue;
      }
      return Error(start, std::string("unexpected character '") + c + "'");
    }
    out.push_back({Tok::kEnd, "", false, s_.size()});
    return out;
  }

  Status Error(size_t pos, const std::string& why) const {
    return InvalidParameter("Invalid filter '" + std::string(s_) + "' at position " +
                            std::to_string(pos) + ": " + why);
  }

 private:
  Result<std::string> Quoted(char q) {
    size_t start = i_++;
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == q) {
        if (i_ < s_.size() && s_[i_] == q) {  // doubled quote escapes itself
          out += q;
          ++i_;
          continue;
        }
        return out;
      }
      if (c == '\\' && i_ < s_.size() && s_[i_] == q) {
        out += q;
        ++i_;
        continue;
      }
      out += c;
    }
    return Error(start, "unterminated quoted string");
  }

  std::string_view s_;
  size_t i_ = 0;
};

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct Identifier {
  EntityType type;
  std::string key;
  bool numeric_attribute = false;
};

const std::set<std::string> kRunStringAttrs = {"run_id",  "run_name",     "status",
                                               "user_id", "artifact_uri", "lifecycle_stage"};
const std::set<std::string> kRunNumericAttrs = {"start_time", "end_time"};
const std::set<std::string> kExperimentStringAttrs = {"name", "lifecycle_stage"};
const std::set<std::string> kExperimentNumericAttrs = {"creation_time", "last_update_time",
                                                       "experiment_id"};
const std::set<std::string> kModelStringAttrs = {"name"};
const std::set<std::string> kModelNumericAttrs = {"creation_timestamp", "last_updated_timestamp"};
const std::set<std::string> kVersionStringAttrs = {"name", "run_id", "source_path"};
const std::set<std::string> kVersionNumericAttrs = {"version_number", "creation_timestamp",
                                                    "last_updated_timestamp"};

const std::set<std::string>& StringAttributes(SearchTarget target) {
  switch (target) {
    case SearchTarget::kRuns:
      return kRunStringAttrs;
    case SearchTarget::kExperiments:
      return kExperimentStringAttrs;
    case SearchTarget::kRegisteredModels:
      return kModelStringAttrs;
    case SearchTarget::kModelVersions:
      return kVersionStringAttrs;
  }
  return kRunStringAttrs;
}

const std::set<std::string>& NumericAttributes(SearchTarget target) {
  switch (target) {
    case SearchTarget::kRuns:
      return kRunNumericAttrs;
    case SearchTarget::kExperiments:
      return kExperimentNumericAttrs;
    case SearchTarget::kRegisteredModels:
      return kModelNumericAttrs;
    case SearchTarget::kModelVersions:
      return kVersionNumericAttrs;
  }
  return kRunNumericAttrs;
}

const char* TargetName(SearchTarget target) {
  switch (target) {
    case SearchTarget::kRuns:
      return "runs";
    case SearchTarget::kExperiments:
      return "experiments";
    case SearchTarget::kRegisteredModels:
      return "registered models";
    case SearchTarget::kModelVersions:
      return "model versions";
  }
  return "runs";
}

Result<Identifier> ResolveIdentifier(const std::string& raw, SearchTarget target, const Lexer& lex,
                                     size_t pos) {
  std::string prefix, key;
  size_t dot = raw.find('.');
  if (dot == std::string::npos) {
    prefix = "attributes";
    key = raw;
  } else {
    prefix = raw.substr(0, dot);
    key = raw.substr(dot + 1);
  }
  std::string p = prefix;
  for (auto& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Identifier id;
  id.key = key;
  if (key.empty()) return lex.Error(pos, "identifier '" + raw + "' has no key after the dot");
  if (p == "metric" || p == "metrics") {
    id.type = EntityType::kMetric;
  } else if (p == "param" || p == "params" || p == "parameter" || p == "parameters") {
    id.type = EntityType::kParam;
  } else if (p == "tag" || p == "tags") {
    id.type = EntityType::kTag;
  } else if (p == "attribute" || p == "attributes" || p == "attr" || p == "run") {
    id.type = EntityType::kAttribute;
  } else if (p == "dataset" || p == "datasets") {
    id.type = EntityType::kDataset;
  } else {
    return lex.Error(pos, "invalid entity type '" + prefix +
                              "'; expected one of metrics, params, tags, attributes, datasets");
  }
  bool runs = target == SearchTarget::kRuns;
  bool registry =
      target == SearchTarget::kRegisteredModels || target == SearchTarget::kModelVersions;
  if (!runs && (id.type == EntityType::kMetric || id.type == EntityType::kParam ||
                id.type == EntityType::kDataset)) {
    return lex.Error(
        pos, std::string(TargetName(target)) + " can be searched by attributes and tags only");
  }
  if (id.type == EntityType::kAttribute) {
    if (runs && (key == "created" || key == "Created")) id.key = "start_time";
    if (runs && key == "run_name") id.key = "run_name";
    if (registry && key == "timestamp") id.key = "last_updated_timestamp";
    const auto& strings = StringAttributes(target);
    const auto& numbers = NumericAttributes(target);
    if (numbers.count(id.key)) {
      id.numeric_attribute = true;
    } else if (!strings.count(id.key)) {
      std::string valid;
      for (const auto& a : strings) valid += a + ", ";
      for (const auto& a : numbers) valid += a + ", ";
      valid.resize(valid.size() - 2);
      return lex.Error(pos, "invalid attribute '" + key + "'; valid attributes: " + valid);
    }
  }
  if (id.type == EntityType::kDataset && id.key != "name" && id.key != "digest" &&
      id.key != "context") {
    return lex.Error(pos, "invalid dataset field '" + key + "'; expected name, digest or context");
  }
  return id;
}

std::optional<double> ParseNumber(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') return std::nullopt;
  return v;
}

}  // namespace

Result<std::vector<Clause>> ParseFilter(std::string_view filter, SearchTarget target) {
  std::vector<Clause> clauses;
  Lexer lex(filter);
  auto toks_or = lex.Run();
  if (!toks_or.ok()) return toks_or.status();
  const auto& toks = *toks_or;
  size_t i = 0;
  if (toks[0].kind == Tok::kEnd) return clauses;
  for (;;) {
    const Token& ident = toks[i];
    if (ident.kind != Tok::kIdent) {
      return lex.Error(ident.pos,
                       "expected an identifier such as metrics.acc, params.lr, "
                       "tags.\"mlflow.user\" or attributes.status");
    }
    auto id = ResolveIdentifier(ident.text, target, lex, ident.pos);
    if (!id.ok()) return id.status();
    ++i;
    // Comparator.
    Clause c;
    c.type = id->type;
    c.key = id->key;
    const Token& op = toks[i];
    std::string word = op.kind == Tok::kIdent ? Upper(op.text) : op.text;
    if (op.kind == Tok::kOp) {
      static const std::pair<const char*, Comparator> kOps[] = {
          {"=", Comparator::kEq},  {"!=", Comparator::kNe}, {"<", Comparator::kLt},
          {"<=", Comparator::kLe}, {">", Comparator::kGt},  {">=", Comparator::kGe}};
      bool found = false;
      for (auto& [s, cmp] : kOps) {
        if (word == s) {
          c.op = cmp;
          found = true;
        }
      }
      if (!found) return lex.Error(op.pos, "invalid comparator '" + word + "'");
      ++i;
    } else if (op.kind == Tok::kIdent && (word == "LIKE" || word == "ILIKE" || word == "IN")) {
      c.op = word == "LIKE"    ? Comparator::kLike
             : word == "ILIKE" ? Comparator::kILike
                               : Comparator::kIn;
      ++i;
    } else if (op.kind == Tok::kIdent && word == "NOT" && toks[i + 1].kind == Tok::kIdent &&
               Upper(toks[i + 1].text) == "IN") {
      c.op = Comparator::kNotIn;
      i += 2;
    } else {
      return lex.Error(op.pos,
                       "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, "
                       "NOT IN) after '" +
                           ident.text + "'");
    }
    bool numeric_entity = c.type == EntityType::kMetric || id->numeric_attribute;
    bool ordering = c.op == Comparator::kLt || c.op == Comparator::kLe || c.op == Comparator::kGt ||
                    c.op == Comparator::kGe;
    if (numeric_entity && !(ordering || c.op == Comparator::kEq || c.op == Comparator::kNe)) {
      return lex.Error(op.pos, "'" + ident.text + "' is numeric; use =, !=, <, <=, > or >=");
    }
    if (!numeric_entity && ordering) {
      return lex.Error(op.pos,
                       "'" + ident.text + "' is a string; use =, !=, LIKE, ILIKE, IN or NOT IN");
    }
    // Operand(s).
    if (c.op == Comparator::kIn || c.op == Comparator::kNotIn) {
      if (toks[i].kind != Tok::kLParen) {
        return lex.Error(toks[i].pos, "IN expects a parenthesised list such as ('a', 'b')");
      }
      ++i;
      for (;;) {
        if (toks[i].kind != Tok::kString) {
          return lex.Error(toks[i].pos, "IN lists hold quoted strings such as ('a', 'b')");
        }
        c.values.push_back(toks[i].text);
        ++i;
        if (toks[i].kind == Tok::kComma) {
          ++i;
          continue;
        }
        if (toks[i].kind == Tok::kRParen) {
          ++i;
          break;
        }
        return lex.Error(toks[i].pos, "expected ',' or ')' in the IN list");
      }
    } else if (numeric_entity) {
      if (toks[i].kind != Tok::kNumber) {
        return lex.Error(toks[i].pos, "'" + ident.text + "' must be compared with a number");
      }
      auto v = ParseNumber(toks[i].text);
      if (!v) return lex.Error(toks[i].pos, "'" + toks[i].text + "' is not a number");
      c.numeric = true;
      c.number = *v;
      ++i;
    } else {
      if (toks[i].kind != Tok::kString) {
        return lex.Error(toks[i].pos,
                         "'" + ident.text + "' must be compared with a quoted string such as 'x'");
      }
      c.values.push_back(toks[i].text);
      ++i;
    }
    clauses.push_back(std::move(c));
    if (toks[i].kind == Tok::kEnd) break;
    if (toks[i].kind == Tok::kIdent && Upper(toks[i].text) == "AND") {
      ++i;
      continue;
    }
    if (toks[i].kind == Tok::kIdent && Upper(toks[i].text) == "OR") {
      return lex.Error(toks[i].pos, "OR is not supported; combine clauses with AND");
    }
    return lex.Error(toks[i].pos, "expected AND between clauses, got '" + toks[i].text + "'");
  }
  return clauses;
}

Result<OrderKey> ParseOrderBy(std::string_view order_by, SearchTarget target) {
  Lexer lex(order_by);
  auto toks_or = lex.Run();
  if (!toks_or.ok()) return toks_or.status();
  const auto& toks = *toks_or;
  if (toks[0].kind != Tok::kIdent) {
    return lex.Error(0, "order_by expects '<identifier> [ASC|DESC]', e.g. 'metrics.auc DESC'");
  }
  auto id = ResolveIdentifier(toks[0].text, target, lex, 0);
  if (!id.ok()) return id.status();
  if (id->type == EntityType::kDataset) return lex.Error(0, "cannot order by dataset fields");
  OrderKey key{id->type, id->key, true};
  size_t i = 1;
  if (toks[i].kind == Tok::kIdent) {
    std::string dir = Upper(toks[i].text);
    if (dir == "DESC") {
      key.ascending = false;
    } else if (dir != "ASC") {
      return lex.Error(toks[i].pos, "expected ASC or DESC, got '" + toks[i].text + "'");
    }
    ++i;
  }
  if (toks[i].kind != Tok::kEnd) {
    return lex.Error(toks[i].pos, "unexpected '" + toks[i].text + "' after the sort direction");
  }
  return key;
}

}  // namespace cairn
