// serving/scoring_formats.cc: protocol bodies <-> feature rows (see
// scoring_formats.h).
#include "serving/scoring_formats.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>

namespace cairn::serving {
namespace {

using Json = nlohmann::json;

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
constexpr size_t kMaxRows = 1'000'000;

std::string Where(const ColumnSpec& c, size_t row) {
  return "column '" + c.name + "'" + (row > 0 ? " (row " + std::to_string(row) + ")" : "");
}

std::string Shown(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

const char* JsonKind(const Json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

// A null or absent value of column c: NaN when the column is optional.
Status Missing(const ColumnSpec& c, size_t row, float& out, bool absent) {
  if (c.required) {
    return InvalidParameter(Where(c, row) + (absent ? " is missing" : " is null") +
                            "; the model's signature requires it");
  }
  out = kMissing;
  return Status::Ok();
}

Status CategoryIndex(const ColumnSpec& c, size_t row, std::string_view value, float& out) {
  for (size_t i = 0; i < c.categories.size(); ++i) {
    if (c.categories[i] == value) {
      out = static_cast<float>(i);
      return Status::Ok();
    }
  }
  std::string known;
  for (size_t i = 0; i < c.categories.size() && i < 10; ++i) {
    known += (i ? ", " : "") + c.categories[i];
  }
  if (c.categories.size() > 10) known += ", ...";
  return InvalidParameter(Where(c, row) + ": unseen category '" + std::string(value) +
                          "' (known: " + known + ")");
}

// One JSON value of column c into a feature.
Status PutJson(const Json& v, const ColumnSpec& c, size_t row, float& out) {
  if (v.is_null()) return Missing(c, row, out, false);
  switch (c.type) {
    case ColumnType::kDouble:
    case ColumnType::kFloat:
      if (v.is_number()) {
        out = static_cast<float>(v.get<double>());
        return Status::Ok();
      }
      break;
    case ColumnType::kLong:
    case ColumnType::kInteger:
      if (v.is_number_integer()) {
        out = static_cast<float>(v.get<int64_t>());
        return Status::Ok();
      }
      if (v.is_number_float()) {
        double d = v.get<double>();
        if (std::floor(d) == d && std::isfinite(d)) {
          out = static_cast<float>(d);
          return Status::Ok();
        }
        return InvalidParameter(Where(c, row) + ": expected " + c.type_name + ", got " + Shown(v) +
                                " (not a whole number)");
      }
      break;
    case ColumnType::kBoolean:
      if (v.is_boolean()) {
        out = v.get<bool>() ? 1.0f : 0.0f;
        return Status::Ok();
      }
      break;
    case ColumnType::kString:
      if (v.is_string()) return CategoryIndex(c, row, v.get_ref<const std::string&>(), out);
      break;
    case ColumnType::kUnsupported:
      break;
  }
  return InvalidParameter(Where(c, row) + ": expected " + c.type_name + ", got " + JsonKind(v) +
                          " " + Shown(v));
}

// One CSV cell of column c into a feature ("" is null).
Status PutText(std::string_view s, const ColumnSpec& c, size_t row, float& out) {
  if (s.empty()) return Missing(c, row, out, false);
  switch (c.type) {
    case ColumnType::kDouble:
    case ColumnType::kFloat:
    case ColumnType::kLong:
    case ColumnType::kInteger: {
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      bool whole = c.type == ColumnType::kLong || c.type == ColumnType::kInteger;
      if (ec == std::errc() && p == s.data() + s.size() && (!whole || std::floor(d) == d)) {
        out = static_cast<float>(d);
        return Status::Ok();
      }
      break;
    }
    case ColumnType::kBoolean:
      if (s == "true" || s == "True" || s == "1") {
        out = 1.0f;
        return Status::Ok();
      }
      if (s == "false" || s == "False" || s == "0") {
        out = 0.0f;
        return Status::Ok();
      }
      break;
    case ColumnType::kString:
      return CategoryIndex(c, row, s, out);
    case ColumnType::kUnsupported:
      break;
  }
  return InvalidParameter(Where(c, row) + ": expected " + c.type_name + ", got '" +
                          std::string(s.substr(0, 60)) + "'");
}

std::string ColumnList(const std::vector<ColumnSpec>& columns) {
  std::string s;
  for (size_t i = 0; i < columns.size() && i < 12; ++i) s += (i ? ", " : "") + columns[i].name;
  if (columns.size() > 12) s += ", ...";
  return s;
}

int ColumnIndex(const std::vector<ColumnSpec>& columns, std::string_view name) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Status Allocate(ScoreBatch& batch, size_t rows, size_t cols) {
  if (rows == 0) return InvalidParameter("the request has no rows to score");
  if (rows > kMaxRows) return InvalidParameter("too many rows in one request (max 1000000)");
  batch.rows = rows;
  batch.features.assign(rows * cols, kMissing);
  return Status::Ok();
}

// Rows given as lists of values in the signature's order.
Status FromPositionalRows(const Json& rows, const std::vector<ColumnSpec>& columns,
                          ScoreBatch& batch) {
  const size_t cols = columns.size();
  CAIRN_RETURN_IF_ERROR(Allocate(batch, rows.size(), cols));
  for (size_t r = 0; r < rows.size(); ++r) {
    const Json& row = rows[r];
    if (!row.is_array() || row.size() != cols) {
      return InvalidParameter(
          "row " + std::to_string(r) + " has " +
          (row.is_array() ? std::to_string(row.size()) + " values" : "no list") +
          "; the model expects " + std::to_string(cols) + " columns (" + ColumnList(columns) + ")");
    }
    float* out = batch.features.data() + r * cols;
    for (size_t c = 0; c < cols; ++c) CAIRN_RETURN_IF_ERROR(PutJson(row[c], columns[c], r, out[c]));
  }
  return Status::Ok();
}

// Rows given as {column: value} objects.
Status FromRecords(const Json& records, const std::vector<ColumnSpec>& columns, ScoreBatch& batch) {
  const size_t cols = columns.size();
  CAIRN_RETURN_IF_ERROR(Allocate(batch, records.size(), cols));
  for (size_t r = 0; r < records.size(); ++r) {
    const Json& rec = records[r];
    if (!rec.is_object()) {
      return InvalidParameter("record " + std::to_string(r) + " is not an object of column values");
    }
    float* out = batch.features.data() + r * cols;
    for (size_t c = 0; c < cols; ++c) {
      auto it = rec.find(columns[c].name);
      if (it == rec.end()) {
        CAIRN_RETURN_IF_ERROR(Missing(columns[c], r, out[c], true));
      } else {
        CAIRN_RETURN_IF_ERROR(PutJson(*it, columns[c], r, out[c]));
      }
    }
  }
  return Status::Ok();
}

// {column: [values...]} (MLflow's columnar `inputs`/`instances`).
Status FromColumnar(const Json& obj, const std::vector<ColumnSpec>& columns, ScoreBatch& batch) {
  size_t rows = 0;
  for (const auto& c : columns) {
    auto it = obj.find(c.name);
    if (it != obj.end()) rows = it->is_array() ? it->size() : 1;
    if (it != obj.end()) break;
  }
  CAIRN_RETURN_IF_ERROR(Allocate(batch, rows, columns.size()));
  for (size_t c = 0; c < columns.size(); ++c) {
    auto it = obj.find(columns[c].name);
    for (size_t r = 0; r < rows; ++r) {
      float& out = batch.features[r * columns.size() + c];
      if (it == obj.end()) {
        CAIRN_RETURN_IF_ERROR(Missing(columns[c], r, out, true));
      } else if (it->is_array()) {
        if (it->size() != rows) {
          return InvalidParameter("column '" + columns[c].name + "' has " +
                                  std::to_string(it->size()) + " values; other columns have " +
                                  std::to_string(rows));
        }
        CAIRN_RETURN_IF_ERROR(PutJson((*it)[r], columns[c], r, out));
      } else {
        CAIRN_RETURN_IF_ERROR(PutJson(*it, columns[c], r, out));
      }
    }
  }
  return Status::Ok();
}

// MLflow's `instances`/`inputs` and Azure's `data`: records, rows, a columnar
// object, or a single row of scalars.
Status FromInstances(const Json& v, const char* field, const std::vector<ColumnSpec>& columns,
                     ScoreBatch& batch) {
  if (v.is_object()) return FromColumnar(v, columns, batch);
  if (!v.is_array() || v.empty()) {
    return InvalidParameter(std::string("`") + field +
                            "` must be a non-empty list of rows or records, or an object of "
                            "columns");
  }
  if (v[0].is_object()) return FromRecords(v, columns, batch);
  if (v[0].is_array()) return FromPositionalRows(v, columns, batch);
  // A flat list: one row of values (or one value per row for a 1-column model).
  if (columns.size() == 1) {
    Json rows = Json::array();
    for (const auto& x : v) rows.push_back(Json::array({x}));
    return FromPositionalRows(rows, columns, batch);
  }
  return FromPositionalRows(Json::array({v}), columns, batch);
}

Status FromDataframeSplit(const Json& split, const std::vector<ColumnSpec>& columns,
                          ScoreBatch& batch) {
  if (!split.is_object() || !split.contains("data") || !split["data"].is_array()) {
    return InvalidParameter("`dataframe_split` must be {\"columns\": [...], \"data\": [[...]]}");
  }
  const Json& data = split["data"];
  if (!split.contains("columns")) return FromPositionalRows(data, columns, batch);
  const Json& names = split["columns"];
  if (!names.is_array()) return InvalidParameter("`dataframe_split.columns` must be a list");
  std::vector<int> where(columns.size(), -1);  // column -> position in each row
  for (size_t i = 0; i < names.size(); ++i) {
    if (!names[i].is_string())
      return InvalidParameter("`dataframe_split.columns` holds a non-name");
    int c = ColumnIndex(columns, names[i].get_ref<const std::string&>());
    if (c >= 0) where[static_cast<size_t>(c)] = static_cast<int>(i);
  }
  CAIRN_RETURN_IF_ERROR(Allocate(batch, data.size(), columns.size()));
  for (size_t r = 0; r < data.size(); ++r) {
    const Json& row = data[r];
    if (!row.is_array() || row.size() != names.size()) {
      return InvalidParameter("dataframe_split row " + std::to_string(r) + " does not have " +
                              std::to_string(names.size()) + " values (one per column)");
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      float& out = batch.features[r * columns.size() + c];
      if (where[c] < 0) {
        CAIRN_RETURN_IF_ERROR(Missing(columns[c], r, out, true));
      } else {
        CAIRN_RETURN_IF_ERROR(PutJson(row[static_cast<size_t>(where[c])], columns[c], r, out));
      }
    }
  }
  return Status::Ok();
}

// Splits one CSV record (RFC 4180 quotes) starting at `pos`; advances it.
std::vector<std::string> CsvRecord(std::string_view text, size_t& pos) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  while (pos < text.size()) {
    char ch = text[pos++];
    if (quoted) {
      if (ch == '"') {
        if (pos < text.size() && text[pos] == '"') {
          cells.back() += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        cells.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      cells.emplace_back();
    } else if (ch == '\n') {
      break;
    } else if (ch != '\r') {
      cells.back() += ch;
    }
  }
  return cells;
}

Status FromCsv(std::string_view text, const std::vector<ColumnSpec>& columns, ScoreBatch& batch) {
  size_t pos = 0;
  std::vector<std::string> header = CsvRecord(text, pos);
  std::vector<int> where(columns.size(), -1);
  for (size_t i = 0; i < header.size(); ++i) {
    int c = ColumnIndex(columns, header[i]);
    if (c >= 0) where[static_cast<size_t>(c)] = static_cast<int>(i);
  }
  std::vector<std::vector<std::string>> records;
  while (pos < text.size()) {
    auto rec = CsvRecord(text, pos);
    if (rec.size() == 1 && rec[0].empty()) continue;  // blank line
    records.push_back(std::move(rec));
    if (records.size() > kMaxRows) break;
  }
  CAIRN_RETURN_IF_ERROR(Allocate(batch, records.size(), columns.size()));
  for (size_t r = 0; r < records.size(); ++r) {
    if (records[r].size() != header.size()) {
      return InvalidParameter("CSV row " + std::to_string(r + 1) + " has " +
                              std::to_string(records[r].size()) + " fields; the header has " +
                              std::to_string(header.size()));
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      float& out = batch.features[r * columns.size() + c];
      if (where[c] < 0) {
        CAIRN_RETURN_IF_ERROR(Missing(columns[c], r, out, true));
      } else {
        CAIRN_RETURN_IF_ERROR(
            PutText(records[r][static_cast<size_t>(where[c])], columns[c], r, out));
      }
    }
  }
  return Status::Ok();
}

bool V2TypeFits(const std::string& dt, ColumnType type) {
  if (dt == "BYTES") return type == ColumnType::kString;
  if (dt == "BOOL") return type == ColumnType::kBoolean;
  bool is_int = dt.rfind("INT", 0) == 0 || dt.rfind("UINT", 0) == 0;
  bool is_fp = dt == "FP16" || dt == "FP32" || dt == "FP64";
  switch (type) {
    case ColumnType::kDouble:
    case ColumnType::kFloat:
      return is_int || is_fp;
    case ColumnType::kLong:
    case ColumnType::kInteger:
    case ColumnType::kBoolean:
      return is_int;
    default:
      return false;
  }
}

// V2 `data`: flat (row-major) or nested; appended to `flat`.
void Flatten(const Json& data, std::vector<const Json*>& flat) {
  if (data.is_array()) {
    for (const auto& x : data) Flatten(x, flat);
  } else {
    flat.push_back(&data);
  }
}

// One V2 input once read, over either value representation: `const Json*`
// (the general DOM path) or FastValue (the single-pass reader below).
template <class Value>
struct V2Input {
  std::string name, datatype;
  std::vector<int64_t> shape;
  std::vector<Value> values;
};

Status PutValue(const Json* v, const ColumnSpec& c, size_t row, float& out) {
  return PutJson(*v, c, row, out);
}

// The inputs -> feature rows half of V2, shared by both readers so a request
// either reader accepts gives the same features and the same errors.
template <class Value>
Status MapV2Inputs(const std::vector<V2Input<Value>>& parsed,
                   const std::vector<ColumnSpec>& columns, ScoreBatch& batch) {
  const size_t cols = columns.size();
  // One 2-D tensor: its columns are the signature's, in order.
  if (parsed.size() == 1 && parsed[0].shape.size() == 2 &&
      (cols != 1 || ColumnIndex(columns, parsed[0].name) < 0 || parsed[0].shape[1] == 1)) {
    const auto& in = parsed[0];
    if (static_cast<size_t>(in.shape[1]) != cols) {
      return InvalidParameter("input '" + in.name + "' has " + std::to_string(in.shape[1]) +
                              " columns; the model expects " + std::to_string(cols) + " (" +
                              ColumnList(columns) + ")");
    }
    for (const auto& c : columns) {
      if (!V2TypeFits(in.datatype, c.type)) {
        return InvalidParameter("input '" + in.name + "' has datatype " + in.datatype +
                                ", which does not fit column '" + c.name + "' (" + c.type_name +
                                ")");
      }
    }
    const size_t rows = static_cast<size_t>(in.shape[0]);
    CAIRN_RETURN_IF_ERROR(Allocate(batch, rows, cols));
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < cols; ++c) {
        CAIRN_RETURN_IF_ERROR(
            PutValue(in.values[r * cols + c], columns[c], r, batch.features[r * cols + c]));
      }
    }
    return Status::Ok();
  }
  // Several 1-D inputs (or [N, 1]): one per column, by name.
  size_t rows = 0;
  std::vector<const V2Input<Value>*> by_column(cols, nullptr);
  for (const auto& in : parsed) {
    if (in.shape.size() == 2 && in.shape[1] != 1) {
      return InvalidParameter("input '" + in.name + "' is 2-D with " + std::to_string(in.shape[1]) +
                              " columns; send one 2-D input for all columns or one 1-D input per "
                              "column");
    }
    int c = ColumnIndex(columns, in.name);
    if (c < 0) {
      return InvalidParameter("input '" + in.name +
                              "' is not a model input (inputs: " + ColumnList(columns) + ")");
    }
    if (!V2TypeFits(in.datatype, columns[static_cast<size_t>(c)].type)) {
      return InvalidParameter("input '" + in.name + "' has datatype " + in.datatype + "; column '" +
                              in.name + "' is " + columns[static_cast<size_t>(c)].type_name +
                              " (send " + V2Datatype(columns[static_cast<size_t>(c)].type) + ")");
    }
    if (rows != 0 && static_cast<size_t>(in.shape[0]) != rows) {
      return InvalidParameter("input '" + in.name + "' has " + std::to_string(in.shape[0]) +
                              " rows; other inputs have " + std::to_string(rows));
    }
    rows = static_cast<size_t>(in.shape[0]);
    by_column[static_cast<size_t>(c)] = &in;
  }
  CAIRN_RETURN_IF_ERROR(Allocate(batch, rows, cols));
  for (size_t c = 0; c < cols; ++c) {
    for (size_t r = 0; r < rows; ++r) {
      float& out = batch.features[r * cols + c];
      if (!by_column[c]) {
        if (columns[c].required) {
          return InvalidParameter("input '" + columns[c].name +
                                  "' is missing; the model's signature requires it");
        }
        out = kMissing;
      } else {
        CAIRN_RETURN_IF_ERROR(PutValue(by_column[c]->values[r], columns[c], r, out));
      }
    }
  }
  return Status::Ok();
}

Status FromV2(const Json& body, const std::vector<ColumnSpec>& columns, ScoreBatch& batch,
              std::string& request_id) {
  if (body.contains("id")) {
    if (!body["id"].is_string()) return InvalidParameter("`id` must be a string");
    request_id = body["id"].get<std::string>();
  }
  const Json& inputs = body.value("inputs", Json());
  if (!inputs.is_array() || inputs.empty()) {
    return InvalidParameter("`inputs` must be a non-empty list of {name, shape, datatype, data}");
  }
  std::vector<V2Input<const Json*>> parsed;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Json& in = inputs[i];
    std::string at = "inputs[" + std::to_string(i) + "]";
    if (!in.is_object()) return InvalidParameter(at + " must be an object");
    V2Input<const Json*> p;
    if (!in.contains("name") || !in["name"].is_string())
      return InvalidParameter(at + " needs a name");
    p.name = in["name"].get<std::string>();
    at = "input '" + p.name + "'";
    if (!in.contains("datatype") || !in["datatype"].is_string()) {
      return InvalidParameter(at + " needs a datatype (FP32, INT64, BOOL, BYTES, ...)");
    }
    p.datatype = in["datatype"].get<std::string>();
    const Json& shape = in.value("shape", Json());
    if (!shape.is_array() || shape.empty() || shape.size() > 2) {
      return InvalidParameter(at + " needs a shape of one or two dimensions");
    }
    int64_t count = 1;
    for (const auto& d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > int64_t{kMaxRows}) {
        return InvalidParameter(at + " has an invalid shape " + Shown(shape));
      }
      p.shape.push_back(d.get<int64_t>());
      count *= d.get<int64_t>();
    }
    if (!in.contains("data")) return InvalidParameter(at + " has no data");
    Flatten(in["data"], p.values);
    if (static_cast<int64_t>(p.values.size()) != count) {
      return InvalidParameter(at + " has " + std::to_string(p.values.size()) +
                              " values but its shape " + Shown(shape) + " holds " +
                              std::to_string(count));
    }
    parsed.push_back(std::move(p));
  }
  return MapV2Inputs(parsed, columns, batch);
}

// ---- The single-pass V2 reader -------------------------------------------
// Reads the common V2 shape (an object with optional "id" and "parameters"
// and "inputs" of {name, shape, datatype, data[, parameters]} with numeric,
// boolean or null data) straight into feature rows, without building a DOM.
// It only ever accepts: on anything it does not handle, or any error at all,
// the caller parses the body again on the general path, which gives the exact
// error (or the answer for a shape this reader leaves alone). Where it
// accepts, the result equals the general path's: the same JSON grammar
// (stricter where unsure: no escapes or non-ASCII in strings it keeps, no
// duplicate keys it uses), numbers converted as nlohmann does (integers as
// int64, others correctly rounded doubles), and MapV2Inputs shared.

struct FastValue {
  enum Kind : uint8_t { kInt, kFloat, kBool, kNull } kind = kNull;
  bool flag = false;  // kBool's value
  int64_t i = 0;
  double d = 0;
};

Status PutValue(const FastValue& v, const ColumnSpec& c, size_t row, float& out) {
  switch (v.kind) {
    case FastValue::kNull:
      return Missing(c, row, out, false);
    case FastValue::kBool:
      if (c.type != ColumnType::kBoolean) break;
      out = v.flag ? 1.0f : 0.0f;
      return Status::Ok();
    case FastValue::kInt:
      if (c.type == ColumnType::kDouble || c.type == ColumnType::kFloat) {
        out = static_cast<float>(static_cast<double>(v.i));
        return Status::Ok();
      }
      if (c.type == ColumnType::kLong || c.type == ColumnType::kInteger) {
        out = static_cast<float>(v.i);
        return Status::Ok();
      }
      break;
    case FastValue::kFloat:
      if (c.type == ColumnType::kDouble || c.type == ColumnType::kFloat) {
        out = static_cast<float>(v.d);
        return Status::Ok();
      }
      if ((c.type == ColumnType::kLong || c.type == ColumnType::kInteger) &&
          std::floor(v.d) == v.d && std::isfinite(v.d)) {
        out = static_cast<float>(v.d);
        return Status::Ok();
      }
      break;
  }
  // Not the general path's wording: any refusal here sends the body there.
  return InvalidParameter("refused by the single-pass reader");
}

class FastV2Reader {
 public:
  explicit FastV2Reader(std::string_view body) : p_(body.data()), end_(body.data() + body.size()) {}

  bool Read(std::vector<V2Input<FastValue>>& inputs, std::string& id) {
    bool seen_id = false, seen_inputs = false;
    // An empty object has no inputs: the general path says so.
    bool ok = Members([&](std::string_view key) {
      if (key == "id") {
        std::string_view v;
        if (seen_id || !String(v)) return false;
        seen_id = true;
        id.assign(v);
        return true;
      }
      if (key == "inputs") {
        if (seen_inputs || !Inputs(inputs)) return false;
        seen_inputs = true;
        return true;
      }
      return Skip(0);
    });
    if (!ok) return false;
    Ws();
    return p_ == end_ && seen_inputs;
  }

 private:
  static constexpr int kMaxDepth = 64;

  // A non-empty object: `member(key)` reads each member's value (false refuses
  // the body). Empty objects are refused: neither shape this reader takes has one.
  template <class F>
  bool Members(F&& member) {
    if (!Expect('{')) return false;
    if (Peek() == '}') return false;
    for (;;) {
      std::string_view key;
      if (!String(key) || !Expect(':') || !member(key)) return false;
      char c = Next();
      if (c == '}') return true;
      if (c != ',') return false;
    }
  }

  void Ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  char Peek() {
    Ws();
    return p_ < end_ ? *p_ : '\0';
  }
  char Next() {
    Ws();
    return p_ < end_ ? *p_++ : '\0';
  }
  bool Expect(char c) { return Next() == c; }

  // A string of printable ASCII without escapes (anything else: not handled).
  bool String(std::string_view& out) {
    if (!Expect('"')) return false;
    const char* start = p_;
    while (p_ < end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p_;
    }
    return false;
  }

  // JSON's number grammar exactly; integers without fraction or exponent
  // become int64 (as nlohmann stores them), others a double.
  bool Number(FastValue& v) {
    Ws();
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (integral) {
      if (p_ - start > 18) return false;  // may not fit int64: the general path decides
      auto [q, ec] = std::from_chars(start, p_, v.i);
      if (ec != std::errc() || q != p_) return false;
      v.kind = FastValue::kInt;
      return true;
    }
    auto [q, ec] = std::from_chars(start, p_, v.d);
    if (ec != std::errc() || q != p_ || !std::isfinite(v.d)) return false;
    v.kind = FastValue::kFloat;
    return true;
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // A scalar data value: number, true, false or null (strings: not handled).
  bool Scalar(FastValue& v) {
    switch (Peek()) {
      case 't':
        v.kind = FastValue::kBool;
        v.flag = true;
        return Literal("true");
      case 'f':
        v.kind = FastValue::kBool;
        v.flag = false;
        return Literal("false");
      case 'n':
        v.kind = FastValue::kNull;
        return Literal("null");
      default:
        return Number(v);
    }
  }

  // `data`: a scalar or nested lists of scalars, flattened in order.
  bool Leaves(int depth, std::vector<FastValue>& out) {
    if (Peek() != '[') {
      FastValue v;
      if (!Scalar(v)) return false;
      out.push_back(v);
      return true;
    }
    if (depth >= kMaxDepth) return false;
    ++p_;
    if (Peek() == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!Leaves(depth + 1, out)) return false;
      char c = Next();
      if (c == ']') return true;
      if (c != ',') return false;
    }
  }

  // Any JSON value, checked and skipped (parameters, unknown keys).
  bool Skip(int depth) {
    char c = Peek();
    if (c == '"') {
      std::string_view s;
      return String(s);
    }
    if (c == '{' || c == '[') {
      if (depth >= kMaxDepth) return false;
      ++p_;
      const char close = c == '{' ? '}' : ']';
      if (Peek() == close) {
        ++p_;
        return true;
      }
      for (;;) {
        if (c == '{') {
          std::string_view key;
          if (!String(key) || !Expect(':')) return false;
        }
        if (!Skip(depth + 1)) return false;
        char n = Next();
        if (n == close) return true;
        if (n != ',') return false;
      }
    }
    FastValue v;
    return Scalar(v);
  }

  bool Shape(std::vector<int64_t>& shape) {
    if (!Expect('[')) return false;
    for (;;) {
      FastValue v;
      if (!Number(v) || v.kind != FastValue::kInt || v.i < 0 || v.i > int64_t{kMaxRows}) {
        return false;
      }
      shape.push_back(v.i);
      char c = Next();
      if (c == ']') break;
      if (c != ',') return false;
    }
    return !shape.empty() && shape.size() <= 2;
  }

  bool Input(V2Input<FastValue>& in) {
    bool name = false, datatype = false, shape = false, data = false;
    bool ok = Members([&](std::string_view key) {  // each member at most once
      std::string_view v;
      if (key == "name") {
        if (name || !String(v)) return false;
        in.name.assign(v);
        name = true;
      } else if (key == "datatype") {
        if (datatype || !String(v)) return false;
        in.datatype.assign(v);
        datatype = true;
      } else if (key == "shape") {
        if (shape || !Shape(in.shape)) return false;
        shape = true;
      } else if (key == "data") {
        if (data || !Leaves(0, in.values)) return false;
        data = true;
      } else {
        return Skip(0);
      }
      return true;
    });
    if (!ok || !name || !datatype || !shape || !data) return false;
    int64_t count = 1;
    for (int64_t d : in.shape) count *= d;
    return static_cast<int64_t>(in.values.size()) == count;
  }

  bool Inputs(std::vector<V2Input<FastValue>>& inputs) {
    if (!Expect('[') || Peek() == ']') return false;
    for (;;) {
      inputs.emplace_back();
      if (!Input(inputs.back())) return false;
      char c = Next();
      if (c == ']') return true;
      if (c != ',') return false;
    }
  }

  const char* p_;
  const char* end_;
};

// Responses are written directly (they are on the hot path): floats in their
// shortest round-trip form, non-finite values as null.
void AppendFloat(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

void AppendPredictions(std::string& out, const ScoreResult& result) {
  out += '[';
  for (size_t r = 0; r < result.rows; ++r) {
    if (r) out += ',';
    if (result.cols == 1) {
      AppendFloat(out, result.values[r]);
      continue;
    }
    out += '[';
    for (size_t c = 0; c < result.cols; ++c) {
      if (c) out += ',';
      AppendFloat(out, result.values[r * result.cols + c]);
    }
    out += ']';
  }
  out += ']';
}

// A JSON string literal, as nlohmann's dump writes it (the hot path writes
// names and ids that are plain ASCII directly; anything else goes through it).
void AppendJsonString(std::string& out, const std::string& s) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out += s;
  out += '"';
}

void AppendInteger(std::string& out, size_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

}  // namespace

const char* V2Datatype(ColumnType type) {
  switch (type) {
    case ColumnType::kDouble:
      return "FP64";
    case ColumnType::kFloat:
      return "FP32";
    case ColumnType::kLong:
      return "INT64";
    case ColumnType::kInteger:
      return "INT32";
    case ColumnType::kBoolean:
      return "BOOL";
    default:
      return "BYTES";
  }
}

bool TryParseV2Fast(std::string_view body, const std::vector<ColumnSpec>& columns,
                    ScoreBatch& batch, std::string& request_id) {
  if (columns.empty()) return false;
  std::vector<V2Input<FastValue>> inputs;
  std::string id;
  FastV2Reader reader(body);
  if (!reader.Read(inputs, id)) return false;
  ScoreBatch out;
  if (!MapV2Inputs(inputs, columns, out).ok()) return false;
  batch.features = std::move(out.features);
  batch.rows = out.rows;
  if (!id.empty()) request_id = std::move(id);
  return true;
}

Status ParseScoringRequestGeneral(Protocol protocol, std::string_view content_type,
                                  std::string_view body, const std::vector<ColumnSpec>& columns,
                                  ScoreBatch& batch, std::string& request_id) {
  if (columns.empty()) return InvalidParameter("the model has no input columns to fill");
  if (protocol == Protocol::kMlflow && content_type.find("csv") != std::string_view::npos) {
    return FromCsv(body, columns, batch);
  }
  Json doc = Json::parse(body, nullptr, false);
  if (doc.is_discarded()) {
    return Status(ErrorCode::kBadRequest, "the request body is not valid JSON");
  }
  if (!doc.is_object()) {
    return Status(ErrorCode::kBadRequest, "the request body must be a JSON object");
  }
  switch (protocol) {
    case Protocol::kV2:
      return FromV2(doc, columns, batch, request_id);
    case Protocol::kAzure: {
      auto it = doc.find("data");
      if (it == doc.end()) return InvalidParameter("the body must be {\"data\": [[...], ...]}");
      return FromInstances(*it, "data", columns, batch);
    }
    case Protocol::kMlflow: {
      static const char* kFields[] = {"dataframe_split", "dataframe_records", "instances",
                                      "inputs"};
      const char* found = nullptr;
      for (const char* f : kFields) {
        if (doc.contains(f)) {
          if (found) {
            return InvalidParameter(std::string("the body has both `") + found + "` and `" + f +
                                    "`; send exactly one");
          }
          found = f;
        }
      }
      if (!found) {
        return InvalidParameter(
            "the body must have exactly one of dataframe_split, dataframe_records, instances, "
            "inputs (or send text/csv)");
      }
      const Json& v = doc[found];
      if (std::string_view(found) == "dataframe_split")
        return FromDataframeSplit(v, columns, batch);
      if (std::string_view(found) == "dataframe_records") {
        if (!v.is_array()) return InvalidParameter("`dataframe_records` must be a list of records");
        return FromRecords(v, columns, batch);
      }
      return FromInstances(v, found, columns, batch);
    }
  }
  return InvalidParameter("unknown protocol");
}

Status ParseScoringRequest(Protocol protocol, std::string_view content_type, std::string_view body,
                           const std::vector<ColumnSpec>& columns, ScoreBatch& batch,
                           std::string& request_id) {
  if (protocol == Protocol::kV2 && TryParseV2Fast(body, columns, batch, request_id)) {
    return Status::Ok();
  }
  return ParseScoringRequestGeneral(protocol, content_type, body, columns, batch, request_id);
}

std::string FormatScoringResponse(Protocol protocol, const ScoreResult& result,
                                  const std::string& endpoint, const std::string& deployment,
                                  const std::string& request_id) {
  std::string out;
  out.reserve(128 + result.values.size() * 12);
  switch (protocol) {
    case Protocol::kV2: {
      out += "{\"model_name\":";
      AppendJsonString(out, endpoint);
      out += ",\"model_version\":";
      AppendJsonString(out, deployment);
      if (!request_id.empty()) {
        out += ",\"id\":";
        AppendJsonString(out, request_id);
      }
      out += ",\"outputs\":[{\"name\":\"predict\",\"datatype\":\"FP32\",\"shape\":[";
      AppendInteger(out, result.rows);
      if (result.cols != 1) {
        out += ',';
        AppendInteger(out, result.cols);
      }
      out += "],\"data\":[";
      for (size_t i = 0; i < result.values.size(); ++i) {
        if (i) out += ',';
        AppendFloat(out, result.values[i]);
      }
      out += "]}]}";
      break;
    }
    case Protocol::kMlflow:
      out += "{\"predictions\":";
      AppendPredictions(out, result);
      out += '}';
      break;
    case Protocol::kAzure:
      AppendPredictions(out, result);
      break;
  }
  return out;
}

std::string FormatScoringError(Protocol protocol, ErrorCode code, const std::string& message) {
  Json body;
  if (protocol == Protocol::kV2) {
    body = {{"error", message}};
  } else {
    body = {{"error_code", ErrorCodeName(code)}, {"message", message}};
  }
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace cairn::serving
