#include "store/registry_search.h"

#include <stdexcept>

namespace cairn {
namespace {

class Params {
 public:
  explicit Params(const SqlDialect& d) : d_(d) {}
  std::string Add(SqlValue v) {
    q_.params.push_back(std::move(v));
    return d_.Placeholder(static_cast<int>(q_.params.size()));
  }
  std::string Compare(const std::string& lhs, const Clause& c) {
    switch (c.op) {
      case Comparator::kLike:
        return d_.Like(lhs, Add(c.values.at(0)));
      case Comparator::kILike:
        return d_.ILike(lhs, Add(c.values.at(0)));
      case Comparator::kIn:
      case Comparator::kNotIn: {
        std::string list;
        for (const auto& v : c.values) list += (list.empty() ? "" : ", ") + Add(v);
        return lhs + " " + ComparatorSql(c.op) + " (" + list + ")";
      }
      default:
        return lhs + " " + ComparatorSql(c.op) + " " +
               (c.numeric ? Add(static_cast<int64_t>(c.number)) : Add(c.values.at(0)));
    }
  }
  SqlQuery& query() { return q_; }

 private:
  const SqlDialect& d_;
  SqlQuery q_;
};

// Integer columns compare against the clause's number as an integer when it is
// one, so "version_number = 3" uses the index; fractions compare as doubles.
std::string CompareColumn(Params& p, const std::string& column, const Clause& c) {
  if (c.numeric && c.number != static_cast<double>(static_cast<int64_t>(c.number))) {
    return column + " " + ComparatorSql(c.op) + " " + p.Add(c.number);
  }
  return p.Compare(column, c);
}

std::string ModelColumn(const std::string& key) {
  if (key == "name") return "r.name";
  if (key == "creation_timestamp") return "r.creation_time";
  if (key == "last_updated_timestamp") return "r.last_updated_time";
  throw std::invalid_argument("registered models cannot be searched by '" + key + "'");
}

std::string VersionColumn(const std::string& key) {
  if (key == "name") return "r.name";
  if (key == "run_id") return "v.run_id";
  if (key == "source_path") return "v.source";
  if (key == "version_number") return "v.version";
  if (key == "creation_timestamp") return "v.creation_time";
  if (key == "last_updated_timestamp") return "v.last_updated_time";
  throw std::invalid_argument("model versions cannot be searched by '" + key + "'");
}

}  // namespace

SqlQuery BuildRegisteredModelSearchSql(const RegistryQuery& query, const SqlDialect& dialect) {
  Params p(dialect);
  std::string where = "1 = 1";
  for (const auto& c : query.filter) {
    if (c.type == EntityType::kTag) {
      where +=
          " AND EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_id = r.model_id "
          "AND t.key = " +
          p.Add(c.key) + " AND " + p.Compare("t.value", c) + ")";
    } else {
      where += " AND " + CompareColumn(p, ModelColumn(c.key), c);
    }
  }
  std::string order;
  for (const auto& o : query.order_by) {
    order += ModelColumn(o.key) + (o.ascending ? " ASC, " : " DESC, ");
  }
  order += "r.name ASC";
  std::string limit = p.Add(query.max_results + 1);
  std::string offset = p.Add(query.offset);
  p.query().sql = "SELECT r.model_id FROM registered_models r WHERE " + where + " ORDER BY " +
                  order + " LIMIT " + limit + " OFFSET " + offset;
  return std::move(p.query());
}

SqlQuery BuildModelVersionSearchSql(const RegistryQuery& query, const SqlDialect& dialect) {
  Params p(dialect);
  std::string where = "1 = 1";
  for (const auto& c : query.filter) {
    if (c.type == EntityType::kTag) {
      where +=
          " AND EXISTS (SELECT 1 FROM model_version_tags t WHERE t.model_id = v.model_id "
          "AND t.version = v.version AND t.key = " +
          p.Add(c.key) + " AND " + p.Compare("t.value", c) + ")";
    } else {
      where += " AND " + CompareColumn(p, VersionColumn(c.key), c);
    }
  }
  std::string order;
  for (const auto& o : query.order_by) {
    order += VersionColumn(o.key) + (o.ascending ? " ASC, " : " DESC, ");
  }
  order += "r.name ASC, v.version DESC";
  std::string limit = p.Add(query.max_results + 1);
  std::string offset = p.Add(query.offset);
  p.query().sql =
      "SELECT v.model_id, v.version FROM model_versions v JOIN registered_models r ON "
      "r.model_id = v.model_id WHERE " +
      where + " ORDER BY " + order + " LIMIT " + limit + " OFFSET " + offset;
  return std::move(p.query());
}

}  // namespace cairn
