// Capability references and the tokens that carry them through Cap'n Proto messages.
#include "runtime/connection_state.h"

#include <cxxabi.h>

#include <cstdlib>

namespace crossproc::detail {
namespace {
// The address identifies CapTokens among the ClientHooks found in a message.
const int kTokenBrand = 0;
}  // namespace

capnp::Capability::Client CapToken::Wrap(std::shared_ptr<CapRef> ref) {
  if (!ref) return capnp::Capability::Client(nullptr);
  return capnp::Capability::Client(kj::refcounted<CapToken>(std::move(ref)));
}

std::shared_ptr<CapRef> CapToken::Unwrap(capnp::Capability::Client client) {
  kj::Own<capnp::ClientHook> hook = capnp::ClientHook::from(kj::mv(client));
  if (hook->getBrand() != &kTokenBrand) return nullptr;  // null or broken capability
  return static_cast<CapToken&>(*hook).ref();
}

const void* CapToken::getBrand() { return &kTokenBrand; }

capnp::Request<capnp::AnyPointer, capnp::AnyPointer> CapToken::newCall(
    uint64_t, uint16_t, kj::Maybe<capnp::MessageSize>) {
  throw RemoteError(ErrorKind::kUnimplemented, "", "crossproc capabilities are called through generated proxies");
}

capnp::ClientHook::VoidPromiseAndPipeline CapToken::call(uint64_t, uint16_t, kj::Own<capnp::CallContextHook>&&) {
  throw RemoteError(ErrorKind::kUnimplemented, "", "crossproc capabilities are called through generated proxies");
}

ImportedCap::~ImportedCap() { m_connection->ReleaseImport(*this); }

// ---------------------------------------------------------------------------------------------
// Errors on the wire: Cap'n Proto exceptions whose reason is "<C++ type>: <message>".

namespace {
capnp::rpc::Exception::Type WireKind(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kFailed: return capnp::rpc::Exception::Type::FAILED;
    case ErrorKind::kDisconnected: return capnp::rpc::Exception::Type::DISCONNECTED;
    case ErrorKind::kOverloaded: return capnp::rpc::Exception::Type::OVERLOADED;
    case ErrorKind::kUnimplemented: return capnp::rpc::Exception::Type::UNIMPLEMENTED;
  }
  return capnp::rpc::Exception::Type::FAILED;
}

std::string Demangle(const char* name) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string result = status == 0 && demangled ? demangled : name;
  std::free(demangled);
  return result;
}

// True if `text` looks like a C++ type name (so "<type>: <message>" can be split).
bool LooksLikeTypeName(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == ':' || c == '<' || c == '>' || c == ',';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

void FillException(capnp::rpc::Exception::Builder builder, ErrorKind kind, const std::string& reason) {
  builder.setType(WireKind(kind));
  builder.setReason(reason);
}

RemoteError ErrorFromException(capnp::rpc::Exception::Reader exception) {
  ErrorKind kind = ErrorKind::kFailed;
  switch (exception.getType()) {
    case capnp::rpc::Exception::Type::FAILED: kind = ErrorKind::kFailed; break;
    case capnp::rpc::Exception::Type::OVERLOADED: kind = ErrorKind::kOverloaded; break;
    case capnp::rpc::Exception::Type::DISCONNECTED: kind = ErrorKind::kDisconnected; break;
    case capnp::rpc::Exception::Type::UNIMPLEMENTED: kind = ErrorKind::kUnimplemented; break;
  }
  std::string reason = exception.getReason();
  std::string type_name;
  if (auto colon = reason.find(": "); colon != std::string::npos && LooksLikeTypeName(std::string_view(reason).substr(0, colon))) {
    type_name = reason.substr(0, colon);
    reason = reason.substr(colon + 2);
  }
  if (kind == ErrorKind::kDisconnected) return Disconnected(reason);
  return RemoteError(kind, std::move(type_name), std::move(reason));
}

std::pair<ErrorKind, std::string> DescribeCurrentException() {
  try {
    throw;
  } catch (const RemoteError& e) {
    std::string text = e.type_name().empty() ? e.message() : e.type_name() + ": " + e.message();
    return {e.kind(), text};
  } catch (const kj::Exception& e) {
    ErrorKind kind = ErrorKind::kFailed;
    if (e.getType() == kj::Exception::Type::DISCONNECTED) kind = ErrorKind::kDisconnected;
    if (e.getType() == kj::Exception::Type::OVERLOADED) kind = ErrorKind::kOverloaded;
    if (e.getType() == kj::Exception::Type::UNIMPLEMENTED) kind = ErrorKind::kUnimplemented;
    return {kind, std::string("kj::Exception: ") + e.getDescription().cStr()};
  } catch (const std::exception& e) {
    return {ErrorKind::kFailed, Demangle(typeid(e).name()) + ": " + e.what()};
  } catch (...) {
    return {ErrorKind::kFailed, "unknown exception"};
  }
}

}  // namespace crossproc::detail
