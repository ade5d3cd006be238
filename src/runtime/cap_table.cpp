// Capability references and the tokens that carry them through Cap'n Proto messages.
#include "runtime/connection_state.h"
#include "runtime/rpc_helpers.h"

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

// ---------------------------------------------------------------------------------------------
// Capability tables.

std::vector<uint32_t> ConnectionState::WriteCapTable(capnp::BuilderCapabilityTable& caps,
                                                     capnp::rpc::Payload::Builder payload) {
  std::vector<uint32_t> exported;
  auto table = caps.getTable();
  if (table.size() == 0) return exported;
  auto descriptors = payload.initCapTable(table.size());
  for (unsigned i = 0; i < table.size(); ++i) {
    auto descriptor = descriptors[i];
    std::shared_ptr<CapRef> ref;
    KJ_IF_MAYBE(hook, table[i]) { ref = CapToken::Unwrap(capnp::Capability::Client((*hook)->addRef())); }
    if (!ref) {
      descriptor.setNone();
      continue;
    }
    if (auto server = ref->local()) {
      uint32_t id;
      if (auto it = m_export_ids.find(server.get()); it != m_export_ids.end()) {
        id = it->second;
      } else {
        if (!m_free_export_ids.empty()) {
          id = m_free_export_ids.back();
          m_free_export_ids.pop_back();
        } else {
          id = m_next_export++;
        }
        m_export_ids[server.get()] = id;
        m_exports[id].server = server;
      }
      ++m_exports[id].refs;
      descriptor.setSenderHosted(id);
      exported.push_back(id);
    } else if (auto* imported = dynamic_cast<ImportedCap*>(ref.get()); imported && &imported->connection() == this) {
      descriptor.setReceiverHosted(imported->id());
    } else {
      throw RemoteError(ErrorKind::kUnimplemented, "",
                        "a capability of one connection cannot be passed over another one");
    }
  }
  return exported;
}

void ConnectionState::ImportCaps(ReceivedMessage& message, capnp::rpc::Payload::Reader payload) {
  auto descriptors = payload.getCapTable();
  auto table = kj::heapArray<kj::Maybe<kj::Own<capnp::ClientHook>>>(descriptors.size());
  try {
    for (unsigned i = 0; i < descriptors.size(); ++i) {
      auto descriptor = descriptors[i];
      std::shared_ptr<CapRef> ref;
      switch (descriptor.which()) {
        case capnp::rpc::CapDescriptor::NONE:
          break;
        case capnp::rpc::CapDescriptor::SENDER_HOSTED:
        case capnp::rpc::CapDescriptor::SENDER_PROMISE: {
          uint32_t id = descriptor.isSenderHosted() ? descriptor.getSenderHosted() : descriptor.getSenderPromise();
          std::shared_ptr<ImportedCap> imported = m_imports[id].lock();
          if (!imported) {
            imported = std::make_shared<ImportedCap>(shared_from_this(), id);
            m_imports[id] = imported;
          }
          ++imported->m_remote_refs;
          ref = std::move(imported);
          break;
        }
        case capnp::rpc::CapDescriptor::RECEIVER_HOSTED: {
          auto it = m_exports.find(descriptor.getReceiverHosted());
          if (it == m_exports.end()) throw ProtocolError("message refers to an export that does not exist");
          ref = std::make_shared<LocalCap>(it->second.server);
          break;
        }
        case capnp::rpc::CapDescriptor::RECEIVER_ANSWER:
          ref = ResolvePromisedAnswer(descriptor.getReceiverAnswer());
          break;
        case capnp::rpc::CapDescriptor::THIRD_PARTY_HOSTED:
          throw ProtocolError("third-party capabilities are not supported");
      }
      if (ref) table[i] = kj::Own<capnp::ClientHook>(kj::refcounted<CapToken>(std::move(ref)));
    }
  } catch (...) {
    // Capabilities imported so far are released outside the lock.
    Defer(std::make_shared<decltype(table)>(kj::mv(table)));
    throw;
  }
  message.caps = std::make_unique<capnp::ReaderCapabilityTable>(kj::mv(table));
  message.content = message.caps->imbue(payload.getContent());
}

std::shared_ptr<CapRef> ConnectionState::ResolvePromisedAnswer(capnp::rpc::PromisedAnswer::Reader promised) {
  auto it = m_answers.find(promised.getQuestionId());
  if (it == m_answers.end()) throw ProtocolError("promised answer refers to an unknown question");
  Answer& answer = it->second;
  if (!answer.returned || answer.error) return nullptr;
  // The builder's own capability table is gone with the call that built it: read the results
  // through a table of the capabilities recorded when they were sent.
  auto hooks = kj::heapArray<kj::Maybe<kj::Own<capnp::ClientHook>>>(answer.result_caps.size());
  for (std::size_t i = 0; i < answer.result_caps.size(); ++i) {
    if (answer.result_caps[i]) hooks[i] = kj::Own<capnp::ClientHook>(kj::refcounted<CapToken>(answer.result_caps[i]));
  }
  capnp::ReaderCapabilityTable table(kj::mv(hooks));
  capnp::AnyPointer::Reader pointer = table.imbue(answer.content.asReader());
  for (auto op : promised.getTransform()) {
    if (op.isGetPointerField()) {
      auto pointers = pointer.getAs<capnp::AnyStruct>().getPointerSection();
      uint16_t index = op.getGetPointerField();
      if (index >= pointers.size()) return nullptr;
      pointer = pointers[index];
    }
  }
  return CapToken::Unwrap(pointer.getAs<capnp::Capability>());
}

void ConnectionState::ReleaseImport(ImportedCap& cap) {
  UniqueLock lock(m_mutex);
  if (auto it = m_imports.find(cap.m_id); it != m_imports.end() && it->second.expired()) m_imports.erase(it);
  if (m_closed || cap.m_remote_refs == 0) return;
  auto message = std::make_shared<capnp::MallocMessageBuilder>(16);
  auto release = message->initRoot<capnp::rpc::Message>().initRelease();
  release.setId(cap.m_id);
  release.setReferenceCount(cap.m_remote_refs);
  Queue(std::move(message));
  lock.unlock();
  if (!t_defer_flush) Flush();
}

void ConnectionState::ReleaseExport(uint32_t id, uint32_t count) {
  auto it = m_exports.find(id);
  if (it == m_exports.end()) {
    Log(LogLevel::kWarning, "peer released export " + std::to_string(id) + " that does not exist");
    return;
  }
  Export& exported = it->second;
  exported.refs -= std::min(count, exported.refs);
  if (exported.refs > 0) return;
  std::shared_ptr<ServerBase> server = std::move(exported.server);
  m_exports.erase(it);
  if (server == m_init) {
    m_init_released = true;
    m_closed_cv.notify_all();
  }
  m_export_ids.erase(server.get());
  m_free_export_ids.push_back(id);
  if (auto* thread = dynamic_cast<LocalThreadServer*>(server.get())) {
    if (thread->server_thread()) {
      thread->waiter()->stop = true;
      thread->waiter()->cv.notify_all();
    }
    // A thread handle owns nothing but its waiter: drop it here. (Callback handles are
    // exported and released once per call, so this path is hot.)
    return;
  }
  // A callback whose implementation the caller still holds: releasing it is only a reference
  // count, done after the lock is released (see ReadAsReader), without waking anybody.
  if (server->DropIsTrivial()) {
    Defer(std::move(server));
    return;
  }
  // The last reference runs the implementation's destructor: do it on the event-loop thread,
  // not under the lock and not on a thread that may hold the application's locks.
  Work drop;
  drop.drop = std::move(server);
  m_io_waiter->inbox.push_back(std::move(drop));
  m_io_waiter->cv.notify_one();
}

void ConnectionState::SetPeerThreadMap(std::shared_ptr<CapRef> thread_map) {
  std::shared_ptr<CapRef> previous;
  MutexLock lock(m_mutex);
  previous = std::move(m_peer_thread_map);
  m_peer_thread_map = std::move(thread_map);
  // `previous` is released after the lock (declared before it).
}

std::shared_ptr<CapRef> ConnectionState::ThreadMapCap() { return std::make_shared<LocalCap>(m_thread_map); }

}  // namespace crossproc::detail
