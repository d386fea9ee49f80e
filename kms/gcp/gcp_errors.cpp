#include "kms/gcp/gcp_errors.h"

#include <map>

#include <nlohmann/json.hpp>

#include "common/json_fields.h"
#include "kms/http_transport.h"

namespace byok::kms::gcp {
namespace {

using Json = nlohmann::json;

}  // namespace

ErrorKind google_error_kind(const std::string& status, int http_status) {
  static const std::map<std::string, ErrorKind> table = {
      {"NOT_FOUND", ErrorKind::NotFound},
      {"PERMISSION_DENIED", ErrorKind::PermissionDenied},
      {"UNAUTHENTICATED", ErrorKind::Unauthenticated},
      {"INVALID_ARGUMENT", ErrorKind::InvalidArgument},
      {"OUT_OF_RANGE", ErrorKind::InvalidArgument},
      {"FAILED_PRECONDITION", ErrorKind::FailedPrecondition},
      {"ALREADY_EXISTS", ErrorKind::Conflict},
      {"ABORTED", ErrorKind::Conflict},
      {"RESOURCE_EXHAUSTED", ErrorKind::Throttled},
      {"UNIMPLEMENTED", ErrorKind::Unsupported},
      {"UNAVAILABLE", ErrorKind::Unavailable},
      {"INTERNAL", ErrorKind::Unavailable},
      {"UNKNOWN", ErrorKind::Unavailable},
      {"DEADLINE_EXCEEDED", ErrorKind::Unavailable},
      {"CANCELLED", ErrorKind::Unavailable},
      {"DATA_LOSS", ErrorKind::Internal},
  };
  if (auto it = table.find(status); it != table.end()) return it->second;
  return error_kind_for_http_status(http_status);
}

ErrorKind oauth_error_kind(const std::string& code, int http_status) {
  static const std::map<std::string, ErrorKind> table = {
      {"invalid_grant", ErrorKind::Unauthenticated},
      {"invalid_client", ErrorKind::Unauthenticated},
      {"unauthorized_client", ErrorKind::Unauthenticated},
      {"access_denied", ErrorKind::PermissionDenied},
      {"invalid_request", ErrorKind::InvalidArgument},
      {"invalid_scope", ErrorKind::InvalidArgument},
      {"unsupported_grant_type", ErrorKind::InvalidArgument},
      {"temporarily_unavailable", ErrorKind::Unavailable},
      {"server_error", ErrorKind::Unavailable},
  };
  if (auto it = table.find(code); it != table.end()) return it->second;
  return error_kind_for_http_status(http_status);
}

GoogleError parse_google_error(const std::string& body) {
  GoogleError e;
  try {
    auto j = Json::parse(body);
    if (j.is_object() && j.contains("error")) {
      const auto& err = j["error"];
      if (err.is_object()) {
        e.status = str(err, "status");
        e.message = str(err, "message");
      } else if (err.is_string()) {
        e.status = err.get<std::string>();
        e.message = str(j, "error_description");
      }
      return e;
    }
  } catch (const Json::exception&) {
  }
  e.message = body_snippet(body);
  return e;
}

namespace {

ErrorReading reading(const GoogleError& e, ErrorKind kind) {
  return ErrorReading{kind, (e.status.empty() ? "" : e.status + ": ") +
                                (e.message.empty() ? "no message" : e.message)};
}

}  // namespace

ErrorReading read_google_error(const HttpResponse& response) {
  auto e = parse_google_error(response.body);
  return reading(e, google_error_kind(e.status, response.status));
}

ErrorReading read_oauth_error(const HttpResponse& response) {
  auto e = parse_google_error(response.body);
  return reading(e, oauth_error_kind(e.status, response.status));
}

}  // namespace byok::kms::gcp
