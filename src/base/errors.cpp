// Exception types of remote calls.
#include <crossproc/errors.h>

namespace crossproc {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kFailed: return "failed";
    case ErrorKind::kDisconnected: return "disconnected";
    case ErrorKind::kOverloaded: return "overloaded";
    case ErrorKind::kUnimplemented: return "unimplemented";
  }
  return "failed";
}

namespace {
std::string Describe(ErrorKind kind, const std::string& type_name, const std::string& message) {
  std::string text = ErrorKindName(kind);
  text += ": ";
  if (!type_name.empty()) {
    text += type_name;
    text += ": ";
  }
  text += message;
  return text;
}
}  // namespace

RemoteError::RemoteError(ErrorKind kind, std::string type_name, std::string message)
    : std::runtime_error(Describe(kind, type_name, message)),
      m_kind(kind),
      m_type_name(std::move(type_name)),
      m_message(std::move(message)) {}

Disconnected::Disconnected(std::string message)
    : RemoteError(ErrorKind::kDisconnected, "", std::move(message)) {}

}  // namespace crossproc
