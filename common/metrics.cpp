#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace byok::metrics {
namespace {

bool valid_name(const std::string& n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::Counter:
      return "counter";
    case Type::Gauge:
      return "gauge";
    case Type::Histogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline.
std::string escape_help(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::vector<double> default_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

// --- Histogram ------------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()))
    throw std::logic_error("histogram buckets must be sorted");
}

void Histogram::observe(double v) {
  size_t i =
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();  // le: v <= bound
  std::lock_guard<std::mutex> lock(mu_);
  counts_[i]++;
  sum_ += v;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_;
  return s;
}

// --- Families -------------------------------------------------------------------------------

FamilyBase::FamilyBase(std::string name, std::string help, Type type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {
  if (!valid_name(name_, true)) throw std::logic_error("invalid metric name " + name_);
  for (const auto& l : label_names_)
    if (!valid_name(l, false) || l.rfind("__", 0) == 0 || (type_ == Type::Histogram && l == "le"))
      throw std::logic_error("invalid label name " + l + " on " + name_);
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP " + name_ + " " + escape_help(help_) + "\n";
  out += "# TYPE " + name_ + " " + type_name(type_) + "\n";
  render_samples(out);
}

std::string FamilyBase::label_set(const std::vector<std::string>& values,
                                  const std::string& extra) const {
  if (values.empty() && extra.empty()) return "";
  std::string s = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ",";
    s += label_names_[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra.empty()) s += (values.empty() ? "" : ",") + extra;
  return s + "}";
}

template <typename M>
M& Family<M>::with(const std::vector<std::string>& values) {
  if (values.size() != label_names().size())
    throw std::logic_error(name() + " takes " + std::to_string(label_names().size()) + " labels");
  std::lock_guard<std::mutex> lock(mu_);
  auto& child = children_[values];
  if (!child) child = make_();
  return *child;
}

template <>
void Family<Counter>::render_samples(std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, c] : children_)
    out += name() + label_set(values) + " " + format_value(c->value()) + "\n";
}

template <>
void Family<Gauge>::render_samples(std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, g] : children_)
    out += name() + label_set(values) + " " + format_value(g->value()) + "\n";
}

template <>
void Family<Histogram>::render_samples(std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, h] : children_) {
    auto s = h->snapshot();
    for (size_t i = 0; i < s.upper_bounds.size(); ++i)
      out += name() + "_bucket" +
             label_set(values, "le=\"" + format_value(s.upper_bounds[i]) + "\"") + " " +
             std::to_string(s.cumulative[i]) + "\n";
    out += name() + "_bucket" + label_set(values, "le=\"+Inf\"") + " " + std::to_string(s.count) +
           "\n";
    out += name() + "_sum" + label_set(values) + " " + format_value(s.sum) + "\n";
    out += name() + "_count" + label_set(values) + " " + std::to_string(s.count) + "\n";
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Registry -------------------------------------------------------------------------------

template <typename M>
Family<M>& Registry::get_or_add(const std::string& name, const std::string& help, Type type,
                                std::vector<std::string> label_names,
                                std::function<std::unique_ptr<M>()> make) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second->type() != type || it->second->label_names() != label_names)
      throw std::logic_error("metric " + name + " registered twice with different shapes");
    return static_cast<Family<M>&>(*it->second);
  }
  auto family =
      std::make_unique<Family<M>>(name, help, type, std::move(label_names), std::move(make));
  auto& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return get_or_add<Counter>(name, help, Type::Counter, std::move(label_names),
                             [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  return get_or_add<Gauge>(name, help, Type::Gauge, std::move(label_names),
                           [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       std::vector<double> buckets) {
  return get_or_add<Histogram>(
      name, help, Type::Histogram, std::move(label_names),
      [buckets = std::move(buckets)] { return std::make_unique<Histogram>(buckets); });
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, family] : families_) family->render(out);
  return out;
}

Registry& given_or_own(Registry* given, std::unique_ptr<Registry>& own) {
  if (given) return *given;
  own = std::make_unique<Registry>();
  return *own;
}

}  // namespace byok::metrics
