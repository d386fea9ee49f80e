#include "kms/oci/oci_signer.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/base64.h"
#include "common/text.h"

namespace byok::kms::oci {
namespace {

bool has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// Replaces every `name` header (any case) by one with `value`.
void set_header(HttpHeaders& headers, const std::string& name, std::string value) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const auto& h) { return ascii_lower(h.first) == name; }),
                headers.end());
  headers.emplace_back(name, std::move(value));
}

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail from OpenSSL";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Never prompts: an encrypted key without a passphrase fails to decrypt.
int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* pass = static_cast<const std::string*>(user);
  if (pass->empty() || static_cast<int>(pass->size()) > size) return 0;
  // OpenSSL's pem_password_cb takes the length returned, not a terminated string.
  std::memcpy(buf, pass->data(), pass->size());  // NOLINT(bugprone-not-null-terminated-result)
  return static_cast<int>(pass->size());
}

}  // namespace

std::string signed_header_names(std::string_view method) {
  std::string names = "date (request-target) host";
  if (has_body(method)) names += " content-length content-type x-content-sha256";
  return names;
}

std::string http_date(SystemTime t) {
  // Fixed English names: strftime's %a and %b follow the process locale.
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string content_sha256(std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

Result<std::string> signing_string(std::string_view method, std::string_view target,
                                   const HttpHeaders& headers, std::string_view signed_headers) {
  std::string out;
  size_t at = 0;
  while (at < signed_headers.size()) {
    size_t end = signed_headers.find(' ', at);
    if (end == std::string_view::npos) end = signed_headers.size();
    std::string name = ascii_lower(signed_headers.substr(at, end - at));
    at = end + 1;
    if (name.empty()) continue;
    if (!out.empty()) out += '\n';
    if (name == "(request-target)") {
      out += name + ": " + ascii_lower(method) + " " + std::string(target);
      continue;
    }
    bool found = std::any_of(headers.begin(), headers.end(),
                             [&](const auto& h) { return ascii_lower(h.first) == name; });
    if (!found)
      return make_error(ErrorKind::InvalidArgument,
                        "OCI request signature: header " + name + " is to be signed but absent");
    out += name + ": " + find_header(headers, name);
  }
  return out;
}

Result<RequestSigner> RequestSigner::create(std::string key_id, std::string_view private_key_pem,
                                            std::string_view passphrase) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())), BIO_free);
  if (!bio) return make_error(ErrorKind::Internal, "OCI API key: BIO_new_mem_buf failed");
  std::string pass(passphrase);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback, &pass);
  if (!raw)
    return make_error(ErrorKind::InvalidArgument,
                      std::string("OCI API key: the private key PEM cannot be read") +
                          (passphrase.empty() ? " (is it encrypted? no passphrase was given)"
                                              : " with the given passphrase") +
                          ": " + openssl_reason());
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA)
    return make_error(ErrorKind::InvalidArgument,
                      "OCI API key: the private key is not an RSA key (OCI signs with RSA-SHA256)");
  return RequestSigner(std::move(key_id), std::move(key));
}

Result<std::string> RequestSigner::sign_string(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1)
    return make_error(ErrorKind::Internal, "OCI request signature: " + openssl_reason());
  std::vector<unsigned char> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return make_error(ErrorKind::Internal, "OCI request signature: " + openssl_reason());
  return base64_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), len));
}

Status RequestSigner::sign(HttpRequest& request, SystemTime now) const {
  set_header(request.headers, "date", http_date(now));
  return authorize(request);
}

Status RequestSigner::authorize(HttpRequest& request) const {
  auto url = parse_url(request.url);
  if (!url) return url.error().context("OCI request signature");
  set_header(request.headers, "host", url->authority());
  if (has_body(request.method)) {
    set_header(request.headers, "content-length", std::to_string(request.body.size()));
    std::string type = find_header(request.headers, "content-type");
    set_header(request.headers, "content-type", type.empty() ? "application/json" : type);
    set_header(request.headers, "x-content-sha256", content_sha256(request.body));
  }
  std::string names = signed_header_names(request.method);
  std::string target = url->path + (url->query.empty() ? "" : "?" + url->query);
  auto text = signing_string(request.method, target, request.headers, names);
  if (!text) return text.error();
  auto signature = sign_string(*text);
  if (!signature) return signature.error();
  set_header(request.headers, "authorization",
             "Signature version=\"1\",headers=\"" + names + "\",keyId=\"" + key_id_ +
                 "\",algorithm=\"rsa-sha256\",signature=\"" + *signature + "\"");
  return {};
}

}  // namespace byok::kms::oci
