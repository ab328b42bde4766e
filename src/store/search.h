// The search contract between the tracking service and the store backends: a
// parsed filter (a conjunction of clauses), order-by keys, view type and paging.
// Parsing MLflow's filter grammar lives in tracking/search_filter; backends
// only translate these values to queries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn {

enum class EntityType { kMetric, kParam, kTag, kAttribute, kDataset };
enum class Comparator { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn, kNotIn };
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };

const char* ComparatorSql(Comparator c);

struct Clause {
  EntityType type = EntityType::kAttribute;
  std::string key;  // for attributes: the canonical attribute name (run_id, status, ...)
  Comparator op = Comparator::kEq;
  bool numeric = false;
  double number = 0;                // when numeric
  std::vector<std::string> values;  // string operand(s); several for IN / NOT IN
};

struct OrderKey {
  EntityType type = EntityType::kAttribute;
  std::string key;
  bool ascending = true;
};

struct RunQuery {
  std::vector<std::string> experiment_ids;
  std::vector<Clause> filter;
  std::vector<OrderKey> order_by;
  ViewType view = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  int64_t offset = 0;
};

struct ExperimentQuery {
  std::vector<Clause> filter;
  std::vector<OrderKey> order_by;
  ViewType view = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  int64_t offset = 0;
};

}  // namespace cairn
