#include "store/sql_search.h"

#include <functional>
#include <stdexcept>
#include <tuple>

namespace cairn {

const char* ComparatorSql(Comparator c) {
  switch (c) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNe:
      return "!=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
    case Comparator::kLike:
      return "LIKE";
    case Comparator::kILike:
      return "ILIKE";
    case Comparator::kIn:
      return "IN";
    case Comparator::kNotIn:
      return "NOT IN";
  }
  return "=";
}

namespace {

class Builder {
 public:
  explicit Builder(const SqlDialect& d) : d_(d) {}

  std::string Param(SqlValue v) {
    q_.params.push_back(std::move(v));
    return d_.Placeholder(static_cast<int>(q_.params.size()));
  }

  // `lhs <op> operand` for a string- or number-valued clause.
  std::string Compare(const std::string& lhs, const Clause& c) {
    switch (c.op) {
      case Comparator::kLike:
        return d_.Like(lhs, Param(c.values.at(0)));
      case Comparator::kILike:
        return d_.ILike(lhs, Param(c.values.at(0)));
      case Comparator::kIn:
      case Comparator::kNotIn: {
        std::string list;
        for (const auto& v : c.values) list += (list.empty() ? "" : ", ") + Param(v);
        return lhs + " " + ComparatorSql(c.op) + " (" + list + ")";
      }
      default: {
        std::string rhs = c.numeric ? Param(c.number) : Param(c.values.at(0));
        return lhs + " " + ComparatorSql(c.op) + " " + rhs;
      }
    }
  }

  SqlQuery& query() { return q_; }

 private:
  const SqlDialect& d_;
  SqlQuery q_;
};

std::string RunAttributeColumn(const std::string& key) {
  if (key == "run_id") return "r.run_uuid";
  if (key == "run_name") return "r.name";
  if (key == "status" || key == "user_id" || key == "start_time" || key == "end_time" ||
      key == "artifact_uri" || key == "lifecycle_stage") {
    return "r." + key;
  }
  throw std::invalid_argument("unknown run attribute " + key);
}

std::string LifecycleCondition(ViewType view, const std::string& column) {
  switch (view) {
    case ViewType::kActiveOnly:
      return column + " = 'active'";
    case ViewType::kDeletedOnly:
      return column + " = 'deleted'";
    case ViewType::kAll:
      return "1 = 1";
  }
  return "1 = 1";
}

std::string RunClauseSql(Builder& b, const Clause& c) {
  switch (c.type) {
    case EntityType::kMetric:
      return "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = " +
             b.Param(c.key) + " AND m.is_nan = 0 AND " + b.Compare("m.value", c) + ")";
    case EntityType::kParam:
      return "EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid AND p.key = " +
             b.Param(c.key) + " AND " + b.Compare("p.value", c) + ")";
    case EntityType::kTag:
      return "EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = " +
             b.Param(c.key) + " AND " + b.Compare("t.value", c) + ")";
    case EntityType::kAttribute:
      return b.Compare(RunAttributeColumn(c.key), c);
    case EntityType::kDataset: {
      std::string base =
          "EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
          "WHERE i.destination_type = 'RUN' AND i.destination_id = r.run_uuid AND "
          "i.source_type = 'DATASET' AND ";
      if (c.key == "context") {
        return base +
               "EXISTS (SELECT 1 FROM input_tags it WHERE it.input_uuid = i.input_uuid AND "
               "it.name = 'mlflow.data.context' AND " +
               b.Compare("it.value", c) + "))";
      }
      return base + b.Compare("d." + c.key, c) + ")";
    }
  }
  return "1 = 1";
}

std::string NullsLast(const std::string& expr, bool ascending) {
  return "CASE WHEN " + expr + " IS NULL THEN 1 ELSE 0 END, " + expr +
         (ascending ? " ASC" : " DESC");
}

}  // namespace

namespace {

// WHERE conditions shared by every tier: experiments, lifecycle, filter clauses.
std::string RunWhere(Builder& b, const RunQuery& query) {
  std::string where = LifecycleCondition(query.view, "r.lifecycle_stage");
  std::string exps;
  for (const auto& id : query.experiment_ids) {
    exps += (exps.empty() ? "" : ", ") + b.Param(static_cast<int64_t>(std::stoll(id)));
  }
  where += " AND r.experiment_id IN (" + (exps.empty() ? std::string("NULL") : exps) + ")";
  for (const auto& c : query.filter) where += " AND " + RunClauseSql(b, c);
  return where;
}

// LEFT JOINs and ORDER BY terms for order keys [first, end), then the
// tiebreakers MLflow uses (start_time DESC, run_uuid).
std::pair<std::string, std::string> RunOrderTail(Builder& b, const RunQuery& query, size_t first) {
  std::string joins, order;
  for (size_t n = first; n < query.order_by.size(); ++n) {
    const auto& o = query.order_by[n];
    std::string alias = "o" + std::to_string(n);
    switch (o.type) {
      case EntityType::kMetric:
        joins += " LEFT JOIN latest_metrics " + alias + " ON " + alias +
                 ".run_uuid = r.run_uuid AND " + alias + ".key = " + b.Param(o.key);
        // NaN sorts after every number, before missing values.
        order += "CASE WHEN " + alias + ".value IS NULL THEN 2 WHEN " + alias +
                 ".is_nan = 1 THEN 1 ELSE 0 END, " + alias + ".value" +
                 (o.ascending ? " ASC" : " DESC") + ", ";
        break;
      case EntityType::kParam:
      case EntityType::kTag:
        joins += std::string(" LEFT JOIN ") + (o.type == EntityType::kParam ? "params " : "tags ") +
                 alias + " ON " + alias + ".run_uuid = r.run_uuid AND " + alias +
                 ".key = " + b.Param(o.key);
        order += NullsLast(alias + ".value", o.ascending) + ", ";
        break;
      case EntityType::kAttribute:
        order += NullsLast(RunAttributeColumn(o.key), o.ascending) + ", ";
        break;
      case EntityType::kDataset:
        throw std::invalid_argument("cannot order by a dataset field");
    }
  }
  order += "r.start_time DESC, r.run_uuid ASC";
  return {joins, order};
}

RunSearchTier Tier(const SqlDialect& d, const RunQuery& query, const std::string& from,
                   const std::function<std::string(Builder&)>& lead_where,
                   const std::string& lead_order, size_t tail_from) {
  RunSearchTier tier;
  for (bool counting : {false, true}) {
    Builder b(d);
    std::string lead = lead_where(b);
    std::string where = RunWhere(b, query);
    std::string joins, order;
    if (!counting) std::tie(joins, order) = RunOrderTail(b, query, tail_from);
    std::string sql = "SELECT " + std::string(counting ? "COUNT(*)" : "r.run_uuid") + " FROM " +
                      from + joins + " WHERE " + lead + where;
    if (!counting) sql += " ORDER BY " + lead_order + order;
    b.query().sql = std::move(sql);
    (counting ? tier.count : tier.select) = std::move(b.query());
  }
  return tier;
}

}  // namespace

std::vector<RunSearchTier> BuildRunSearchPlan(const RunQuery& query, const SqlDialect& dialect) {
  std::vector<RunSearchTier> tiers;
  auto none = [](Builder&) { return std::string(); };
  if (query.order_by.empty() || query.order_by[0].type == EntityType::kAttribute) {
    tiers.push_back(Tier(dialect, query, "runs r", none, "", 0));
    return tiers;
  }
  const OrderKey& first = query.order_by[0];
  if (first.type == EntityType::kDataset)
    throw std::invalid_argument("cannot order by a dataset field");
  const bool metric = first.type == EntityType::kMetric;
  const std::string table = metric                             ? "latest_metrics"
                            : first.type == EntityType::kParam ? "params"
                                                               : "tags";
  const std::string dir = first.ascending ? " ASC, " : " DESC, ";
  // CROSS JOIN keeps the value index as the outer loop (SQLite's join-order
  // hint; plain inner-join semantics elsewhere), so rows arrive already ordered.
  const std::string ordered_from = table + " k CROSS JOIN runs r";
  tiers.push_back(Tier(
      dialect, query, ordered_from,
      [&](Builder& b) {
        return "k.key = " + b.Param(first.key) + (metric ? " AND k.is_nan = 0" : "") +
               " AND r.run_uuid = k.run_uuid AND ";
      },
      "k.value" + dir, 1));
  if (metric) {
    tiers.push_back(Tier(
        dialect, query, ordered_from,
        [&](Builder& b) {
          return "k.key = " + b.Param(first.key) +
                 " AND k.is_nan = 1 AND r.run_uuid = k.run_uuid AND ";
        },
        "", 1));
  }
  tiers.push_back(Tier(
      dialect, query, "runs r",
      [&](Builder& b) {
        return "NOT EXISTS (SELECT 1 FROM " + table +
               " k WHERE k.run_uuid = r.run_uuid AND k.key = " + b.Param(first.key) + ") AND ";
      },
      "", 1));
  return tiers;
}

SqlQuery BuildExperimentSearchSql(const ExperimentQuery& query, const SqlDialect& dialect) {
  Builder b(dialect);
  std::string joins, order;
  int n = 0;
  for (const auto& o : query.order_by) {
    if (o.type == EntityType::kTag) {
      std::string alias = "o" + std::to_string(n++);
      joins += " LEFT JOIN experiment_tags " + alias + " ON " + alias +
               ".experiment_id = e.experiment_id AND " + alias + ".key = " + b.Param(o.key);
      order += NullsLast(alias + ".value", o.ascending) + ", ";
    } else {
      order += NullsLast("e." + o.key, o.ascending) + ", ";
    }
  }
  order += "e.creation_time DESC, e.experiment_id ASC";
  std::string where = LifecycleCondition(query.view, "e.lifecycle_stage");
  for (const auto& c : query.filter) {
    if (c.type == EntityType::kTag) {
      where +=
          " AND EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = "
          "e.experiment_id AND t.key = " +
          b.Param(c.key) + " AND " + b.Compare("t.value", c) + ")";
    } else {
      where += " AND " + b.Compare("e." + c.key, c);
    }
  }
  std::string limit = b.Param(query.max_results + 1);
  std::string offset = b.Param(query.offset);
  b.query().sql = "SELECT e.experiment_id FROM experiments e" + joins + " WHERE " + where +
                  " ORDER BY " + order + " LIMIT " + limit + " OFFSET " + offset;
  return std::move(b.query());
}

}  // namespace cairn
