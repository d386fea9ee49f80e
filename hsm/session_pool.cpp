#include "hsm/session_pool.h"

#include "hsm/pkcs11_error.h"

namespace byok::hsm {

Session::Session(Session&& other) noexcept
    : pool_(other.pool_),
      fn_(other.fn_),
      slot_(other.slot_),
      handle_(other.handle_),
      epoch_(other.epoch_),
      lost_(other.lost_) {
  other.pool_ = nullptr;
}

Session::~Session() {
  if (pool_ != nullptr) pool_->release(handle_, epoch_, lost_);
}

Error Session::fail(CK_RV rv, const std::string& what) {
  if (rv_session_lost(rv)) lost_ = true;
  return rv_error(rv, what);
}

Result<std::unique_ptr<SessionPool>> SessionPool::create(std::shared_ptr<Module> module,
                                                         std::string token_label, SecureBuffer pin,
                                                         Options options, Logger* log) {
  if (!module) return make_error(ErrorKind::InvalidArgument, "no PKCS#11 module");
  if (options.max_sessions == 0) options.max_sessions = 1;
  auto token = module->find_token(token_label);
  if (!token.ok()) return token.error();
  std::unique_ptr<SessionPool> pool(
      new SessionPool(std::move(module), std::move(token_label), std::move(pin), options, log));
  pool->token_ = token.value();
  auto first = pool->acquire();  // validates the PIN now; the session goes back to the pool
  if (!first.ok()) return first.error();
  return pool;
}

SessionPool::~SessionPool() {
  std::lock_guard<std::mutex> lock(mu_);
  for (CK_SESSION_HANDLE h : idle_) module_->fn()->C_CloseSession(h);
  idle_.clear();
}

Result<CK_SESSION_HANDLE> SessionPool::open_and_login(CK_SLOT_ID slot, CK_RV* login_rv) {
  CK_FUNCTION_LIST* fn = module_->fn();
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  CK_RV rv = fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
  if (rv != CKR_OK) return rv_error(rv, "C_OpenSession(token \"" + label_ + "\")");
  // Login state is shared by all of this process's sessions on the token, so "already logged in"
  // is success.
  rv = fn->C_Login(h, CKU_USER, const_cast<CK_UTF8CHAR*>(pin_.data()), pin_.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    *login_rv = rv;
    fn->C_CloseSession(h);
    Error e = rv_error(rv, "C_Login(token \"" + label_ + "\")");
    if (rv == CKR_USER_PIN_NOT_INITIALIZED)
      e.message += ": the token has no user PIN yet (its security officer sets one, C_InitPIN)";
    return e;
  }
  return h;
}

Result<Session> SessionPool::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    if (pin_rejected_) return *pin_rejected_;
    if (!idle_.empty()) {
      CK_SESSION_HANDLE h = idle_.back();
      idle_.pop_back();
      return Session(this, module_->fn(), token_.slot, h, epoch_);
    }
    if (open_ < options_.max_sessions) {
      ++open_;  // reserve the place before unlocking, so concurrent acquires respect the cap
      CK_SLOT_ID slot = token_.slot;
      std::uint64_t epoch = epoch_;
      lock.unlock();
      CK_RV login_rv = CKR_OK;
      auto h = open_and_login(slot, &login_rv);
      lock.lock();
      if (!h.ok()) {
        --open_;
        cv_.notify_one();
        if (login_rv == CKR_PIN_INCORRECT || login_rv == CKR_PIN_LOCKED ||
            login_rv == CKR_PIN_EXPIRED || login_rv == CKR_PIN_INVALID ||
            login_rv == CKR_PIN_LEN_RANGE) {
          pin_rejected_ = h.error().context("the PIN was rejected; not trying it again");
          if (log_)
            log_->error("hsm login failed", {{"token", label_}, {"error", h.error().message}});
        }
        return h.error();
      }
      return Session(this, module_->fn(), slot, h.value(), epoch);
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_sessions) {
      return make_error(ErrorKind::Unavailable,
                        "no free HSM session on token \"" + label_ + "\" after " +
                            std::to_string(options_.acquire_timeout.count()) + " ms");
    }
  }
}

void SessionPool::release(CK_SESSION_HANDLE handle, std::uint64_t epoch, bool lost) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lost || epoch != epoch_) {
    module_->fn()->C_CloseSession(handle);  // may fail if already gone; nothing to do then
    --open_;
  } else {
    idle_.push_back(handle);
  }
  cv_.notify_one();
}

void SessionPool::recover(std::uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch != epoch_) return;
  ++epoch_;
  ++recoveries_;
  for (CK_SESSION_HANDLE h : idle_) module_->fn()->C_CloseSession(h);
  open_ -= idle_.size();
  idle_.clear();
  auto token = module_->find_token(label_);
  if (token.ok()) token_ = token.value();
  if (log_) {
    log_->warn("hsm session lost; reopening",
               {{"token", label_},
                {"slot", std::to_string(token_.slot)},
                {"found", token.ok() ? "true" : token.error().message}});
  }
  cv_.notify_all();
}

TokenInfo SessionPool::token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_;
}

std::size_t SessionPool::open_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

std::uint64_t SessionPool::recoveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return recoveries_;
}

}  // namespace byok::hsm
