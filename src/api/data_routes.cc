// Data validation routes: JSON in, JSON out; the work is DataStatsService's.
// Registered as exact routes so they sit beside the asset routes' prefix router.
#include "api/data_routes.h"

#include "api/http.h"
#include "api/http_util.h"
#include "assets/data_stats_service.h"
#include "data/compare.h"
#include "data/stats_io.h"

namespace cairn {
namespace {

using api::Args;
using api::Json;

// The data version a request names: "ref" (name:version, name@latest) or name + version.
Result<std::string> VersionRef(Args& a, const char* what = "the data version") {
  std::string ref = a.OptString("ref").value_or("");
  if (ref.empty()) {
    auto name = a.OptString("name");
    auto version = a.OptString("version");
    if (!a.ok()) return a.status();
    if (!name || name->empty()) {
      return InvalidParameter(std::string("give ") + what +
                              " as 'name' (and 'version', default latest) or 'ref'");
    }
    ref = *name + (version && !version->empty() ? ":" + *version : "@latest");
  }
  if (!a.ok()) return a.status();
  return ref;
}

void Route(http::Server& server, const char* method, const std::string& path,
           std::function<Result<Json>(Args&)> handler) {
  server.Route(method, "/api/2.0/cairn/" + path,
               [handler](const http::Request& req, http::Response& res) {
                 Args args = api::ParseArgs(req);
                 if (!args.ok()) return api::WriteError(res, args.status());
                 Result<Json> out = handler(args);
                 if (!out.ok()) return api::WriteError(res, out.status());
                 api::WriteJson(res, *out);
               });
}

// One side of data/compare: {"name", "version"} (version default latest) or {"ref"}.
Result<std::string> SideRef(Args& a, const char* side) {
  const Json* v = a.Raw(side);
  if (!v || !v->is_object()) {
    return InvalidParameter(std::string("data/compare needs '") + side +
                            "': an object {\"name\": ..., \"version\": ...} naming a data "
                            "version");
  }
  Args nested = Args::Of(*v);
  return VersionRef(nested, side);
}

}  // namespace

void RegisterDataRoutes(http::Server& server, DataStatsService& service) {
  auto stats = [&service](Args& a) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::string ref, VersionRef(a));
    CAIRN_ASSIGN_OR_RETURN(StoredDataStats s, service.Stats(ref));
    return Json{{"stats", data::StatsToJson(s.stats)},
                {"name", s.asset.name},
                {"version", s.asset.version},
                {"content_hash", s.asset.content_hash},
                {"computed", s.computed}};
  };
  Route(server, "GET", "data/stats", stats);
  Route(server, "POST", "data/stats", stats);

  // Two stored data versions compared (data/compare.h): cairn.compare/1 JSON, or
  // the self-contained HTML report with "format": "html".
  server.Route("POST", "/api/2.0/cairn/data/compare",
               [&service](const http::Request& req, http::Response& res) {
                 Args a = api::ParseArgs(req);
                 if (!a.ok()) return api::WriteError(res, a.status());
                 auto ref_a = SideRef(a, "a");
                 if (!ref_a.ok()) return api::WriteError(res, ref_a.status());
                 auto ref_b = SideRef(a, "b");
                 if (!ref_b.ok()) return api::WriteError(res, ref_b.status());
                 std::string format = a.OptString("format").value_or("json");
                 if (!a.ok()) return api::WriteError(res, a.status());
                 if (format != "json" && format != "html") {
                   return api::WriteError(
                       res,
                       InvalidParameter("format must be 'json' or 'html', not '" + format + "'"));
                 }
                 auto report = service.Compare(*ref_a, *ref_b);
                 if (!report.ok()) return api::WriteError(res, report.status());
                 if (format == "html") {
                   return res.set_content(data::CompareHtml(*report), "text/html; charset=utf-8");
                 }
                 api::WriteJson(res, data::CompareToJson(*report));
               });

  Route(server, "POST", "data/schema/infer", [&service](Args& a) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::string ref, VersionRef(a));
    CAIRN_ASSIGN_OR_RETURN(data::Schema schema, service.InferSchema(ref));
    return Json{{"schema", data::SchemaToJson(schema)}};
  });

  Route(server, "POST", "data/validate", [&service](Args& a) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::string ref, VersionRef(a));
    const Json* schema_json = a.Raw("schema");
    if (!schema_json || !schema_json->is_object()) {
      return InvalidParameter(
          "data/validate needs 'schema', the schema as a JSON object (format cairn.schema/1)");
    }
    CAIRN_ASSIGN_OR_RETURN(data::Schema schema, data::ParseSchema(schema_json->dump(), "schema"));
    data::ValidateOptions options;
    std::string role = a.OptString("role").value_or("drift");
    if (!a.ok()) return a.status();
    if (role == "skew") {
      options.role = data::ReferenceRole::kSkew;
    } else if (role != "drift") {
      return InvalidParameter("role must be 'drift' or 'skew', not '" + role + "'");
    }
    std::optional<data::DatasetStats> reference;
    const Json* ref_json = a.Raw("reference");
    const Json* ref_stats = a.Raw("reference_stats");
    if (ref_json && ref_stats) {
      return InvalidParameter("give either 'reference' or 'reference_stats', not both");
    }
    if (ref_json) {
      if (!ref_json->is_object()) {
        return InvalidParameter("'reference' must be an object {name, version} or {ref}");
      }
      Args ra = Args::Of(*ref_json);
      CAIRN_ASSIGN_OR_RETURN(std::string reference_ref, VersionRef(ra, "the reference"));
      CAIRN_ASSIGN_OR_RETURN(StoredDataStats rs, service.Stats(reference_ref));
      reference = std::move(rs.stats);
    } else if (ref_stats) {
      auto parsed = data::StatsFromJson(*ref_stats);
      if (!parsed.ok()) {
        return InvalidParameter("reference_stats: " + parsed.status().message());
      }
      reference = std::move(*parsed);
    }
    CAIRN_ASSIGN_OR_RETURN(
        data::ValidationReport report,
        service.Validate(ref, schema, reference ? &*reference : nullptr, options));
    return data::ValidationToJson(report);
  });
}

}  // namespace cairn
