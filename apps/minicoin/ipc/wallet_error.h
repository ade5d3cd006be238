// WalletError: a wallet operation that failed, with the RPC error code it maps to.
#pragma once

#include <stdexcept>
#include <string>

namespace minicoin {

// Carried across processes as its what() text, "<code>:<message>", and rebuilt on the other
// side with the same code and message. Immutable.
//
//   throw WalletError(WalletError::kInsufficientFunds, "Insufficient funds");
class WalletError : public std::runtime_error {
 public:
  // The RPC codes of Bitcoin Core's wallet errors.
  static constexpr int kWalletError = -4;
  static constexpr int kInvalidAddress = -5;
  static constexpr int kInsufficientFunds = -6;
  static constexpr int kInvalidParameter = -8;
  static constexpr int kDeserializationError = -22;
  static constexpr int kUnlockNeeded = -13;
  static constexpr int kPassphraseIncorrect = -14;
  static constexpr int kWrongEncryptionState = -15;
  static constexpr int kNotFound = -18;
  static constexpr int kAlreadyLoaded = -35;
  static constexpr int kAlreadyExists = -36;

  WalletError(int code, const std::string& message)
      : std::runtime_error(std::to_string(code) + ":" + message), m_code(code), m_message(message) {}
  // From the carried text; text without a code prefix becomes kWalletError.
  explicit WalletError(const std::string& carried) : std::runtime_error(carried), m_code(kWalletError), m_message(carried) {
    std::size_t colon = carried.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 4) return;
    int code = 0;
    std::size_t i = carried[0] == '-' ? 1 : 0;
    for (; i < colon; ++i) {
      if (carried[i] < '0' || carried[i] > '9') return;
      code = code * 10 + (carried[i] - '0');
    }
    m_code = carried[0] == '-' ? -code : code;
    m_message = carried.substr(colon + 1);
  }

  int code() const { return m_code; }
  const std::string& message() const { return m_message; }

 private:
  int m_code;
  std::string m_message;
};

}  // namespace minicoin
