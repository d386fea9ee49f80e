#pragma once
// PKCS#11 v2.40 types for the whole hsm/ library, in the standard's own names (CK_..., CKM_...).
//
// Why p11-kit's header rather than our own: the function list (CK_FUNCTION_LIST) must match the
// module's ABI slot for slot, and p11-kit's `pkcs11.h` is a complete, maintained, permissively
// licensed v2.40 transcription shipped by Debian (libp11-kit-dev). We include only the header;
// nothing links against p11-kit. The few v3.0 names we also need are added below from the OASIS
// PKCS#11 v3.0 specification (pkcs11t.h), guarded in case a newer header already has them.

#include <p11-kit/pkcs11.h>

// p11-kit's compatibility mode leaves some lowercase renaming macros defined; drop them so they
// cannot silently rename our own identifiers.
#undef aad_len
#undef aad_ptr
#undef ck_rsa_pkcs_mgf_type_t
#undef ck_rsa_pkcs_oaep_source_type_t
#undef counter_bits
#undef data_params
#undef hash_alg
#undef iv_bits
#undef iv_len
#undef iv_ptr
#undef public_data
#undef public_data_len
#undef s_len
#undef shared_data
#undef shared_data_len
#undef source_data
#undef source_data_len
#undef string_data
#undef string_data_len
#undef tag_bits

#ifndef CKK_CHACHA20
#define CKK_CHACHA20 (0x33UL)
#endif
#ifndef CKM_CHACHA20_KEY_GEN
#define CKM_CHACHA20_KEY_GEN (0x1225UL)
#endif
// RFC 5649 AES key wrap with padding has two mechanism numbers: PKCS#11 3.0 names it
// CKM_AES_KEY_WRAP_KWP (0x210B) and redefines 0x210A (CKM_AES_KEY_WRAP_PAD) as RFC 3394 over
// PKCS#7-padded data; older tokens (SoftHSM2 2.6) serve RFC 5649 under 0x210A. kryoptic has
// 0x210B only. kwp_mechanism() (pkcs11_hsm.cpp) picks the one a token offers.
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP (0x210BUL)
#endif
#ifndef CKR_ACTION_PROHIBITED
#define CKR_ACTION_PROHIBITED (0x1bUL)
#endif

namespace byok::hsm {

// CKM_RSA_AES_KEY_WRAP's parameter (PKCS#11 v2.40 section 2.1.21); p11-kit's header has the
// mechanism number but not the struct.
struct RsaAesKeyWrapParams {
  CK_ULONG ulAESKeyBits;
  CK_RSA_PKCS_OAEP_PARAMS* pOAEPParams;
};

}  // namespace byok::hsm
