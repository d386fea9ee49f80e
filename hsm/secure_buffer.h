#pragma once
// A fixed-size byte buffer for secrets (PINs, key material on the software path, ephemeral keys).
// Guarantees: the bytes are zeroised with OPENSSL_cleanse (which the optimiser may not drop) when
// the buffer is destroyed, reassigned or resized; it never reallocates behind the caller's back, so
// no stale copy is left on the heap. Copying is explicit (clone()) to keep copies deliberate.
// The pages holding the bytes are locked in memory (mlock) while the buffer owns them, so a secret
// is not written to swap; where the lock is refused (RLIMIT_MEMLOCK), the buffer still works and
// locked() says so.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace byok::hsm {

class SecureBuffer {
 public:
  SecureBuffer() = default;
  explicit SecureBuffer(std::size_t size);  // zero-filled
  SecureBuffer(const std::uint8_t* data, std::size_t size);
  ~SecureBuffer();

  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  SecureBuffer clone() const { return SecureBuffer(data(), size()); }
  // Keeps the first n bytes and wipes the rest (n <= size()); used after a read or an encoding
  // call reports how much it wrote.
  void shrink(std::size_t n);
  void clear();

  std::uint8_t* data() { return data_.get(); }
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const std::uint8_t> span() const { return {data_.get(), size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_.get()), size_}; }
  bool locked() const { return locked_; }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;  // the allocation, which shrink() keeps
  bool locked_ = false;
};

}  // namespace byok::hsm
