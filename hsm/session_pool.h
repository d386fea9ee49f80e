#pragma once
// A small thread-safe pool of logged-in PKCS#11 sessions on one token.
//
// Guarantees:
//  - acquire() hands out a Session that is open and logged in as CKU_USER; the Session returns
//    itself to the pool when destroyed (RAII). At most max_sessions are open at once; acquire()
//    waits up to acquire_timeout for one to come back, then fails with Unavailable.
//  - A session that failed with a "session lost" code (CKR_SESSION_HANDLE_INVALID,
//    CKR_DEVICE_REMOVED, CKR_USER_NOT_LOGGED_IN, ...) is never reused: Session::fail() marks it,
//    and run() then recovers the pool (closes the idle sessions, finds the token again by label,
//    since its slot id can change) and retries the operation once on a fresh, logged-in session.
//  - A rejected PIN (CKR_PIN_INCORRECT / CKR_PIN_LOCKED...) is remembered: later acquires fail at
//    once with Unauthenticated instead of trying the same PIN again (real HSMs lock a user PIN
//    after a few wrong tries).
// Assumes: the pool outlives every Session it handed out; object handles are not kept across
// run() calls (they may change after a recovery), so callers look objects up per operation.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hsm/pkcs11_module.h"
#include "hsm/secure_buffer.h"

namespace byok::hsm {

class SessionPool;

class Session {
 public:
  Session(Session&& other) noexcept;
  Session& operator=(Session&&) = delete;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  CK_SESSION_HANDLE handle() const { return handle_; }
  CK_FUNCTION_LIST* fn() const { return fn_; }
  CK_SLOT_ID slot() const { return slot_; }
  // Turns a failed call into an Error and, if the code means the session or token is gone,
  // marks this session so the pool drops it instead of reusing it.
  Error fail(CK_RV rv, const std::string& what);
  bool lost() const { return lost_; }
  std::uint64_t epoch() const { return epoch_; }

 private:
  friend class SessionPool;
  Session(SessionPool* pool, CK_FUNCTION_LIST* fn, CK_SLOT_ID slot, CK_SESSION_HANDLE handle,
          std::uint64_t epoch)
      : pool_(pool), fn_(fn), slot_(slot), handle_(handle), epoch_(epoch) {}

  SessionPool* pool_;
  CK_FUNCTION_LIST* fn_;
  CK_SLOT_ID slot_;
  CK_SESSION_HANDLE handle_;
  std::uint64_t epoch_;
  bool lost_ = false;
};

class SessionPool {
 public:
  struct Options {
    std::size_t max_sessions = 4;
    std::chrono::milliseconds acquire_timeout{30000};
  };

  // Finds the token by label and opens + logs in one session now, so a wrong PIN or a missing
  // token is reported at start-up rather than on first use.
  static Result<std::unique_ptr<SessionPool>> create(std::shared_ptr<Module> module,
                                                     std::string token_label, SecureBuffer pin,
                                                     Options options, Logger* log = nullptr);
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  Result<Session> acquire();

  // Runs f(Session&) -> Result<T>; if it failed because the session was lost, recovers and runs
  // it once more. f must be safe to repeat (look objects up, check before creating).
  template <typename F>
  auto run(F&& f) -> decltype(f(std::declval<Session&>())) {
    using R = decltype(f(std::declval<Session&>()));
    for (int attempt = 0;; ++attempt) {
      std::uint64_t epoch = 0;
      {
        auto s = acquire();
        if (!s.ok()) return R(s.error());
        R r = f(s.value());
        if (r.ok() || !s.value().lost() || attempt >= 1) return r;
        epoch = s.value().epoch();
      }  // the lost session is closed here, before recovery
      recover(epoch);
    }
  }

  // Drops every idle session and finds the token again; a no-op if another thread already
  // recovered since `epoch`.
  void recover(std::uint64_t epoch);

  const std::shared_ptr<Module>& module() const { return module_; }
  TokenInfo token() const;
  std::size_t open_sessions() const;
  std::uint64_t recoveries() const;

 private:
  friend class Session;
  SessionPool(std::shared_ptr<Module> module, std::string label, SecureBuffer pin, Options o,
              Logger* log)
      : module_(std::move(module)),
        label_(std::move(label)),
        pin_(std::move(pin)),
        options_(o),
        log_(log) {}

  Result<CK_SESSION_HANDLE> open_and_login(CK_SLOT_ID slot, CK_RV* login_rv);
  void release(CK_SESSION_HANDLE handle, std::uint64_t epoch, bool lost);

  std::shared_ptr<Module> module_;
  std::string label_;
  SecureBuffer pin_;
  Options options_;
  Logger* log_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  TokenInfo token_;
  std::vector<CK_SESSION_HANDLE> idle_;
  std::size_t open_ = 0;
  std::uint64_t epoch_ = 0;
  std::uint64_t recoveries_ = 0;
  std::optional<Error> pin_rejected_;
};

}  // namespace byok::hsm
