#pragma once
// Custom kinds of no meaning for the tests of the generic runtime, which knows no byok kind.

#include "controller/kube/resource.h"

namespace byok::testing {

inline kube::ResourceType widgets() { return {"example.dev", "v1", "widgets", "Widget", true}; }
inline kube::ResourceType gadgets() { return {"example.dev", "v1", "gadgets", "Gadget", true}; }

}  // namespace byok::testing
