#pragma once
// Randomness is injected like time (DESIGN.md): code that jitters a backoff or names an object
// draws from a Random it was given, so a test seeds one and sees the same draws on every run.

#include <cstdint>
#include <limits>
#include <mutex>
#include <random>

namespace byok {

class Random {
 public:
  virtual ~Random() = default;
  // Uniform over all 64-bit values. Safe to call from several threads at once.
  virtual std::uint64_t next() = 0;

  // A UniformRandomBitGenerator, so <random>'s distributions take a Random directly.
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() { return next(); }
};

// A 64-bit Mersenne twister from `seed`: main seeds one from std::random_device, tests from a
// constant. Nothing drawn from it is a secret (keys and tokens come from OpenSSL or the HSM).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : gen_(seed) {}
  std::uint64_t next() override {
    std::lock_guard<std::mutex> lock(mu_);
    return gen_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 gen_;
};

}  // namespace byok
