#pragma once
// How far a KMS listing may go. A KMS that pages forever, repeats a marker or lists more items
// than any real account holds (a hostile or broken endpoint) ends the listing with an error that
// names the limit (KmsTooManyPages), instead of holding a worker and growing in memory. Every
// client's paged call asks this guard after each page.

#include <cstddef>
#include <set>
#include <string>

#include "common/result.h"

namespace byok::kms {

inline constexpr int kMaxListPages = 100;
inline constexpr std::size_t kMaxListItems = 10000;

class PageGuard {
 public:
  // `what` names the call in errors; `marker` is the provider's word for its page token.
  PageGuard(std::string what, std::string marker)
      : what_(std::move(what)), marker_(std::move(marker)) {}

  // After a page of `items` whose next marker is `next` ("" at the end): an error when the
  // listing must stop, else whether there is a next page to ask for.
  Result<bool> more(std::size_t items, const std::string& next) {
    items_ += items;
    if (items_ > kMaxListItems)
      return make_error(
          ErrorKind::Internal,
          what_ + ": more than " + std::to_string(kMaxListItems) + " items (KmsTooManyPages)");
    if (next.empty()) return false;
    if (++pages_ >= kMaxListPages)
      return make_error(
          ErrorKind::Internal,
          what_ + ": more than " + std::to_string(kMaxListPages) + " pages (KmsTooManyPages)");
    if (!seen_.insert(next).second)
      return make_error(ErrorKind::Internal,
                        what_ + ": the same " + marker_ + " twice (KmsTooManyPages)");
    return true;
  }

 private:
  std::string what_, marker_;
  int pages_ = 0;
  std::size_t items_ = 0;
  std::set<std::string> seen_;
};

}  // namespace byok::kms
