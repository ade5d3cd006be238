// Codecs for std::chrono durations, carried as numbers.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/types/checks.h>
#include <crossproc/types/primitive.h>

#include <chrono>
#include <type_traits>

namespace crossproc {

// A duration as the count of its own unit: std::chrono::milliseconds on Int64 carries
// milliseconds. Both sides must agree on the unit (name it in the schema's field name, as in
// `timeoutMs`); the count is range-checked like any number.
template <typename Wire, typename Rep, typename Period>
struct Codec<Wire, std::chrono::duration<Rep, Period>,
             std::enable_if_t<!std::is_same_v<Wire, bool> && detail::kIsNumberPair<Wire, Rep>>> {
  using Duration = std::chrono::duration<Rep, Period>;
  static Wire Build(Encoder&, const Duration& value) {
    return detail::ConvertNumber<Wire>(value.count());
  }
  static Duration Read(Decoder&, Wire value) { return Duration(detail::ConvertNumber<Rep>(value)); }
};

}  // namespace crossproc
