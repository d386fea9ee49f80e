#include "hsm/pkcs11_module.h"

#include <dlfcn.h>

#include "hsm/pkcs11_error.h"

namespace byok::hsm {

std::string trim_padded(const unsigned char* text, std::size_t size) {
  std::string s(reinterpret_cast<const char*>(text), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

Result<std::shared_ptr<Module>> Module::load(const std::string& path) {
  if (path.empty()) return make_error(ErrorKind::InvalidArgument, "no PKCS#11 module path given");
  // RTLD_LOCAL: the module's symbols stay private, so two vendors' libraries cannot clash.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return make_error(ErrorKind::InvalidArgument,
                      "cannot load PKCS#11 module " + path + ": " + (why ? why : "dlopen failed"));
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
  if (get_list == nullptr) {
    dlclose(handle);
    return make_error(ErrorKind::InvalidArgument,
                      path + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_FUNCTION_LIST* fn = nullptr;
  CK_RV rv = get_list(&fn);
  if (rv != CKR_OK || fn == nullptr) {
    dlclose(handle);
    return rv_error(rv, "C_GetFunctionList(" + path + ")");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  rv = fn->C_Initialize(&args);
  bool owns = true;
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    owns = false;
  } else if (rv != CKR_OK) {
    dlclose(handle);
    return rv_error(rv, "C_Initialize(" + path + ")");
  }
  return std::shared_ptr<Module>(new Module(path, handle, fn, owns));
}

Module::~Module() {
  if (fn_ != nullptr && owns_init_) fn_->C_Finalize(nullptr);
  if (handle_ != nullptr) dlclose(handle_);
}

Result<ModuleInfo> Module::info() const {
  CK_INFO info{};
  CK_RV rv = fn_->C_GetInfo(&info);
  if (rv != CKR_OK) return rv_error(rv, "C_GetInfo");
  ModuleInfo out;
  out.manufacturer = trim_padded(info.manufacturerID, sizeof info.manufacturerID);
  out.library_description = trim_padded(info.libraryDescription, sizeof info.libraryDescription);
  out.library_version =
      std::to_string(info.libraryVersion.major) + "." + std::to_string(info.libraryVersion.minor);
  return out;
}

Result<TokenInfo> Module::find_token(std::string_view label) const {
  CK_ULONG count = 0;
  CK_RV rv = fn_->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return rv_error(rv, "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(count);
  rv = fn_->C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) return rv_error(rv, "C_GetSlotList");
  slots.resize(count);
  std::string seen;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO ti{};
    if (fn_->C_GetTokenInfo(slot, &ti) != CKR_OK) continue;
    if (!(ti.flags & CKF_TOKEN_INITIALIZED)) continue;
    std::string l = trim_padded(ti.label, sizeof ti.label);
    if (l == label) {
      TokenInfo out;
      out.slot = slot;
      out.label = l;
      out.manufacturer = trim_padded(ti.manufacturerID, sizeof ti.manufacturerID);
      out.model = trim_padded(ti.model, sizeof ti.model);
      out.serial = trim_padded(ti.serialNumber, sizeof ti.serialNumber);
      out.firmware_version =
          std::to_string(ti.firmwareVersion.major) + "." + std::to_string(ti.firmwareVersion.minor);
      return out;
    }
    seen += (seen.empty() ? "" : ", ") + ("\"" + l + "\"");
  }
  return make_error(ErrorKind::NotFound,
                    "no initialised token labelled \"" + std::string(label) + "\" in " + path_ +
                        (seen.empty() ? " (no initialised tokens)" : " (tokens: " + seen + ")"));
}

Result<std::vector<CK_MECHANISM_TYPE>> Module::mechanisms(CK_SLOT_ID slot) const {
  CK_ULONG count = 0;
  CK_RV rv = fn_->C_GetMechanismList(slot, nullptr, &count);
  if (rv != CKR_OK) return rv_error(rv, "C_GetMechanismList");
  std::vector<CK_MECHANISM_TYPE> mechs(count);
  rv = fn_->C_GetMechanismList(slot, mechs.data(), &count);
  if (rv != CKR_OK) return rv_error(rv, "C_GetMechanismList");
  mechs.resize(count);
  return mechs;
}

}  // namespace byok::hsm
