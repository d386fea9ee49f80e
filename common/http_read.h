#pragma once
// Reading HTTP answers from peers that may be hostile or broken (a tenant's KMS endpoint, a
// proxy): a body is read in chunks up to a cap, so neither a lying Content-Length nor a missing
// one can make the process buffer more than the cap. Used by the KMS transport and the kube
// client alike.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <cpprest/http_msg.h>

namespace byok {

// The whole body, or nullopt when it is (or says it is) larger than `cap` bytes; the rest is
// then left unread.
std::optional<std::string> read_body_capped(const web::http::http_response& response,
                                            std::size_t cap);

// Delivers the body as it arrives, in the chunks already received (waiting only while nothing
// is), until end of stream or until on_chunk returns false. For streams that never end, such as
// a watch; the caller bounds what it keeps (LineFramer).
void read_body_streaming(const web::http::http_response& response,
                         const std::function<bool(std::string_view)>& on_chunk);

}  // namespace byok
