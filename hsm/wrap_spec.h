#pragma once
// Which wraps the HSM can make for which keys. The wrap itself is described in common/wrap_spec.h
// (shared with kms/, whose providers say which spec their algorithm words mean); hsm/ names it as
// hsm::WrapSpec like the rest of its vocabulary.

#include "common/result.h"
#include "common/wrap_spec.h"
#include "hsm/key_types.h"

namespace byok::hsm {

using byok::describe;
using byok::oaep_hash_name;
using byok::OaepHash;
using byok::WrapMethod;
using byok::WrapSpec;

// InvalidArgument when the method cannot carry this key type (direct OAEP with a private key).
Status check_wrap_target(const WrapSpec& spec, KeyType target);

}  // namespace byok::hsm
