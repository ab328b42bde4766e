#include "core/status.h"

namespace cairn {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "OK";
    case ErrorCode::kInvalidParameterValue:
      return "INVALID_PARAMETER_VALUE";
    case ErrorCode::kBadRequest:
      return "BAD_REQUEST";
    case ErrorCode::kResourceDoesNotExist:
      return "RESOURCE_DOES_NOT_EXIST";
    case ErrorCode::kResourceAlreadyExists:
      return "RESOURCE_ALREADY_EXISTS";
    case ErrorCode::kInvalidState:
      return "INVALID_STATE";
    case ErrorCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case ErrorCode::kEndpointNotFound:
      return "ENDPOINT_NOT_FOUND";
    case ErrorCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case ErrorCode::kFeatureDisabled:
      return "FEATURE_DISABLED";
    case ErrorCode::kTemporarilyUnavailable:
      return "TEMPORARILY_UNAVAILABLE";
    case ErrorCode::kInternalError:
      return "INTERNAL_ERROR";
    case ErrorCode::kIoError:
      return "IO_ERROR";
  }
  return "INTERNAL_ERROR";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace cairn
