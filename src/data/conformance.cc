// CheckConformance: one sequential pass over the checked columns only.
#include "data/conformance.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "data/type_inference.h"

namespace cairn::data {

void ValueExamples::Add(std::string_view value) {
  ++total;
  auto it = examples.find(std::string(value));
  if (it != examples.end()) {
    ++it->second;
  } else if (examples.size() < kMaxExamples) {
    examples.emplace(std::string(value), 1);
  }
}

std::vector<TopValue> ValueExamples::Sorted() const {
  std::vector<TopValue> out;
  for (const auto& [v, n] : examples) out.push_back({v, n});
  std::stable_sort(out.begin(), out.end(),
                   [](const TopValue& a, const TopValue& b) { return a.count > b.count; });
  return out;
}

bool ConformsToType(const FeatureSchema& feature, std::string_view text) {
  switch (feature.type) {
    case FeatureType::kInt: {
      int64_t v;
      return ParseInt(text, &v);
    }
    case FeatureType::kFloat: {
      double v;
      return ParseFloat(text, &v) || IsNanToken(text);
    }
    case FeatureType::kBool: {
      BoolDomain d = feature.bool_domain.value_or(BoolDomain{});
      if (text == d.true_value || text == d.false_value) return true;
      bool b;
      // The default true/false domain takes any spelling ParseBool does (True, FALSE, ...).
      return d.true_value == "true" && d.false_value == "false" && ParseBool(text, &b);
    }
    case FeatureType::kTimestamp:
      return IsTimestamp(text);
    case FeatureType::kString:
      return true;
  }
  return true;
}

Result<std::map<std::string, ColumnConformance>> CheckConformance(
    TableReader& reader, const Schema& schema, const std::vector<std::string>& columns) {
  struct Check {
    size_t index;
    const FeatureSchema* feature;
    std::unordered_set<std::string> domain;
    ColumnConformance* out;
  };
  std::map<std::string, ColumnConformance> result;
  std::vector<Check> checks;
  const std::set<std::string> wanted(columns.begin(), columns.end());
  auto add_checks = [&] {
    const auto& names = reader.columns();
    for (size_t i = 0; i < names.size(); ++i) {
      if (!wanted.count(names[i]) || result.count(names[i])) continue;
      const FeatureSchema* f = schema.Find(names[i]);
      if (!f) continue;
      Check c{i, f, {}, &result[names[i]]};
      if (f->domain) c.domain.insert(f->domain->begin(), f->domain->end());
      checks.push_back(std::move(c));
    }
  };
  add_checks();
  RowChunk chunk;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&chunk));
    if (!more) break;
    for (Check& c : checks) {
      if (c.index >= chunk.num_columns) continue;  // a JSON column not seen yet in this chunk
      const bool check_domain = c.feature->domain.has_value();
      for (size_t r = 0; r < chunk.num_rows; ++r) {
        if (chunk.is_null(r, c.index)) continue;
        std::string_view cell = chunk.cell(r, c.index);
        ++c.out->values;
        if (!ConformsToType(*c.feature, cell)) c.out->not_type.Add(cell);
        if (check_domain && !c.domain.count(std::string(cell))) c.out->out_of_domain.Add(cell);
      }
    }
    // JSON readers discover columns as they go; later columns start being checked here.
    add_checks();
  }
  return result;
}

}  // namespace cairn::data
