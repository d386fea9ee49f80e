#include "hsm/secure_buffer.h"

#include <sys/mman.h>

#include <cstring>

#include <openssl/crypto.h>

namespace byok::hsm {

SecureBuffer::SecureBuffer(std::size_t size)
    : data_(new std::uint8_t[size]()), size_(size), capacity_(size) {
  // mlock works on whole pages and locks do not stack: releasing one buffer unlocks its pages even
  // while another secret shares them. So the lock is best effort for small neighbours; secrets
  // are short-lived, and wiping is the guarantee.
  if (size != 0) locked_ = ::mlock(data_.get(), size) == 0;
}

SecureBuffer::SecureBuffer(const std::uint8_t* data, std::size_t size) : SecureBuffer(size) {
  if (size != 0) std::memcpy(data_.get(), data, size);
}

SecureBuffer::~SecureBuffer() { clear(); }

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::move(other.data_)),
      size_(other.size_),
      capacity_(other.capacity_),
      locked_(other.locked_) {
  other.size_ = other.capacity_ = 0;
  other.locked_ = false;
}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    clear();
    data_ = std::move(other.data_);
    size_ = other.size_;
    capacity_ = other.capacity_;
    locked_ = other.locked_;
    other.size_ = other.capacity_ = 0;
    other.locked_ = false;
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
  if (locked_) ::munlock(data_.get(), capacity_);
  data_.reset();
  size_ = capacity_ = 0;
  locked_ = false;
}

}  // namespace byok::hsm
