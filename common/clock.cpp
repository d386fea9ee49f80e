#include "common/clock.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string_view>

namespace byok {

std::string format_utc(SystemTime t, const char* format) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string format_rfc3339(SystemTime t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// `n` digits at text[i], advancing i; false when they are not all digits.
bool digits(const std::string& text, size_t& i, int n, int& out) {
  out = 0;
  for (int k = 0; k < n; ++k, ++i) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool expect(const std::string& text, size_t& i, std::string_view one_of) {
  if (i >= text.size() || one_of.find(text[i]) == std::string_view::npos) return false;
  ++i;
  return true;
}

}  // namespace

bool parse_rfc3339(const std::string& text, SystemTime& out) {
  size_t i = 0;
  int year, month, day, hour, minute, second;
  if (!digits(text, i, 4, year) || !expect(text, i, "-") || !digits(text, i, 2, month) ||
      !expect(text, i, "-") || !digits(text, i, 2, day) || !expect(text, i, "Tt ") ||
      !digits(text, i, 2, hour) || !expect(text, i, ":") || !digits(text, i, 2, minute) ||
      !expect(text, i, ":") || !digits(text, i, 2, second))
    return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap(year) ? 1 : 0) || hour > 23 || minute > 59 ||
      second > 60)
    return false;
  if (second == 60) second = 59;  // a leap second: the clock cannot hold it
  // The clock holds nanoseconds in 64 bits: about 1678 to 2262. Refuse what it cannot hold.
  if (year < kMinRfc3339Year || year > kMaxRfc3339Year) return false;
  std::int64_t nanos = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n < 9) nanos = nanos * 10 + (text[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return false;
    for (int k = n; k < 9; ++k) nanos *= 10;
  }
  std::int64_t offset = 0;  // seconds east of UTC
  if (i == text.size()) {
    // No zone: taken as UTC (what the KMSs and Kubernetes write always has one).
  } else if (text[i] == 'Z' || text[i] == 'z') {
    ++i;
  } else if (text[i] == '+' || text[i] == '-') {
    const int sign = text[i] == '-' ? -1 : 1;
    ++i;
    int oh, om;
    if (!digits(text, i, 2, oh) || !expect(text, i, ":") || !digits(text, i, 2, om) || oh > 23 ||
        om > 59)
      return false;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return false;
  }
  if (i != text.size()) return false;
  const std::int64_t seconds =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset;
  out = SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
  return true;
}

std::optional<SystemTime> from_unix_seconds(double seconds) {
  // 1678-01-01T00:00:00Z and 2261-12-31T23:59:59Z, the years parse_rfc3339 accepts.
  constexpr double kMin = -9214560000.0, kMax = 9214646399.0;
  if (!(seconds >= kMin && seconds <= kMax)) return std::nullopt;  // NaN fails both
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace byok
