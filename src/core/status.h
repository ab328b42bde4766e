// Status and Result<T>: expected failures as values, each with an error code
// that names what went wrong in MLflow's vocabulary (the API maps codes to
// HTTP statuses in one table). Plain values: safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cairn {

enum class ErrorCode {
  kOk = 0,
  kInvalidParameterValue,  // the caller sent a value we cannot accept
  kBadRequest,             // the request itself is malformed (JSON, types)
  kResourceDoesNotExist,
  kResourceAlreadyExists,
  kInvalidState,  // the entity is in a state that forbids the operation
  kPermissionDenied,
  kEndpointNotFound,
  kResourceExhausted,  // limits and full queues
  kFeatureDisabled,
  kTemporarilyUnavailable,
  kInternalError,
  kIoError,
};

// The MLflow error_code string, e.g. "INVALID_PARAMETER_VALUE".
const char* ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidParameter(std::string msg) {
  return Status(ErrorCode::kInvalidParameterValue, std::move(msg));
}
inline Status NotFound(std::string msg) {
  return Status(ErrorCode::kResourceDoesNotExist, std::move(msg));
}
inline Status AlreadyExists(std::string msg) {
  return Status(ErrorCode::kResourceAlreadyExists, std::move(msg));
}
inline Status InternalError(std::string msg) {
  return Status(ErrorCode::kInternalError, std::move(msg));
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cairn

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define CAIRN_RETURN_IF_ERROR(expr) \
  do {                              \
    ::cairn::Status _st = (expr);   \
    if (!_st.ok()) return _st;      \
  } while (0)

#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, returning its Status on failure.
#define CAIRN_ASSIGN_OR_RETURN(lhs, expr)                                                 \
  auto CAIRN_CONCAT(_res_, __LINE__) = (expr);                                            \
  if (!CAIRN_CONCAT(_res_, __LINE__).ok()) return CAIRN_CONCAT(_res_, __LINE__).status(); \
  lhs = std::move(CAIRN_CONCAT(_res_, __LINE__)).value()
