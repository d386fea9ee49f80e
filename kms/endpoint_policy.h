#pragma once
// Which URLs a KMS client may reach. A KmsProvider written by a namespace user (a tenant, who
// may be hostile) is held to the operator's allow-list: without it, a tenant could point the
// operator, and the credentials it sends, at any host it can reach (the apiserver, a cloud
// metadata service, a server of the tenant's own). A ClusterKmsProvider is written by a cluster
// admin and is not restricted.
//
// A pattern is scheme://host[:port]:
//   - scheme: https, or http (only when a pattern says so: the default list is https only);
//   - host: DNS labels where '*' stands for one or more characters inside one label
//     (*.vault.azure.net, *-management.kms.{region}.oraclecloud.com) and "{region}" for one
//     whole label shaped like a cloud region (us-east-1, eu-frankfurt-1: never "s3", so an S3
//     bucket host such as kms.s3.amazonaws.com is not a KMS endpoint), or an IP literal, which
//     only an identical URL host matches;
//   - port: absent for the scheme's default, a number, or '*' for any.
// The word "public" stands for the providers' official public endpoints (public_endpoints()),
// so an admin can add a private endpoint without dropping them: "public,https://10.0.0.5:8200".
// URL hosts are compared lower-cased without a trailing dot; a host with bytes outside ASCII
// (an IDN not in its xn-- form) matches nothing. check() parses the URL with parse_url, the
// parser the transport connects with, so the host checked is the host connected to.

#include <string>
#include <vector>

#include "common/result.h"
#include "kms/http_transport.h"

namespace byok::kms {

class EndpointPolicy {
 public:
  // Everything allowed (admin-owned providers).
  static EndpointPolicy allow_all() { return EndpointPolicy(true, {}); }
  // InvalidArgument naming the bad pattern.
  static Result<EndpointPolicy> parse(const std::vector<std::string>& given);
  // The providers' official public endpoints, https only: the default for tenant providers.
  static const std::vector<std::string>& public_endpoints();

  bool allows_everything() const { return all_; }
  // PermissionDenied naming the URL's origin and where the allow-list is set.
  Status check(const std::string& url) const;
  Status check(const UrlParts& url) const;

 private:
  struct Rule {
    std::string scheme, host, port;  // port "" = the scheme's default, "*" = any
  };
  EndpointPolicy(bool all, std::vector<Rule> rules) : all_(all), rules_(std::move(rules)) {}
  bool all_;
  std::vector<Rule> rules_;
};

}  // namespace byok::kms
