// Exceptions that calls through crossproc proxies can throw.
#pragma once

#include <stdexcept>
#include <string>

namespace crossproc {

// What went wrong with a remote call, after Cap'n Proto's exception types.
enum class ErrorKind {
  kFailed,         // the implementation threw, or the request was invalid
  kDisconnected,   // the connection to the peer is gone
  kOverloaded,     // the peer refused the request for lack of resources
  kUnimplemented,  // the peer does not know the interface or method
};

// Returns "failed", "disconnected", "overloaded" or "unimplemented".
const char* ErrorKindName(ErrorKind kind);

// An error reported by, or on the way to, the other side of a connection. Immutable.
// `type_name()` is the C++ type of the exception the remote implementation threw (empty if the
// peer did not send one) and `message()` its what() text; what() combines both.
class RemoteError : public std::runtime_error {
 public:
  RemoteError(ErrorKind kind, std::string type_name, std::string message);

  ErrorKind kind() const { return m_kind; }
  const std::string& type_name() const { return m_type_name; }
  const std::string& message() const { return m_message; }

 private:
  ErrorKind m_kind;
  std::string m_type_name;
  std::string m_message;
};

// Thrown by every pending and later call once the peer has gone away.
class Disconnected : public RemoteError {
 public:
  explicit Disconnected(std::string message);
};

}  // namespace crossproc
