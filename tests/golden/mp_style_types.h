// Types shared by mp_style_classes.h (golden test of $Proxy.includeTypes).
#pragma once

#include <cstddef>

namespace mpgolden {

// The longest text Echo::echo accepts.
inline constexpr std::size_t kMaxEchoLength = 1 << 20;

}  // namespace mpgolden
