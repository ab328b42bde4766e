// CompareTables: both sides' statistics (ComputeStats), then one bounded-memory pass over each
// file for what the drift metrics need that the statistics do not keep — exact counts on the
// shared Sturges bins, a systematic sample of each numeric column, exact counts of the
// categories in the union of both sides' most frequent values — and the renderers (text,
// JSON, HTML). Why two passes: the bins span the combined range of both sides, which is known
// only once both have been summarized.
#include "data/compare.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>
#include <unordered_map>

#include "data/type_inference.h"

namespace cairn::data {
namespace {

// ---- Planning and the second pass ------------------------------------------------------------

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using CategoryIndex = std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>;

// What the second pass collects for one feature on one side.
struct ColumnWork {
  size_t feature = 0;
  bool numeric = false;
  // Numeric: the shared bins and this side's systematic sample of its `finite` values.
  double lo = 0, hi = 0;
  int bins = 1;
  int64_t finite = 0;
  int64_t max_sample = 0;
  std::vector<double> counts;
  std::vector<double> sample;
  int64_t seen = 0;       // finite values seen so far
  int64_t next_pick = 0;  // index of the next sample point
  // Categorical: counts of the indexed categories, everything else in `other`.
  const CategoryIndex* index = nullptr;
  double other = 0;
};

// Point i of k evenly spaced picks out of n (n > k): the value of rank floor((i + 0.5) n / k),
// as drift_reference.cc samples a current column.
int64_t SpacedIndex(int64_t i, int64_t k, int64_t n) {
  return std::min<int64_t>(
      n - 1, static_cast<int64_t>((static_cast<double>(i) + 0.5) * static_cast<double>(n) /
                                  static_cast<double>(k)));
}

bool IsFinite(double v) { return std::isfinite(v); }

Status ScanSide(const TableReader& original, std::vector<ColumnWork>& work,
                const std::unordered_map<std::string, size_t>& by_name) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader,
                         TableReader::Open(original.path(), original.options()));
  std::vector<int64_t> column_work;  // reader column -> index into work, -1 if not needed
  std::vector<double> values;
  RowChunk chunk;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Next(&chunk));
    if (!more) break;
    while (column_work.size() < reader->columns().size()) {  // JSON grows its columns
      auto it = by_name.find(reader->columns()[column_work.size()]);
      column_work.push_back(it == by_name.end() ? -1 : static_cast<int64_t>(it->second));
    }
    for (size_t c = 0; c < chunk.num_columns && c < column_work.size(); ++c) {
      if (column_work[c] < 0) continue;
      ColumnWork& w = work[static_cast<size_t>(column_work[c])];
      if (w.numeric) {
        values.clear();
        for (size_t r = 0; r < chunk.num_rows; ++r) {
          if (chunk.is_null(r, c)) continue;
          double v = 0;
          if (!ParseFloat(chunk.cell(r, c), &v) || !IsFinite(v)) continue;
          values.push_back(v);
          if (w.finite <= w.max_sample) {
            w.sample.push_back(v);
          } else if (w.next_pick < w.max_sample &&
                     w.seen == SpacedIndex(w.next_pick, w.max_sample, w.finite)) {
            w.sample.push_back(v);
            ++w.next_pick;
          }
          ++w.seen;
        }
        CAIRN_ASSIGN_OR_RETURN(Histogram h, EqualWidthHistogram(values, w.lo, w.hi, w.bins));
        for (size_t i = 0; i < h.counts.size(); ++i) w.counts[i] += h.counts[i];
      } else {
        for (size_t r = 0; r < chunk.num_rows; ++r) {
          if (chunk.is_null(r, c)) continue;
          auto it = w.index->find(chunk.cell(r, c));
          if (it == w.index->end()) {
            w.other += 1;
          } else {
            w.counts[it->second] += 1;
          }
        }
      }
    }
  }
  return Status::Ok();
}

// The top values are every value, with exact counts, and no more than `limit` of them.
bool TopValuesComplete(const FeatureStats& f, size_t limit) {
  return !f.string.unique_is_estimate && !f.string.top_k_is_estimate &&
         f.string.top_k.size() <= limit &&
         static_cast<int64_t>(f.string.top_k.size()) == f.string.unique;
}

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

Status FinishNumeric(FeatureComparison& f, ColumnWork& wa, ColumnWork& wb) {
  NumericComparison& n = f.numeric;
  const std::string where = "compare: feature '" + f.name + "': ";
  if (wa.seen != wa.finite || wb.seen != wb.finite) {
    return InvalidParameter(where +
                            "the second read found a different number of values than the "
                            "first; was a file changed while it was compared?");
  }
  CAIRN_ASSIGN_OR_RETURN(Histogram edges, EqualWidthHistogram({}, wa.lo, wa.hi, wa.bins));
  n.edges = std::move(edges.edges);
  n.counts_a = std::move(wa.counts);
  n.counts_b = std::move(wb.counts);
  CAIRN_ASSIGN_OR_RETURN(n.jensen_shannon, JensenShannonDistance(n.counts_a, n.counts_b));
  CAIRN_ASSIGN_OR_RETURN(n.psi, PopulationStabilityIndex(n.counts_a, n.counts_b));
  std::sort(wa.sample.begin(), wa.sample.end());
  std::sort(wb.sample.begin(), wb.sample.end());
  n.sample_a = static_cast<int64_t>(wa.sample.size());
  n.sample_b = static_cast<int64_t>(wb.sample.size());
  n.sampled = wa.finite > wa.max_sample || wb.finite > wb.max_sample;
  CAIRN_ASSIGN_OR_RETURN(n.wasserstein, WassersteinDistance(wa.sample, wb.sample));
  n.normalized_wasserstein = n.wasserstein / std::max(f.a->numeric.std_dev, kMinWassersteinScale);
  // The exact p-value costs up to n*m lattice steps: exact for whole columns of modest size,
  // the limiting distribution otherwise (docs/drift.md).
  const bool exact =
      !n.sampled && static_cast<double>(n.sample_a) * static_cast<double>(n.sample_b) <= 1e7;
  CAIRN_ASSIGN_OR_RETURN(n.ks, KolmogorovSmirnov(wa.sample, wb.sample,
                                                 exact ? KsMethod::kExact : KsMethod::kAsymptotic));
  return Status::Ok();
}

Status FinishCategorical(FeatureComparison& f) {
  CategoricalComparison& c = f.categorical;
  CAIRN_ASSIGN_OR_RETURN(c.jensen_shannon, JensenShannonDistance(c.counts_a, c.counts_b));
  CAIRN_ASSIGN_OR_RETURN(c.l_infinity, LInfinity(c.counts_a, c.counts_b));
  CAIRN_ASSIGN_OR_RETURN(c.psi, PopulationStabilityIndex(c.counts_a, c.counts_b));
  CAIRN_ASSIGN_OR_RETURN(c.chi_squared, ChiSquaredContingency(c.counts_a, c.counts_b));
  return Status::Ok();
}

void Decide(FeatureComparison& f, const DriftThresholds& t) {
  if (f.kind == CompareKind::kNumeric) {
    f.drifted = f.numeric.jensen_shannon >= t.jensen_shannon || f.numeric.psi >= t.psi ||
                f.numeric.normalized_wasserstein >= t.normalized_wasserstein;
  } else if (f.kind == CompareKind::kCategorical) {
    f.drifted = f.categorical.jensen_shannon >= t.jensen_shannon || f.categorical.psi >= t.psi ||
                f.categorical.l_infinity >= t.l_infinity;
  }
}

// ---- Formatting helpers --------------------------------------------------------------------

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Short, stable number text: integers as integers, otherwise 4 significant digits.
std::string Num(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double a = std::fabs(v);
  if (v == std::floor(v) && a < 1e15) return Fmt("%.0f", v);
  if (a >= 1e15 || a < 1e-4) return Fmt("%.4g", v);
  if (a >= 1000) return Fmt("%.1f", v);  // 43610.5, not 4.361e+04
  return Fmt("%.4g", v);
}
std::string Metric(double v) { return Fmt("%.4f", v); }
std::string PValue(double p) {
  if (p == 0) return "0";  // below the smallest double: the two sides surely differ
  return p < 1e-4 ? Fmt("%.1e", p) : Fmt("%.4f", p);
}
std::string Percent(double fraction) { return Fmt("%.1f%%", 100.0 * fraction); }

// Control characters and bytes that would break a table line become \xNN.
std::string Printable(std::string_view s, size_t max_len = 40) {
  std::string out;
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  if (out.size() > max_len) {
    size_t cut = max_len - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

std::string Html(std::string_view s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

// UTF-8 safe: invalid bytes become U+FFFD so the page and the JSON stay well-formed.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len > 1) {  // reject overlong forms, surrogates and code points past U+10FFFF
      uint32_t cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      ok = !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
             (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string TypeOf(const std::optional<FeatureStats>& f) {
  return f ? ColumnTypeName(f->type) : "-";
}

std::string SideLabel(const std::string& name, const char* fallback) {
  return name.empty() ? fallback : name;
}

void AppendTable(std::string& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  auto display_width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;  // code points, roughly columns
    return n;
  };
  for (size_t i = 0; i < header.size(); ++i) width[i] = display_width(header[i]);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], display_width(row[i]));
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      l += cells[i];
      if (i + 1 < cells.size()) l += std::string(width[i] - display_width(cells[i]) + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

// The most frequent categories of a comparison, by the larger of the two proportions (ties by
// byte order), at most `limit`; the "other" bin is never among them.
std::vector<size_t> ShownCategories(const CategoricalComparison& c, int limit) {
  const double ta = std::max(Sum(c.counts_a), 1.0), tb = std::max(Sum(c.counts_b), 1.0);
  std::vector<size_t> order;
  const size_t n = c.categories.size() - (c.has_other ? 1 : 0);  // the pooled bin is not one
  for (size_t i = 0; i < n; ++i) order.push_back(i);
  auto weight = [&](size_t i) { return std::max(c.counts_a[i] / ta, c.counts_b[i] / tb); };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return weight(x) > weight(y); });
  if (order.size() > static_cast<size_t>(std::max(limit, 0))) order.resize(limit);
  return order;
}

}  // namespace

const char* CompareKindName(CompareKind kind) {
  switch (kind) {
    case CompareKind::kNumeric:
      return "numeric";
    case CompareKind::kCategorical:
      return "categorical";
    case CompareKind::kNone:
      break;
  }
  return "none";
}

int CompareReport::drifted_count() const {
  int n = 0;
  for (const auto& f : features) n += f.drifted ? 1 : 0;
  return n;
}

Result<CompareReport> CompareTables(TableReader& a, TableReader& b, const CompareOptions& options) {
  if (options.max_sample < 1 || options.max_categories < 1 || options.shown_values < 0) {
    return InvalidParameter(
        "compare: max_sample and max_categories must be at least 1, shown_values at least 0");
  }
  StatsOptions stats_options = options.stats;
  stats_options.top_k = std::max(options.max_categories, options.shown_values);
  CAIRN_ASSIGN_OR_RETURN(DatasetStats sa, ComputeStats(a, stats_options));
  CAIRN_ASSIGN_OR_RETURN(DatasetStats sb, ComputeStats(b, stats_options));

  CompareReport report;
  report.a_name = a.path().string();
  report.b_name = b.path().string();
  report.rows_a = sa.num_rows;
  report.rows_b = sb.num_rows;
  report.exact_a = sa.exact;
  report.exact_b = sb.exact;
  report.thresholds = options.thresholds;
  report.shown_values = options.shown_values;

  // The union of columns: A's in order, then those only in B in B's order.
  std::map<std::string, size_t> in_b;
  for (size_t i = 0; i < sb.features.size(); ++i) in_b[sb.features[i].name] = i;
  std::map<std::string, bool> in_a;
  for (auto& fa : sa.features) {
    FeatureComparison f;
    f.name = fa.name;
    in_a[fa.name] = true;
    f.a = std::move(fa);
    if (auto it = in_b.find(f.name); it != in_b.end()) f.b = sb.features[it->second];
    report.features.push_back(std::move(f));
  }
  for (auto& fb : sb.features) {
    if (in_a.count(fb.name)) continue;
    FeatureComparison f;
    f.name = fb.name;
    f.b = std::move(fb);
    report.features.push_back(std::move(f));
  }

  // Plan the second pass.
  std::vector<ColumnWork> work_a, work_b;
  std::unordered_map<std::string, size_t> by_name_a, by_name_b;
  std::vector<std::pair<size_t, size_t>> numeric_work;  // (feature, index in work_a/work_b)
  std::vector<CategoryIndex> indexes;
  indexes.reserve(report.features.size());  // ColumnWork points into it
  std::vector<std::pair<size_t, size_t>> categorical_work;
  for (size_t i = 0; i < report.features.size(); ++i) {
    FeatureComparison& f = report.features[i];
    if (!f.a || !f.b) {
      f.note = std::string("only in ") + (f.a ? "A" : "B");
      continue;
    }
    const FeatureStats& fa = *f.a;
    const FeatureStats& fb = *f.b;
    if (fa.has_numeric && fb.has_numeric) {
      if (fa.numeric.finite == 0 || fb.numeric.finite == 0) {
        f.note = std::string("no finite values in ") + (fa.numeric.finite == 0 ? "A" : "B");
        continue;
      }
      f.kind = CompareKind::kNumeric;
      ColumnWork w;
      w.feature = i;
      w.numeric = true;
      w.lo = std::min(fa.numeric.min, fb.numeric.min);
      w.hi = std::max(fa.numeric.max, fb.numeric.max);
      w.bins = SturgesBins(fa.numeric.finite + fb.numeric.finite);
      w.counts.assign(static_cast<size_t>(w.bins), 0.0);
      w.max_sample = options.max_sample;
      ColumnWork wb = w;
      w.finite = fa.numeric.finite;
      wb.finite = fb.numeric.finite;
      by_name_a[f.name] = work_a.size();
      by_name_b[f.name] = work_b.size();
      numeric_work.emplace_back(i, work_a.size());
      work_a.push_back(std::move(w));
      work_b.push_back(std::move(wb));
    } else if (fa.has_string && fb.has_string) {
      f.kind = CompareKind::kCategorical;
      CategoricalComparison& c = f.categorical;
      std::map<std::string, std::pair<double, double>> known;
      const size_t limit = static_cast<size_t>(options.max_categories);
      for (size_t k = 0; k < fa.string.top_k.size() && k < limit; ++k) {
        known[fa.string.top_k[k].value].first = static_cast<double>(fa.string.top_k[k].count);
      }
      for (size_t k = 0; k < fb.string.top_k.size() && k < limit; ++k) {
        known[fb.string.top_k[k].value].second = static_cast<double>(fb.string.top_k[k].count);
      }
      for (const auto& [value, counts] : known) {
        c.categories.push_back(value);
        c.counts_a.push_back(counts.first);
        c.counts_b.push_back(counts.second);
      }
      if (TopValuesComplete(fa, limit) && TopValuesComplete(fb, limit)) continue;  // exact
      // Recount exactly: a value frequent on one side may be outside the other's top values.
      CategoryIndex& index = indexes.emplace_back();
      for (size_t k = 0; k < c.categories.size(); ++k) index.emplace(c.categories[k], k);
      ColumnWork w;
      w.feature = i;
      w.index = &index;
      w.counts.assign(c.categories.size(), 0.0);
      by_name_a[f.name] = work_a.size();
      by_name_b[f.name] = work_b.size();
      categorical_work.emplace_back(i, work_a.size());
      work_a.push_back(w);
      work_b.push_back(std::move(w));
    } else if (!fa.has_numeric && !fa.has_string) {
      f.note = "no values in A";
    } else if (!fb.has_numeric && !fb.has_string) {
      f.note = "no values in B";
    } else {
      f.note = std::string("types differ: ") + ColumnTypeName(fa.type) + " vs " +
               ColumnTypeName(fb.type);
    }
  }
  if (!work_a.empty()) {
    CAIRN_RETURN_IF_ERROR(ScanSide(a, work_a, by_name_a));
    CAIRN_RETURN_IF_ERROR(ScanSide(b, work_b, by_name_b));
  }
  for (auto [feature, w] : numeric_work) {
    CAIRN_RETURN_IF_ERROR(FinishNumeric(report.features[feature], work_a[w], work_b[w]));
  }
  for (auto [feature, w] : categorical_work) {
    CategoricalComparison& c = report.features[feature].categorical;
    c.counts_a = std::move(work_a[w].counts);
    c.counts_b = std::move(work_b[w].counts);
    if (work_a[w].other > 0 || work_b[w].other > 0) {
      c.has_other = true;
      c.categories.push_back("(other values)");
      c.counts_a.push_back(work_a[w].other);
      c.counts_b.push_back(work_b[w].other);
    }
  }
  for (auto& f : report.features) {
    if (f.kind == CompareKind::kCategorical) CAIRN_RETURN_IF_ERROR(FinishCategorical(f));
    Decide(f, options.thresholds);
    // Keep only the values shown; the category counts above hold the rest.
    for (auto* side : {&f.a, &f.b}) {
      if (*side && (*side)->string.top_k.size() > static_cast<size_t>(options.shown_values)) {
        (*side)->string.top_k.resize(static_cast<size_t>(options.shown_values));
      }
    }
  }
  return report;
}

// ---- JSON ----------------------------------------------------------------------------------

namespace {

nlohmann::json SideStatsJson(const FeatureStats& f, const std::string& source) {
  DatasetStats one;
  one.source = source;
  one.features.push_back(f);
  return StatsToJson(one)["features"][0];
}

nlohmann::json KsMethodJson(KsMethod m) { return m == KsMethod::kExact ? "exact" : "asymptotic"; }

}  // namespace

nlohmann::json CompareToJson(const CompareReport& r) {
  using Json = nlohmann::json;
  Json out;
  out["format"] = kCompareFormat;
  out["a"] = {{"source", ValidUtf8(r.a_name)}, {"num_rows", r.rows_a}, {"exact", r.exact_a}};
  out["b"] = {{"source", ValidUtf8(r.b_name)}, {"num_rows", r.rows_b}, {"exact", r.exact_b}};
  const DriftThresholds& t = r.thresholds;
  out["thresholds"] = {{"jensen_shannon", t.jensen_shannon},
                       {"psi", t.psi},
                       {"normalized_wasserstein", t.normalized_wasserstein},
                       {"l_infinity", t.l_infinity},
                       {"p_value", t.p_value}};
  out["drifted_features"] = r.drifted_count();
  Json features = Json::array();
  for (const auto& f : r.features) {
    Json j;
    j["name"] = ValidUtf8(f.name);
    j["kind"] = CompareKindName(f.kind);
    j["drifted"] = f.drifted;
    if (!f.note.empty()) j["note"] = f.note;
    j["a"] = f.a ? SideStatsJson(*f.a, r.a_name) : Json(nullptr);
    j["b"] = f.b ? SideStatsJson(*f.b, r.b_name) : Json(nullptr);
    if (f.kind == CompareKind::kNumeric) {
      const NumericComparison& n = f.numeric;
      j["drift"] = {{"jensen_shannon", n.jensen_shannon},
                    {"psi", n.psi},
                    {"wasserstein", n.wasserstein},
                    {"normalized_wasserstein", n.normalized_wasserstein},
                    {"ks",
                     {{"statistic", n.ks.statistic},
                      {"p_value", n.ks.p_value},
                      {"method", KsMethodJson(n.ks.method)}}},
                    {"sampled", n.sampled},
                    {"sample_a", n.sample_a},
                    {"sample_b", n.sample_b}};
      j["bins"] = {{"edges", n.edges}, {"a", n.counts_a}, {"b", n.counts_b}};
    } else if (f.kind == CompareKind::kCategorical) {
      const CategoricalComparison& c = f.categorical;
      j["drift"] = {{"jensen_shannon", c.jensen_shannon},
                    {"l_infinity", c.l_infinity},
                    {"psi", c.psi},
                    {"chi_squared",
                     {{"statistic", c.chi_squared.statistic},
                      {"p_value", c.chi_squared.p_value},
                      {"dof", c.chi_squared.dof}}}};
      Json values = Json::array();
      for (const auto& v : c.categories) values.push_back(ValidUtf8(v));
      j["bins"] = {{"categories", values},
                   {"a", c.counts_a},
                   {"b", c.counts_b},
                   {"last_is_other", c.has_other}};
    }
    features.push_back(std::move(j));
  }
  out["features"] = std::move(features);
  return out;
}

// ---- Text ----------------------------------------------------------------------------------

std::string CompareText(const CompareReport& r) {
  const DriftThresholds& t = r.thresholds;
  auto mark = [](double v, bool past) { return Metric(v) + (past ? "!" : ""); };
  auto pmark = [&](double p) { return PValue(p) + (p < t.p_value ? "!" : ""); };
  std::string out =
      "A: " + Printable(SideLabel(r.a_name, "A"), 200) + " (" + std::to_string(r.rows_a) +
      " rows)\nB: " + Printable(SideLabel(r.b_name, "B"), 200) + " (" + std::to_string(r.rows_b) +
      " rows)\n" + std::to_string(r.features.size()) + " features, " +
      std::to_string(r.drifted_count()) + " drifted (! marks a metric past its " + "threshold)\n";
  std::vector<std::vector<std::string>> numeric, categorical, other;
  for (const auto& f : r.features) {
    const std::string name = Printable(f.name, 32);
    if (f.kind == CompareKind::kNumeric) {
      const NumericComparison& n = f.numeric;
      for (int side = 0; side < 2; ++side) {
        const FeatureStats& s = side == 0 ? *f.a : *f.b;
        std::vector<std::string> row = {side == 0 ? name : "",       side == 0 ? "A" : "B",
                                        ColumnTypeName(s.type),      std::to_string(s.count),
                                        Percent(s.missing_fraction), Num(s.numeric.mean),
                                        Num(s.numeric.std_dev),      Num(s.numeric.min),
                                        Num(s.numeric.median),       Num(s.numeric.max)};
        if (side == 0) {
          row.insert(
              row.end(),
              {mark(n.jensen_shannon, n.jensen_shannon >= t.jensen_shannon),
               mark(n.psi, n.psi >= t.psi),
               mark(n.normalized_wasserstein, n.normalized_wasserstein >= t.normalized_wasserstein),
               Metric(n.ks.statistic), pmark(n.ks.p_value), f.drifted ? "DRIFT" : "ok"});
        }
        numeric.push_back(std::move(row));
      }
    } else if (f.kind == CompareKind::kCategorical) {
      const CategoricalComparison& c = f.categorical;
      for (int side = 0; side < 2; ++side) {
        const FeatureStats& s = side == 0 ? *f.a : *f.b;
        std::string top;
        for (size_t i = 0; i < s.string.top_k.size() && i < 3; ++i) {
          if (i > 0) top += ", ";
          top += Printable(s.string.top_k[i].value, 20) + " (" +
                 std::to_string(s.string.top_k[i].count) + ")";
        }
        std::vector<std::string> row = {
            side == 0 ? name : "",
            side == 0 ? "A" : "B",
            ColumnTypeName(s.type),
            std::to_string(s.count),
            Percent(s.missing_fraction),
            (s.string.unique_is_estimate ? "~" : "") + std::to_string(s.string.unique),
            top};
        if (side == 0) {
          row.insert(row.end(), {mark(c.jensen_shannon, c.jensen_shannon >= t.jensen_shannon),
                                 mark(c.l_infinity, c.l_infinity >= t.l_infinity),
                                 mark(c.psi, c.psi >= t.psi), Num(c.chi_squared.statistic),
                                 pmark(c.chi_squared.p_value), f.drifted ? "DRIFT" : "ok"});
        }
        categorical.push_back(std::move(row));
      }
    } else {
      other.push_back({name, TypeOf(f.a), TypeOf(f.b), f.note});
    }
  }
  if (!numeric.empty()) {
    out += "\nnumeric features\n";
    AppendTable(out,
                {"feature", "side", "type", "count", "missing", "mean", "std", "min", "median",
                 "max", "js", "psi", "wass/std", "ks", "ks p", "drift"},
                numeric);
  }
  if (!categorical.empty()) {
    out += "\ncategorical features\n";
    AppendTable(out,
                {"feature", "side", "type", "count", "missing", "unique", "top values", "js",
                 "l_inf", "psi", "chi2", "chi2 p", "drift"},
                categorical);
  }
  if (!other.empty()) {
    out += "\nnot compared\n";
    AppendTable(out, {"feature", "A type", "B type", "why"}, other);
  }
  return out;
}

// ---- HTML ----------------------------------------------------------------------------------

namespace {

std::string Px(double v) { return Fmt("%.1f", v); }

// A "nice" upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten, at least v.
double NiceCeil(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * p >= v * (1 - 1e-12)) return m * p;
  }
  return 10 * p;
}

std::string AxisPercent(double fraction) {
  double pct = 100 * fraction;
  return std::fabs(pct - std::round(pct)) < 1e-9 ? Fmt("%.0f%%", pct) : Fmt("%.3g%%", pct);
}

// Proportions next to bars: small ones keep two significant digits.
std::string ChartPercent(double fraction) {
  const double pct = 100 * fraction;
  if (pct == 0) return "0%";
  if (pct >= 1) return Fmt("%.1f%%", pct);
  return Fmt("%.2g%%", pct);
}

// Axis labels: compact, with k/M/G for large magnitudes.
std::string TickNum(double v) {
  const double a = std::fabs(v);
  if (a >= 1e12 || (a > 0 && a < 1e-3)) return Fmt("%.2e", v);
  if (a >= 1e9) return Fmt("%.3gG", v / 1e9);
  if (a >= 1e6) return Fmt("%.3gM", v / 1e6);
  if (a >= 1e4) return Fmt("%.3gk", v / 1e3);
  return Fmt("%.4g", v);
}

// Overlaid histograms of both sides' proportions on the shared bins, with each side's median.
std::string NumericSvg(const FeatureComparison& f) {
  const NumericComparison& n = f.numeric;
  const double W = 600, H = 240, left = 52, right = 14, top = 12, bottom = 40;
  const double pw = W - left - right, ph = H - top - bottom;
  const double ta = std::max(Sum(n.counts_a), 1.0), tb = std::max(Sum(n.counts_b), 1.0);
  double ymax = 0;
  for (size_t i = 0; i < n.counts_a.size(); ++i) {
    ymax = std::max({ymax, n.counts_a[i] / ta, n.counts_b[i] / tb});
  }
  ymax = NiceCeil(ymax);
  const double x0 = n.edges.front(), x1 = n.edges.back();
  auto X = [&](double v) { return left + (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5) * pw; };
  auto Y = [&](double p) { return top + ph - p / ymax * ph; };
  std::string s = "<svg class=\"chart\" viewBox=\"0 0 " + Px(W) + " " + Px(H) +
                  "\" role=\"img\" aria-label=\"histograms of " + Html(ValidUtf8(f.name)) + "\">";
  for (int k = 0; k <= 4; ++k) {  // grid and y labels
    double p = ymax * k / 4;
    s += "<line class=\"grid\" x1=\"" + Px(left) + "\" x2=\"" + Px(W - right) + "\" y1=\"" +
         Px(Y(p)) + "\" y2=\"" + Px(Y(p)) + "\"/>";
    s += "<text class=\"tick\" x=\"" + Px(left - 6) + "\" y=\"" + Px(Y(p) + 4) +
         "\" text-anchor=\"end\">" + AxisPercent(p) + "</text>";
  }
  for (size_t i = 0; i + 1 < n.edges.size(); ++i) {
    const double xa = X(n.edges[i]), xb = X(n.edges[i + 1]);
    const double pa = n.counts_a[i] / ta, pb = n.counts_b[i] / tb;
    const std::string tip = "<title>[" + Num(n.edges[i]) + ", " + Num(n.edges[i + 1]) +
                            (i + 2 == n.edges.size() ? "]" : ")") + "  A " + Percent(pa) + " (" +
                            Num(n.counts_a[i]) + ")  B " + Percent(pb) + " (" + Num(n.counts_b[i]) +
                            ")</title>";
    s += "<g class=\"bin\">" + tip;
    s += "<rect class=\"ba\" x=\"" + Px(xa + 0.5) + "\" y=\"" + Px(Y(pa)) + "\" width=\"" +
         Px(std::max(xb - xa - 1, 0.5)) + "\" height=\"" + Px(Y(0) - Y(pa)) + "\"/>";
    s += "<rect class=\"bb\" x=\"" + Px(xa + 0.5) + "\" y=\"" + Px(Y(pb)) + "\" width=\"" +
         Px(std::max(xb - xa - 1, 0.5)) + "\" height=\"" + Px(Y(0) - Y(pb)) + "\"/>";
    s += "</g>";
  }
  // Medians as dashed lines.
  for (int side = 0; side < 2; ++side) {
    const FeatureStats& st = side == 0 ? *f.a : *f.b;
    double m = st.numeric.median;
    if (!std::isfinite(m)) continue;
    s += "<line class=\"" + std::string(side == 0 ? "ma" : "mb") + "\" x1=\"" + Px(X(m)) +
         "\" x2=\"" + Px(X(m)) + "\" y1=\"" + Px(top) + "\" y2=\"" + Px(Y(0)) + "\"><title>" +
         (side == 0 ? "A" : "B") + " median " + Num(m) + "</title></line>";
  }
  s += "<line class=\"axis\" x1=\"" + Px(left) + "\" x2=\"" + Px(W - right) + "\" y1=\"" +
       Px(Y(0)) + "\" y2=\"" + Px(Y(0)) + "\"/>";
  const size_t bins = n.edges.size() - 1;
  const size_t step = std::max<size_t>(1, (bins + 5) / 6);
  // Edge labels every `step` bins and at the last edge, none closer than 70px to the last.
  for (size_t i = 0; i <= bins; i += step) {
    if (i != bins && X(n.edges[bins]) - X(n.edges[i]) < 70) continue;
    s += "<text class=\"tick\" x=\"" + Px(X(n.edges[i])) + "\" y=\"" + Px(Y(0) + 16) +
         "\" text-anchor=\"" + (i == 0 ? "start" : "middle") + "\">" + Html(TickNum(n.edges[i])) +
         "</text>";
  }
  if (bins % step != 0) {
    s += "<text class=\"tick\" x=\"" + Px(X(n.edges[bins])) + "\" y=\"" + Px(Y(0) + 16) +
         "\" text-anchor=\"end\">" + Html(TickNum(n.edges[bins])) + "</text>";
  }
  s += "<text class=\"cap\" x=\"" + Px(left + pw / 2) + "\" y=\"" + Px(H - 4) +
       "\" text-anchor=\"middle\">" + std::to_string(bins) +
       " equal-width bins over the combined range; dashed: medians</text>";
  s += "</svg>";
  return s;
}

// Side-by-side bars of the most frequent categories' proportions.
std::string CategoricalSvg(const FeatureComparison& f, int shown) {
  const CategoricalComparison& c = f.categorical;
  std::vector<size_t> order = ShownCategories(c, shown);
  const double ta = std::max(Sum(c.counts_a), 1.0), tb = std::max(Sum(c.counts_b), 1.0);
  double rest_a = 0, rest_b = 0;  // categories not drawn, as one more row
  {
    std::vector<bool> drawn(c.categories.size(), false);
    for (size_t i : order) drawn[i] = true;
    for (size_t i = 0; i < c.categories.size(); ++i) {
      if (!drawn[i]) {
        rest_a += c.counts_a[i];
        rest_b += c.counts_b[i];
      }
    }
  }
  const size_t hidden = c.categories.size() - order.size();
  const size_t rows = order.size() + (hidden > 0 ? 1 : 0);
  double pmax = 0;
  for (size_t i : order) pmax = std::max({pmax, c.counts_a[i] / ta, c.counts_b[i] / tb});
  pmax = NiceCeil(pmax);  // the pooled rest is written as text, so it does not set the scale
  const double W = 600, label = 170, right = 64, row_h = 30, top = 8;
  const double H = top + row_h * static_cast<double>(rows) + 30;
  const double bw = W - label - right;
  std::string s = "<svg class=\"chart\" viewBox=\"0 0 " + Px(W) + " " + Px(H) +
                  "\" role=\"img\" aria-label=\"top values of " + Html(ValidUtf8(f.name)) + "\">";
  for (int k = 0; k <= 4; ++k) {
    double x = label + bw * k / 4;
    s += "<line class=\"grid\" x1=\"" + Px(x) + "\" x2=\"" + Px(x) + "\" y1=\"" + Px(top) +
         "\" y2=\"" + Px(H - 24) + "\"/>";
    s += "<text class=\"tick\" x=\"" + Px(x) + "\" y=\"" + Px(H - 10) +
         "\" text-anchor=\"middle\">" + AxisPercent(pmax * k / 4) + "</text>";
  }
  auto row = [&](size_t r, const std::string& name, double ca, double cb, bool pooled) {
    const bool muted = pooled;
    const double y = top + row_h * static_cast<double>(r);
    const double pa = ca / ta, pb = cb / tb;
    s += "<g><title>" + Html(ValidUtf8(name)) + "  A " + Percent(pa) + " (" + Num(ca) + ")  B " +
         Percent(pb) + " (" + Num(cb) + ")</title>";
    s += "<text class=\"lab" + std::string(muted ? " muted" : "") + "\" x=\"" + Px(label - 8) +
         "\" y=\"" + Px(y + 19) + "\" text-anchor=\"end\">" + Html(ValidUtf8(Printable(name, 26))) +
         "</text>";
    if (pooled) {  // as text: it can dwarf every bar
      s += "<text class=\"val\" x=\"" + Px(label) + "\" y=\"" + Px(y + 19) + "\">A " +
           ChartPercent(pa) + " (" + Num(ca) + ") \u00b7 B " + ChartPercent(pb) + " (" + Num(cb) +
           ")</text></g>";
      return;
    }
    s += "<rect class=\"ca\" x=\"" + Px(label) + "\" y=\"" + Px(y + 4) + "\" width=\"" +
         Px(std::max(pa / pmax * bw, 0.0)) + "\" height=\"10\"/>";
    s += "<rect class=\"cb\" x=\"" + Px(label) + "\" y=\"" + Px(y + 15) + "\" width=\"" +
         Px(std::max(pb / pmax * bw, 0.0)) + "\" height=\"10\"/>";
    s += "<text class=\"val\" x=\"" + Px(label + pa / pmax * bw + 4) + "\" y=\"" + Px(y + 13) +
         "\">" + ChartPercent(pa) + "</text>";
    s += "<text class=\"val\" x=\"" + Px(label + pb / pmax * bw + 4) + "\" y=\"" + Px(y + 24) +
         "\">" + ChartPercent(pb) + "</text></g>";
  };
  for (size_t r = 0; r < order.size(); ++r) {
    size_t i = order[r];
    row(r, c.categories[i], c.counts_a[i], c.counts_b[i], false);
  }
  if (hidden > 0) {
    row(order.size(),
        c.has_other ? "(all other values)" : "(" + std::to_string(hidden) + " more values)", rest_a,
        rest_b, true);
  }
  s += "</svg>";
  return s;
}

constexpr const char* kCss = R"css(
:root{--a:#2563eb;--b:#ea580c;--bad:#b91c1c;--badbg:#fee2e2;--ok:#15803d;--okbg:#dcfce7;--mut:#6b7280;--line:#e5e7eb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#111827;background:#f9fafb}
header{background:#111827;color:#f9fafb;padding:18px 28px}
header h1{margin:0 0 6px;font-size:20px;font-weight:600}
header .sub{color:#d1d5db;font-size:13px}
main{padding:20px 28px;max-width:1320px}
.legend{display:flex;gap:22px;flex-wrap:wrap;margin:10px 0 0}
.legend span{display:inline-flex;align-items:center;gap:7px;font-size:13px;color:#f3f4f6}
.sw{display:inline-block;width:14px;height:14px;border-radius:3px}
.sw.a{background:var(--a)}.sw.b{background:var(--b)}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin:0 0 18px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px}
.card .n{font-size:22px;font-weight:600}.card .l{color:var(--mut);font-size:12px}
.card.bad .n{color:var(--bad)}
table{border-collapse:collapse;background:#fff}
.summary{width:100%;border:1px solid var(--line);border-radius:8px;overflow:hidden;font-variant-numeric:tabular-nums}
.summary th,.summary td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
.summary th{background:#f3f4f6;font-weight:600;font-size:12px;color:#374151;position:sticky;top:0}
.summary td.l,.summary th.l{text-align:left}
.summary tr:hover td{background:#f9fafb}
td.hot{background:var(--badbg)!important;color:var(--bad);font-weight:600}
.va{color:var(--a)}.vb{color:var(--b)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.drift{background:var(--badbg);color:var(--bad)}
.badge.ok{background:var(--okbg);color:var(--ok)}
.badge.na{background:#f3f4f6;color:var(--mut)}
a{color:inherit}
.toolbar{margin:14px 0 8px;color:#374151}
.panel{background:#fff;border:1px solid var(--line);border-radius:8px;margin:18px 0;padding:14px 18px}
.panel.drifted{border-left:4px solid var(--bad)}
.panel h2{font-size:16px;margin:0 0 10px;display:flex;gap:10px;align-items:center}
.panel h2 .kind{font-weight:400;color:var(--mut);font-size:13px}
.body{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.stats{font-variant-numeric:tabular-nums;min-width:300px}
.stats th,.stats td{padding:3px 10px;border-bottom:1px solid var(--line);text-align:right}
.stats th{font-size:12px}.stats td.l{text-align:left;color:#374151}
.metrics{margin-top:10px;display:flex;gap:8px;flex-wrap:wrap}
.m{border:1px solid var(--line);border-radius:6px;padding:4px 9px;font-size:12px;background:#fff}
.m b{font-variant-numeric:tabular-nums}
.m.hot{border-color:#fca5a5;background:var(--badbg);color:var(--bad)}
.chart{width:600px;max-width:100%;height:auto}
.chart .grid{stroke:#eef0f3}.chart .axis{stroke:#9ca3af}
.chart .tick,.chart .cap{font-size:11px;fill:#6b7280}.chart .lab{font-size:12px;fill:#111827}
.chart .lab.muted{fill:#6b7280;font-style:italic}.chart .val{font-size:10px;fill:#4b5563}
.chart .ba{fill:var(--a);fill-opacity:.45;stroke:var(--a);stroke-width:1}
.chart .bb{fill:var(--b);fill-opacity:.45;stroke:var(--b);stroke-width:1}
.chart .bin:hover rect{fill-opacity:.7}
.chart .ma,.chart .mb{stroke-width:2;stroke-dasharray:5 4}.chart .ma{stroke:var(--a)}.chart .mb{stroke:var(--b)}
.chart .ca{fill:var(--a)}.chart .cb{fill:var(--b)}
.note{color:var(--mut)}
.clegend{font-size:12px;color:#374151;display:flex;gap:6px;align-items:center;justify-content:flex-end;padding-right:14px}
.clegend .sw{width:11px;height:11px;margin-left:8px}
footer{color:var(--mut);font-size:12px;padding:8px 28px 28px}
body.only-drift tr[data-drift="0"],body.only-drift .panel[data-drift="0"]{display:none}
)css";

std::string Cell(const std::string& text, bool hot = false, const std::string& cls = "") {
  std::string c = cls;
  if (hot) c += c.empty() ? "hot" : " hot";
  return "<td" + (c.empty() ? std::string() : " class=\"" + c + "\"") + ">" + text + "</td>";
}

std::string Badge(const FeatureComparison& f) {
  if (f.kind == CompareKind::kNone) return "<span class=\"badge na\">" + Html(f.note) + "</span>";
  return f.drifted ? "<span class=\"badge drift\">drift</span>"
                   : "<span class=\"badge ok\">ok</span>";
}

std::string TopValueText(const FeatureStats& s) {
  if (s.string.top_k.empty()) return "-";
  const TopValue& t = s.string.top_k[0];
  return Html(ValidUtf8(Printable(t.value, 24))) + " (" + std::to_string(t.count) + ")";
}

// The statistics of both sides, one row per statistic.
std::string StatsTableHtml(const FeatureComparison& f) {
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> rows;
  auto both = [&](const std::string& label, auto get) {
    rows.push_back({label, {f.a ? get(*f.a) : "-", f.b ? get(*f.b) : "-"}});
  };
  both("type", [](const FeatureStats& s) { return std::string(ColumnTypeName(s.type)); });
  both("count", [](const FeatureStats& s) { return std::to_string(s.count); });
  both("missing", [](const FeatureStats& s) {
    return Percent(s.missing_fraction) + " (" + std::to_string(s.missing) + ")";
  });
  const bool numeric = (f.a && f.a->has_numeric) || (f.b && f.b->has_numeric);
  const bool strings = (f.a && f.a->has_string) || (f.b && f.b->has_string);
  auto num = [](double NumericStats::*field) {
    return [field](const FeatureStats& s) {
      return s.has_numeric && s.numeric.finite > 0 ? Num(s.numeric.*field) : std::string("-");
    };
  };
  if (numeric) {
    both("mean", num(&NumericStats::mean));
    both("std dev", num(&NumericStats::std_dev));
    both("min", num(&NumericStats::min));
    both("median", num(&NumericStats::median));
    both("max", num(&NumericStats::max));
    both("zeros", [](const FeatureStats& s) {
      return s.has_numeric ? std::to_string(s.numeric.zeros) : std::string("-");
    });
    both("NaN / inf", [](const FeatureStats& s) {
      return s.has_numeric ? std::to_string(s.numeric.nan) + " / " + std::to_string(s.numeric.inf)
                           : std::string("-");
    });
  }
  if (strings) {
    both("unique", [](const FeatureStats& s) {
      return s.has_string
                 ? (s.string.unique_is_estimate ? "~" : "") + std::to_string(s.string.unique)
                 : std::string("-");
    });
    both("avg length", [](const FeatureStats& s) {
      return s.has_string ? Num(s.string.avg_length) : std::string("-");
    });
    both("top value",
         [](const FeatureStats& s) { return s.has_string ? TopValueText(s) : std::string("-"); });
  }
  std::string h =
      "<table class=\"stats\"><tr><th></th><th class=\"va\">A</th><th class=\"vb\">B</th></tr>";
  for (const auto& [label, v] : rows) {
    h += "<tr><td class=\"l\">" + label + "</td><td>" + v.first + "</td><td>" + v.second +
         "</td></tr>";
  }
  return h + "</table>";
}

std::string MetricChip(const std::string& name, const std::string& value, bool hot,
                       const std::string& title) {
  return "<span class=\"m" + std::string(hot ? " hot" : "") + "\" title=\"" + Html(title) + "\">" +
         name + " <b>" + value + "</b></span>";
}

}  // namespace

std::string CompareHtml(const CompareReport& r) {
  const DriftThresholds& t = r.thresholds;
  const std::string a_name = Html(ValidUtf8(SideLabel(r.a_name, "A")));
  const std::string b_name = Html(ValidUtf8(SideLabel(r.b_name, "B")));
  int compared = 0, only_one = 0;
  for (const auto& f : r.features) {
    compared += f.kind != CompareKind::kNone ? 1 : 0;
    only_one += (!f.a || !f.b) ? 1 : 0;
  }
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
       "<title>Data compare: " +
       a_name + " vs " + b_name + "</title><style>" + kCss + "</style></head><body>\n";
  h += "<header><h1>Data compare</h1><div class=\"sub\">A is the reference, B the current data. "
       "Drift metrics follow docs/drift.md of Cairn.</div><div class=\"legend\">"
       "<span><i class=\"sw a\"></i>A: " +
       a_name + " &middot; " + std::to_string(r.rows_a) + " rows" +
       (r.exact_a ? "" : " (some statistics estimated)") +
       "</span><span><i class=\"sw b\"></i>B: " + b_name + " &middot; " + std::to_string(r.rows_b) +
       " rows" + (r.exact_b ? "" : " (some statistics estimated)") +
       "</span></div></header>\n<main>\n";
  const int drifted = r.drifted_count();
  h += "<div class=\"cards\"><div class=\"card\"><div class=\"n\">" +
       std::to_string(r.features.size()) +
       "</div><div class=\"l\">features</div></div><div class=\"card" +
       std::string(drifted > 0 ? " bad" : "") + "\"><div class=\"n\">" + std::to_string(drifted) +
       "</div><div class=\"l\">drifted</div></div><div class=\"card\"><div class=\"n\">" +
       std::to_string(compared) +
       "</div><div class=\"l\">compared</div></div><div class=\"card\"><div class=\"n\">" +
       std::to_string(only_one) + "</div><div class=\"l\">on one side only</div></div></div>\n";
  h += "<table class=\"summary\"><thead><tr><th class=\"l\">feature</th><th class=\"l\">kind</th>"
       "<th>count <span class=\"va\">A</span></th><th>count <span class=\"vb\">B</span></th>"
       "<th>missing <span class=\"va\">A</span></th><th>missing <span class=\"vb\">B</span></th>"
       "<th>mean / unique <span class=\"va\">A</span></th>"
       "<th>mean / unique <span class=\"vb\">B</span></th>"
       "<th title=\"Jensen-Shannon distance, base 2\">JS</th><th title=\"population stability "
       "index (A expected)\">PSI</th><th title=\"numeric: Wasserstein / std(A); categorical: "
       "L-infinity\">W/&sigma; or L&infin;</th><th title=\"numeric: Kolmogorov-Smirnov; "
       "categorical: chi-squared\">p-value</th><th class=\"l\">status</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < r.features.size(); ++i) {
    const FeatureComparison& f = r.features[i];
    auto count = [](const std::optional<FeatureStats>& s) {
      return s ? std::to_string(s->count) : std::string("-");
    };
    auto missing = [](const std::optional<FeatureStats>& s) {
      return s ? Percent(s->missing_fraction) : std::string("-");
    };
    auto center = [](const std::optional<FeatureStats>& s) {
      if (!s) return std::string("-");
      if (s->has_numeric) return s->numeric.finite > 0 ? Num(s->numeric.mean) : std::string("-");
      if (s->has_string) {
        return (s->string.unique_is_estimate ? "~" : "") + std::to_string(s->string.unique);
      }
      return std::string("-");
    };
    h += "<tr data-drift=\"" + std::string(f.drifted ? "1" : "0") +
         "\"><td class=\"l\"><a href=\"#f" + std::to_string(i) + "\">" +
         Html(ValidUtf8(Printable(f.name, 48))) + "</a></td><td class=\"l\">" +
         (f.kind == CompareKind::kNone ? TypeOf(f.a) + " / " + TypeOf(f.b)
                                       : std::string(CompareKindName(f.kind))) +
         "</td>" + Cell(count(f.a)) + Cell(count(f.b)) + Cell(missing(f.a)) + Cell(missing(f.b)) +
         Cell(center(f.a)) + Cell(center(f.b));
    if (f.kind == CompareKind::kNumeric) {
      const NumericComparison& n = f.numeric;
      h += Cell(Metric(n.jensen_shannon), n.jensen_shannon >= t.jensen_shannon) +
           Cell(Metric(n.psi), n.psi >= t.psi) +
           Cell(Metric(n.normalized_wasserstein),
                n.normalized_wasserstein >= t.normalized_wasserstein) +
           Cell(PValue(n.ks.p_value), n.ks.p_value < t.p_value);
    } else if (f.kind == CompareKind::kCategorical) {
      const CategoricalComparison& c = f.categorical;
      h += Cell(Metric(c.jensen_shannon), c.jensen_shannon >= t.jensen_shannon) +
           Cell(Metric(c.psi), c.psi >= t.psi) +
           Cell(Metric(c.l_infinity), c.l_infinity >= t.l_infinity) +
           Cell(PValue(c.chi_squared.p_value), c.chi_squared.p_value < t.p_value);
    } else {
      h += Cell("-") + Cell("-") + Cell("-") + Cell("-");
    }
    h += "<td class=\"l\">" + Badge(f) + "</td></tr>\n";
  }
  h += "</tbody></table>\n";
  h += "<div class=\"toolbar\"><label><input type=\"checkbox\" id=\"only\"> show drifted "
       "features only</label> &middot; highlighted: JS &ge; " +
       Num(t.jensen_shannon) + ", PSI &ge; " + Num(t.psi) + ", W/&sigma; &ge; " +
       Num(t.normalized_wasserstein) + ", L&infin; &ge; " + Num(t.l_infinity) + ", p &lt; " +
       Num(t.p_value) + " (p-values do not mark a feature drifted)</div>\n";

  for (size_t i = 0; i < r.features.size(); ++i) {
    const FeatureComparison& f = r.features[i];
    h += "<section class=\"panel" + std::string(f.drifted ? " drifted" : "") + "\" data-drift=\"" +
         (f.drifted ? "1" : "0") + "\" id=\"f" + std::to_string(i) + "\"><h2>" +
         Html(ValidUtf8(Printable(f.name, 80))) + " <span class=\"kind\">" +
         CompareKindName(f.kind) + "</span>" + Badge(f) + "</h2><div class=\"body\"><div>" +
         StatsTableHtml(f);
    if (f.kind == CompareKind::kNumeric) {
      const NumericComparison& n = f.numeric;
      const std::string sample_note = n.sampled ? "on systematic samples of " +
                                                      std::to_string(n.sample_a) + " (A) and " +
                                                      std::to_string(n.sample_b) + " (B) values"
                                                : "on every value";
      h += "<div class=\"metrics\">" +
           MetricChip("JS", Metric(n.jensen_shannon), n.jensen_shannon >= t.jensen_shannon,
                      "Jensen-Shannon distance (base 2) on the shared bins") +
           MetricChip("PSI", Metric(n.psi), n.psi >= t.psi,
                      "population stability index, A expected, empty-bin epsilon 1e-4") +
           MetricChip("W/&sigma;", Metric(n.normalized_wasserstein),
                      n.normalized_wasserstein >= t.normalized_wasserstein,
                      "Wasserstein distance " + Num(n.wasserstein) + " / max(std(A), 0.001), " +
                          sample_note) +
           MetricChip("KS D", Metric(n.ks.statistic), false,
                      "Kolmogorov-Smirnov statistic, " + sample_note) +
           MetricChip("KS p", PValue(n.ks.p_value), n.ks.p_value < t.p_value,
                      std::string("two-sided p-value, ") +
                          (n.ks.method == KsMethod::kExact ? "exact" : "asymptotic")) +
           "</div>";
      h += "</div><div><div class=\"clegend\"><i class=\"sw a\"></i>A <i class=\"sw "
           "b\"></i>B</div>" +
           NumericSvg(f) + "</div>";
    } else if (f.kind == CompareKind::kCategorical) {
      const CategoricalComparison& c = f.categorical;
      h += "<div class=\"metrics\">" +
           MetricChip("JS", Metric(c.jensen_shannon), c.jensen_shannon >= t.jensen_shannon,
                      "Jensen-Shannon distance (base 2), one bin per category") +
           MetricChip("L&infin;", Metric(c.l_infinity), c.l_infinity >= t.l_infinity,
                      "largest difference of a category's proportion") +
           MetricChip("PSI", Metric(c.psi), c.psi >= t.psi,
                      "population stability index, A expected") +
           MetricChip("&chi;&sup2;", Num(c.chi_squared.statistic), false,
                      "Pearson chi-squared, dof " + std::to_string(c.chi_squared.dof)) +
           MetricChip("&chi;&sup2; p", PValue(c.chi_squared.p_value),
                      c.chi_squared.p_value < t.p_value, "chi-squared p-value") +
           "</div>";
      h += "</div><div><div class=\"clegend\"><i class=\"sw a\"></i>A <i class=\"sw "
           "b\"></i>B</div>" +
           CategoricalSvg(f, r.shown_values) + "</div>";
    } else {
      h += "<p class=\"note\">No drift metrics: " + Html(f.note) + ".</p></div>";
    }
    h += "</div></section>\n";
  }
  h += "</main><footer>Generated by cairn data compare. Self-contained: no external resources."
       "</footer>\n<script>document.getElementById('only').addEventListener('change',"
       "function(e){document.body.classList.toggle('only-drift',e.target.checked);});"
       "</script>\n</body></html>\n";
  return h;
}

}  // namespace cairn::data
