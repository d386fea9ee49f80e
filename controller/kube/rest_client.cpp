#include "controller/kube/rest_client.h"

#include <boost/asio/ssl.hpp>
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <pplx/threadpool.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/file_read.h"
#include "common/json_fields.h"
#include "common/http_read.h"
#include "common/line_framer.h"
#include "common/retry_after.h"

namespace byok::kube {
namespace http = web::http;
namespace client = web::http::client;

namespace {

std::string url_encode(const std::string& s) { return web::uri::encode_data_string(s); }

std::string content_type_of(PatchType t) {
  switch (t) {
    case PatchType::Merge:
      return "application/merge-patch+json";
    case PatchType::Json:
      return "application/json-patch+json";
    case PatchType::Apply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

// The cluster's CA certificates as one store, shared by every connection; null when the PEM
// holds none.
std::shared_ptr<X509_STORE> make_ca_store(const std::string& pem) {
  if (pem.empty()) return nullptr;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                BIO_free);
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  if (!bio || !store) return nullptr;
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store.get(), cert) == 1) ++added;
    X509_free(cert);
  }
  ERR_clear_error();  // the read past the last certificate queues an error; leave none behind
  return added > 0 ? store : nullptr;
}

// Builds a client whose TLS trusts the configured CA and presents the client certificate.
// cpprestsdk fills each connection's context with the system's roots before this callback runs;
// the callback swaps them for the cluster's CA alone, as client-go does when a kubeconfig names
// one. Otherwise any public CA could vouch for the apiserver's name, and every connection would
// keep its own parsed copy of the system bundle (about 0.6 MiB each).
client::http_client_config make_config(const ClusterConfig& cfg,
                                       const std::shared_ptr<X509_STORE>& ca_store,
                                       std::chrono::seconds timeout) {
  client::http_client_config conf;
  conf.set_timeout(timeout);
  conf.set_validate_certificates(true);
  std::string ca = cfg.ca_pem, cert = cfg.client_cert_pem, key = cfg.client_key_pem;
  conf.set_ssl_context_callback([ca, ca_store, cert, key](boost::asio::ssl::context& ctx) {
    if (ca_store)
      SSL_CTX_set1_cert_store(ctx.native_handle(), ca_store.get());
    else if (!ca.empty())  // no certificate in it: this throws with OpenSSL's reason
      ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
    if (!cert.empty() && !key.empty()) {
      ctx.use_certificate_chain(boost::asio::buffer(cert.data(), cert.size()));
      ctx.use_private_key(boost::asio::buffer(key.data(), key.size()),
                          boost::asio::ssl::context::pem);
    }
  });
  return conf;
}

std::string header_value(const http::http_response& resp, const std::string& name) {
  auto it = resp.headers().find(name);
  return it == resp.headers().end() ? std::string() : it->second;
}

struct RawResponse {
  int status = 0;
  std::string body;
};

}  // namespace

Error error_from_http(int status, const std::string& body, const std::string& what,
                      const std::string& retry_after_header) {
  std::string message;
  std::optional<std::chrono::seconds> retry_after = parse_retry_after(retry_after_header);
  try {
    auto j = Json::parse(body);
    message = j.value("message", "");
    // A watch's ERROR event has no headers: the Status carries the same wait (the apiserver
    // writes both on a 429, as its max-in-flight and priority-and-fairness filters do).
    if (!retry_after) {
      auto details = j.find("details");
      if (details != j.end() && details->is_object()) {
        auto seconds = details->find("retryAfterSeconds");
        if (seconds != details->end() && seconds->is_number_integer() && *seconds >= 0)
          retry_after = parse_retry_after(std::to_string(seconds->get<long long>()));
      }
    }
  } catch (...) {
  }
  // Only a throttling or unavailable answer asks the caller to stay away.
  if (status != 429 && status < 500) retry_after.reset();
  if (message.empty()) message = body;
  if (message.size() > 300) message.resize(300);  // a hostile Status cannot flood logs
  message = what + ": HTTP " + std::to_string(status) + ": " + message;
  ErrorKind kind = ErrorKind::Internal;
  switch (status) {
    case 400:
    case 422:
      kind = ErrorKind::InvalidArgument;
      break;
    case 401:
      kind = ErrorKind::Unauthenticated;
      break;
    case 403:
      kind = ErrorKind::PermissionDenied;
      break;
    case 404:
      kind = ErrorKind::NotFound;
      break;
    case 409:
      kind = ErrorKind::Conflict;
      break;
    case 410:
      kind = ErrorKind::Gone;
      break;
    case 429:
      kind = ErrorKind::Throttled;
      break;
    default:
      kind = status >= 500 ? ErrorKind::Unavailable : ErrorKind::Internal;
  }
  return Error{kind, message, retry_after};
}

RestKubeClient::RestKubeClient(ClusterConfig config, std::chrono::seconds request_timeout)
    : config_(std::move(config)),
      ca_store_(make_ca_store(config_.ca_pem)),
      request_timeout_(request_timeout) {
  client_ = std::make_unique<client::http_client>(
      config_.server, make_config(config_, ca_store_, request_timeout_));
}

RestKubeClient::~RestKubeClient() = default;

std::string RestKubeClient::authorization() const {
  if (!config_.token_file.empty()) {
    // A projected token is a few KiB; the file is re-read on every request, as it rotates.
    auto read = read_file_capped(config_.token_file, 64 * 1024);
    std::string token = read ? std::move(*read) : std::string();
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
      token.pop_back();
    if (!token.empty()) return "Bearer " + token;
  }
  if (!config_.bearer_token.empty()) return "Bearer " + config_.bearer_token;
  return "";
}

Result<Json> RestKubeClient::request(const std::string& method, const std::string& path_and_query,
                                     const Json& body, const std::string& content_type) {
  std::string what = method + " " + path_and_query.substr(0, path_and_query.find('?'));
  try {
    http::http_request req(method);
    req.set_request_uri(path_and_query);
    req.headers().add("Accept", "application/json");
    if (auto auth = authorization(); !auth.empty()) req.headers().add("Authorization", auth);
    if (!body.is_null()) req.set_body(body.dump(), content_type);
    pplx::cancellation_token_source cancel;
    auto resp = client_->request(req, cancel.get_token()).get();
    int status = resp.status_code();
    auto read = read_body_capped(resp, kMaxApiserverBodyBytes);
    if (!read) {
      cancel.cancel();  // close the connection: cpprestsdk would buffer the rest otherwise
      return make_error(ErrorKind::Internal, what + ": the answer is larger than " +
                                                 std::to_string(kMaxApiserverBodyBytes) +
                                                 " bytes (" + kResponseTooLargeCode +
                                                 "); not read");
    }
    const std::string& text = *read;
    if (status < 200 || status >= 300)
      return error_from_http(status, text, what, header_value(resp, "Retry-After"));
    if (text.empty()) return Json::object();
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal, what + ": unparseable answer: " + e.what());
  } catch (const std::exception& e) {
    return make_error(ErrorKind::Unavailable, what + ": " + e.what());
  }
}

Result<Json> RestKubeClient::get(const ResourceType& type, const std::string& ns,
                                 const std::string& name) {
  return request("GET", type.path(ns, name), nullptr);
}

Result<Json> RestKubeClient::list(const ResourceType& type, const std::string& ns,
                                  const ListOptions& o) {
  std::string q = "?limit=" + std::to_string(o.limit);
  if (!o.continue_token.empty()) q += "&continue=" + url_encode(o.continue_token);
  if (!o.label_selector.empty()) q += "&labelSelector=" + url_encode(o.label_selector);
  if (!o.field_selector.empty()) q += "&fieldSelector=" + url_encode(o.field_selector);
  if (!o.resource_version.empty()) q += "&resourceVersion=" + url_encode(o.resource_version);
  return request("GET", type.path(ns) + q, nullptr);
}

Result<Json> RestKubeClient::create(const ResourceType& type, const std::string& ns,
                                    const Json& object, const std::string& subresource,
                                    const std::string& name) {
  return request("POST", type.path(ns, name, subresource), object);
}

Result<Json> RestKubeClient::patch(const ResourceType& type, const std::string& ns,
                                   const std::string& name, PatchType patch_type, const Json& body,
                                   const PatchOptions& o) {
  std::string q;
  auto add = [&q](const std::string& kv) { q += (q.empty() ? "?" : "&") + kv; };
  if (!o.field_manager.empty()) add("fieldManager=" + url_encode(o.field_manager));
  if (patch_type == PatchType::Apply && o.force) add("force=true");
  return request("PATCH", type.path(ns, name, o.subresource) + q, body,
                 content_type_of(patch_type));
}

Status RestKubeClient::remove(const ResourceType& type, const std::string& ns,
                              const std::string& name, const std::string& preconditions_uid) {
  Json body = nullptr;
  if (!preconditions_uid.empty())
    body = Json{{"apiVersion", "v1"},
                {"kind", "DeleteOptions"},
                {"preconditions", {{"uid", preconditions_uid}}}};
  auto r = request("DELETE", type.path(ns, name), body);
  if (!r) return r.error();
  return {};
}

Status RestKubeClient::watch(const ResourceType& type, const std::string& ns, const WatchOptions& o,
                             const std::function<bool(const WatchEvent&)>& on_event,
                             StopSignal& stop) {
  std::string q = "?watch=true&timeoutSeconds=" + std::to_string(o.timeout.count());
  if (o.allow_bookmarks) q += "&allowWatchBookmarks=true";
  if (!o.resource_version.empty()) q += "&resourceVersion=" + url_encode(o.resource_version);
  if (!o.label_selector.empty()) q += "&labelSelector=" + url_encode(o.label_selector);
  std::string what = "WATCH " + type.path(ns);
  try {
    // A client of its own: the stream outlives the usual request timeout. cpprestsdk's timeout
    // bounds the wait for each read, so a dead connection is noticed within a minute after the
    // server's own timeout.
    client::http_client watch_client(
        config_.server, make_config(config_, ca_store_, o.timeout + std::chrono::seconds(60)));
    http::http_request req(http::methods::GET);
    req.set_request_uri(type.path(ns) + q);
    req.headers().add("Accept", "application/json");
    if (auto auth = authorization(); !auth.empty()) req.headers().add("Authorization", auth);
    pplx::cancellation_token_source cancel;
    auto on_stop = stop.on_stop([&cancel] { cancel.cancel(); });
    auto resp = watch_client.request(req, cancel.get_token()).get();
    if (resp.status_code() != 200) {
      auto text = read_body_capped(resp, kMaxApiserverBodyBytes);
      cancel.cancel();
      return error_from_http(resp.status_code(), text.value_or(""), what,
                             header_value(resp, "Retry-After"));
    }
    // Events are framed by newlines; each is parsed as soon as its line is complete, and no
    // line may be longer than the largest object the apiserver stores.
    LineFramer framer(kMaxWatchEventBytes);
    std::optional<Status> ended;
    read_body_streaming(resp, [&](std::string_view chunk) {
      auto fed = framer.feed(chunk, [&](std::string& text) {
        auto ev = decode_watch_event(text, what);
        if (!ev) {
          ended = ev.error();
          return false;
        }
        if (!on_event(*ev)) ended = Status{};
        return !ended.has_value();
      });
      if (!fed) ended = fed.error().context(what);
      return !ended.has_value() && !stop.stop_requested();
    });
    if (ended) {
      cancel.cancel();  // a line over the cap: close rather than let the rest be buffered
      return *ended;
    }
    return {};
  } catch (const pplx::task_canceled&) {
    return {};  // the stop signal closed the stream
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal, what + ": unparseable event: " + e.what());
  } catch (const std::exception& e) {
    if (stop.stop_requested()) return {};
    return make_error(ErrorKind::Unavailable, what + ": " + e.what());
  }
}

void limit_http_client_threads(std::size_t threads) {
  crossplat::threadpool::initialize_with_threads(threads);
}

Result<WatchEvent> decode_watch_event(const std::string& line, const std::string& what) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorKind::Internal, what + ": unparseable watch event (not a JSON object)");
  auto type = j.find("type");
  auto object = j.find("object");
  if (type == j.end() || !type->is_string() || object == j.end() || !object->is_object())
    return make_error(ErrorKind::Internal, what +
                                               ": unparseable watch event (needs a string "
                                               "\"type\" and an \"object\")");
  if (*type == "ERROR") {  // a Status: 410 Gone when the resourceVersion is too old
    auto code = integer(*object, "code").value_or(500);
    return error_from_http(code >= 100 && code <= 599 ? static_cast<int>(code) : 500,
                           object->dump(), what);
  }
  return WatchEvent{type->get<std::string>(), std::move(*object)};
}

Result<ListAll> list_all(KubeClient& client, const ResourceType& type, const std::string& ns,
                         ListOptions options) {
  ListAll all;
  for (;;) {
    auto page = client.list(type, ns, options);
    if (!page && options.limit > 1 &&
        page.error().message.find(kResponseTooLargeCode) != std::string::npos) {
      options.limit /= 2;  // large objects: the same page again, in smaller pieces
      continue;
    }
    if (!page) return page.error();
    for (auto& item : (*page)["items"]) all.items.push_back(std::move(item));
    const auto& meta = (*page)["metadata"];
    all.resource_version = meta.value("resourceVersion", "");
    options.continue_token = meta.value("continue", "");
    options.resource_version.clear();  // the continue token pins the snapshot
    if (options.continue_token.empty()) break;
  }
  return all;
}

}  // namespace byok::kube
