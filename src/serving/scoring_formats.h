// serving/scoring_formats.h: the request and response bodies of the scoring
// protocols, turned into feature rows checked against the model's columns and
// back: the Open Inference Protocol (KServe V2) infer body, MLflow's scoring
// server formats (dataframe_split, dataframe_records, instances, inputs,
// text/csv) and Azure ML's {"data": ...}. Pure functions; thread-safe.
// Every refusal is INVALID_PARAMETER_VALUE (or BAD_REQUEST for a body that is
// not JSON/CSV) with a message naming the column at fault.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/runtime.h"

namespace cairn::serving {

enum class Protocol {
  kV2,      // POST /v2/models/{e}[/versions/{d}]/infer
  kMlflow,  // POST /endpoints/{e}/invocations
  kAzure,   // POST /endpoints/{e}/score
};

// Parses `body` into batch.features/rows for `columns`. For V2, `request_id`
// receives the request's "id" (empty when absent).
Status ParseScoringRequest(Protocol protocol, std::string_view content_type, std::string_view body,
                           const std::vector<ColumnSpec>& columns, ScoreBatch& batch,
                           std::string& request_id);

// The two halves behind ParseScoringRequest, exposed so tests can hold them
// to each other. TryParseV2Fast is a single-pass reader for the common V2
// shape (numeric/boolean/null data, optional id and parameters): true when it
// filled `batch` (and `request_id` when the body has an id) exactly as the
// general path would; false when the body is not that shape or is refused,
// leaving both untouched. ParseScoringRequestGeneral parses through a JSON DOM
// and handles every format and every error.
bool TryParseV2Fast(std::string_view body, const std::vector<ColumnSpec>& columns,
                    ScoreBatch& batch, std::string& request_id);
Status ParseScoringRequestGeneral(Protocol protocol, std::string_view content_type,
                                  std::string_view body, const std::vector<ColumnSpec>& columns,
                                  ScoreBatch& batch, std::string& request_id);

// The response body for a native runtime's result.
std::string FormatScoringResponse(Protocol protocol, const ScoreResult& result,
                                  const std::string& endpoint, const std::string& deployment,
                                  const std::string& request_id);

// The error body: {"error": "..."} for V2, MLflow's {"error_code", "message"}
// otherwise.
std::string FormatScoringError(Protocol protocol, ErrorCode code, const std::string& message);

// The V2 datatype for a column ("FP64", "FP32", "INT64", "INT32", "BOOL", "BYTES").
const char* V2Datatype(ColumnType type);

}  // namespace cairn::serving
