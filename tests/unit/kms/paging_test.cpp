#include <catch2/catch.hpp>

#include "kms/paging.h"

using byok::kms::PageGuard;

TEST_CASE("a listing stops at the page cap, a repeated marker or the item cap",
          "[kms][paging][limits]") {
  {
    PageGuard g("List", "NextMarker");
    int pages = 1;
    for (;; ++pages) {
      auto more = g.more(10, "m" + std::to_string(pages));
      if (!more) {
        CHECK(more.error().message.find("more than 100 pages (KmsTooManyPages)") !=
              std::string::npos);
        break;
      }
    }
    CHECK(pages == byok::kms::kMaxListPages);
  }
  {
    PageGuard g("List", "NextMarker");
    REQUIRE(*g.more(1, "a"));
    REQUIRE(*g.more(1, "b"));
    auto again = g.more(1, "a");  // a cycle, not only the same marker twice in a row
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message.find("the same NextMarker twice") != std::string::npos);
  }
  {
    PageGuard g("List", "page");
    REQUIRE(*g.more(byok::kms::kMaxListItems, "a"));
    auto over = g.more(1, "b");  // 4 MiB pages of empty objects cannot pile up
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().message.find("items (KmsTooManyPages)") != std::string::npos);
    CHECK_FALSE(*PageGuard("List", "page").more(3, ""));  // the end
  }
}
