#pragma once
// Counters, gauges and histograms with labels, rendered in Prometheus' text exposition format
// 0.0.4 (HELP and TYPE lines, escaped label values, histograms as cumulative _bucket{le} series
// with +Inf, _sum and _count).
//
// Guarantees: every call is thread-safe; a child returned by Family::with() stays valid as long
// as its Registry does, so hot paths look it up once and keep the reference. A family is
// rendered (HELP and TYPE) as soon as it is registered, even before it has samples, so a
// scraper sees every family the process knows. Registering a name again with the same type
// and label names returns the existing family; anything else is a programming error
// (std::logic_error).
//
// No process-wide registry (no globals: DESIGN.md): the operator's main() owns the Registry that
// /metrics serves and hands it to everything that records; a component given none records into
// one of its own that nobody scrapes (given_or_own), which keeps unit tests isolated.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace byok::metrics {

class Counter {
 public:
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted ascending, without +Inf
  void observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then the +Inf bucket (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is (largest bound, +Inf)
  double sum_ = 0;
};

// Prometheus' client default buckets: 5 ms .. 10 s.
std::vector<double> default_buckets();
// `count` buckets from `start`, each `factor` times the previous.
std::vector<double> exponential_buckets(double start, double factor, int count);

enum class Type { Counter, Gauge, Histogram };

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Appends the HELP and TYPE lines and every sample.
  void render(std::string& out) const;

 protected:
  virtual void render_samples(std::string& out) const = 0;
  // `{a="x",b="y"}` for these values, with `extra` (e.g. le="0.5") appended; "" without labels.
  std::string label_set(const std::vector<std::string>& values,
                        const std::string& extra = "") const;

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

template <typename M>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::function<std::unique_ptr<M>()> make)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        make_(std::move(make)) {}

  // The child for these label values, in label_names() order; created on first use.
  // std::logic_error when the number of values does not match.
  M& with(const std::vector<std::string>& values);

 private:
  void render_samples(std::string& out) const override;

  std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

template <>
void Family<Counter>::render_samples(std::string& out) const;
template <>
void Family<Gauge>::render_samples(std::string& out) const;
template <>
void Family<Histogram>::render_samples(std::string& out) const;
extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

class Registry {
 public:
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {},
                               std::vector<double> buckets = default_buckets());

  // The text exposition of every family, sorted by name.
  std::string render() const;

 private:
  template <typename M>
  Family<M>& get_or_add(const std::string& name, const std::string& help, Type type,
                        std::vector<std::string> label_names,
                        std::function<std::unique_ptr<M>()> make);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
};

// `given` when there is one; otherwise a fresh registry kept in `own` (the caller's member, so it
// lives as long as the metrics that point into it).
Registry& given_or_own(Registry* given, std::unique_ptr<Registry>& own);

// The value as the text format writes it: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string format_value(double v);
// A label value with \, " and newline escaped.
std::string escape_label_value(const std::string& v);

// Runs `call` (answering a Result or Status), observes its duration in seconds in
// duration.with(labels) and counts it in total.with(labels + outcome), where outcome is
// "success" or the error kind ("Unavailable", "NotFound", ...). Returns the call's answer.
template <typename Call>
auto observe_call(Family<Counter>& total, Family<Histogram>& duration,
                  std::vector<std::string> labels, Call&& call) -> decltype(call()) {
  auto started = std::chrono::steady_clock::now();
  auto result = call();
  duration.with(labels).observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  labels.push_back(result.ok() ? "success" : to_string(result.error().kind));
  total.with(labels).inc();
  return result;
}

// The Content-Type of render()'s output.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace byok::metrics
