// 256-bit arithmetic over four 64-bit limbs.
#include "chain/work.h"

#include "primitives/block.h"

#include <array>

namespace minicoin {
namespace {

using Limbs = std::array<uint64_t, 4>;  // least significant first

Limbs ToLimbs(const Uint256& value) {
  Limbs limbs{};
  for (std::size_t i = 0; i < 32; ++i) limbs[i / 8] |= static_cast<uint64_t>(value.bytes()[i]) << (8 * (i % 8));
  return limbs;
}

Uint256 FromLimbs(const Limbs& limbs) {
  std::array<uint8_t, 32> bytes{};
  for (std::size_t i = 0; i < 32; ++i) bytes[i] = static_cast<uint8_t>(limbs[i / 8] >> (8 * (i % 8)));
  return Uint256(bytes);
}

bool LessLimbs(const Limbs& a, const Limbs& b) {
  for (std::size_t i = 4; i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

Limbs SubtractLimbs(const Limbs& a, const Limbs& b) {
  Limbs out{};
  uint64_t borrow = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    uint64_t difference = a[i] - b[i];
    uint64_t next_borrow = (a[i] < b[i]) || (difference < borrow) ? 1 : 0;
    out[i] = difference - borrow;
    borrow = next_borrow;
  }
  return out;
}

}  // namespace

Uint256 Add256(const Uint256& a, const Uint256& b) {
  Limbs x = ToLimbs(a);
  Limbs y = ToLimbs(b);
  Limbs out{};
  uint64_t carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    uint64_t sum = x[i] + y[i];
    uint64_t next_carry = sum < x[i] ? 1 : 0;
    out[i] = sum + carry;
    if (out[i] < sum) next_carry = 1;
    carry = next_carry;
  }
  return FromLimbs(out);
}

Uint256 Subtract256(const Uint256& a, const Uint256& b) { return FromLimbs(SubtractLimbs(ToLimbs(a), ToLimbs(b))); }

Uint256 Not256(const Uint256& a) {
  Limbs limbs = ToLimbs(a);
  for (auto& limb : limbs) limb = ~limb;
  return FromLimbs(limbs);
}

std::optional<Uint256> Divide256(const Uint256& a, const Uint256& b) {
  Limbs divisor = ToLimbs(b);
  if (divisor == Limbs{}) return std::nullopt;
  Limbs dividend = ToLimbs(a);
  Limbs quotient{};
  Limbs remainder{};
  // Shift-and-subtract long division, one bit at a time from the most significant.
  for (int bit = 255; bit >= 0; --bit) {
    uint64_t top = remainder[3] >> 63;
    for (std::size_t i = 4; i-- > 1;) remainder[i] = (remainder[i] << 1) | (remainder[i - 1] >> 63);
    remainder[0] = (remainder[0] << 1) | ((dividend[bit / 64] >> (bit % 64)) & 1);
    if (top != 0 || !LessLimbs(remainder, divisor)) {
      remainder = SubtractLimbs(remainder, divisor);
      quotient[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
  return FromLimbs(quotient);
}

Uint256 Uint256FromU64(uint64_t value) { return FromLimbs(Limbs{value, 0, 0, 0}); }

uint64_t LowU64(const Uint256& value) { return ToLimbs(value)[0]; }

Uint256 BlockWork(uint32_t bits) {
  std::optional<Uint256> target = TargetFromBits(bits);
  if (!target || target->IsZero()) return Uint256();
  Uint256 one = Uint256FromU64(1);
  Uint256 divisor = Add256(*target, one);
  if (divisor.IsZero()) return one;  // target = 2^256 - 1
  return Add256(*Divide256(Not256(*target), divisor), one);
}

}  // namespace minicoin
