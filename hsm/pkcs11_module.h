#pragma once
// A loaded PKCS#11 module (any path: SoftHSM2, a network HSM's client library, ...).
//
// Guarantees: load() dlopen()s the library, resolves C_GetFunctionList and calls C_Initialize with
// CKF_OS_LOCKING_OK, so the module may be used from several threads; the destructor calls
// C_Finalize (only if this object initialised it) and dlclose(). Every other hsm/ object that uses
// the module holds a shared_ptr to it, so it outlives them.
// Assumes: one Module per library path per process (PKCS#11 initialisation is per process; a
// second load() of the same path shares the first one's state and never finalises it).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "hsm/pkcs11_types.h"

namespace byok::hsm {

struct ModuleInfo {
  std::string manufacturer;         // CK_INFO.manufacturerID, trimmed
  std::string library_description;  // CK_INFO.libraryDescription, trimmed
  std::string library_version;      // "2.6"
};

struct TokenInfo {
  CK_SLOT_ID slot = 0;
  std::string label;
  std::string manufacturer;
  std::string model;
  std::string serial;
  std::string firmware_version;
};

class Module {
 public:
  static Result<std::shared_ptr<Module>> load(const std::string& path);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The module's function table; valid for this object's lifetime.
  CK_FUNCTION_LIST* fn() const { return fn_; }
  const std::string& path() const { return path_; }

  Result<ModuleInfo> info() const;
  // The slot whose initialised token has this label (labels are compared after trimming the
  // PKCS#11 space padding). NotFound names the labels that do exist.
  Result<TokenInfo> find_token(std::string_view label) const;
  Result<std::vector<CK_MECHANISM_TYPE>> mechanisms(CK_SLOT_ID slot) const;

 private:
  Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool owns_init)
      : path_(std::move(path)), handle_(handle), fn_(fn), owns_init_(owns_init) {}

  std::string path_;
  void* handle_ = nullptr;
  CK_FUNCTION_LIST* fn_ = nullptr;
  bool owns_init_ = false;
};

// PKCS#11 fixed-width, space-padded text fields to std::string.
std::string trim_padded(const unsigned char* text, std::size_t size);

}  // namespace byok::hsm
