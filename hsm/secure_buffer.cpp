#include "hsm/secure_buffer.h"

#include <cstring>

#include <openssl/crypto.h>

namespace byok::hsm {

SecureBuffer::SecureBuffer(std::size_t size) : data_(new std::uint8_t[size]()), size_(size) {}

SecureBuffer::SecureBuffer(const std::uint8_t* data, std::size_t size) : SecureBuffer(size) {
  if (size != 0) std::memcpy(data_.get(), data, size);
}

SecureBuffer::~SecureBuffer() { clear(); }

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    clear();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

void SecureBuffer::shrink(std::size_t n) {
  if (n >= size_) return;
  OPENSSL_cleanse(data_.get() + n, size_ - n);
  size_ = n;  // the allocation stays; clear() wipes only size_ bytes, the tail is already wiped
}

void SecureBuffer::clear() {
  if (data_ && size_ != 0) OPENSSL_cleanse(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

}  // namespace byok::hsm
