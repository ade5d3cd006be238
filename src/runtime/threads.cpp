// Thread handles: the ThreadMap and Thread objects each side exports, mapped server threads
// and the per-thread state of callers.
#include <crossproc/proxy.capnp.h>

#include "runtime/connection_state.h"
#include "runtime/message_codec.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <capnp/any.h>

namespace crossproc::detail {

IncomingScope*& CurrentIncoming() {
  thread_local IncomingScope* scope = nullptr;
  return scope;
}

std::string CurrentThreadName() {
  char name[64] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) == 0 && name[0] != '\0') return name;
  return "thread-" + std::to_string(static_cast<long>(::syscall(SYS_gettid)));
}

void SetCurrentThreadName(const std::string& name) {
  // The kernel keeps 15 characters (logs and getName() have the whole name).
  std::string shortened = name.substr(0, 15);
  pthread_setname_np(pthread_self(), shortened.c_str());
}

// ---------------------------------------------------------------------------------------------
// Thread and ThreadMap servers.

uint64_t LocalThreadServer::InterfaceId() const { return capnp::typeId<wire::Thread>(); }

const char* LocalThreadServer::MethodName(uint16_t method) const {
  return method == 0 ? "getName" : nullptr;
}

void LocalThreadServer::Dispatch(IncomingCall& call) {
  if (call.method() != 0) throw RemoteError(ErrorKind::kUnimplemented, "", "Thread has no such method");
  call.Results<wire::Thread::GetNameResults>().setResult(m_waiter->name);
}

uint64_t ThreadMapServer::InterfaceId() const { return capnp::typeId<wire::ThreadMap>(); }

const char* ThreadMapServer::MethodName(uint16_t method) const {
  switch (method) {
    case 0: return "makeThread";
    case 1: return "makePool";
    case 2: return "extensions";
    default: return nullptr;
  }
}

void ThreadMapServer::Dispatch(IncomingCall& call) {
  std::shared_ptr<ConnectionState> connection = m_connection.lock();
  if (!connection) throw Disconnected("connection closed");
  switch (call.method()) {
    case 0: {
      std::string name = call.Params<wire::ThreadMap::MakeThreadParams>().getName();
      auto thread = connection->MakeServerThread(name + "/" + connection->options().name, false);
      call.Results<wire::ThreadMap::MakeThreadResults>().setResult(
          call.encoder().ExportServer(thread).castAs<wire::Thread>());
      return;
    }
    case 1: {
      uint32_t count = call.Params<wire::ThreadMap::MakePoolParams>().getCount();
      constexpr uint32_t kMaxPool = 256;
      if (count > kMaxPool) {
        throw RemoteError(ErrorKind::kOverloaded, "", "makePool: at most " + std::to_string(kMaxPool) + " threads");
      }
      for (uint32_t i = 0; i < count; ++i) {
        connection->MakeServerThread("pool-" + std::to_string(i) + "/" + connection->options().name, true);
      }
      call.Results<wire::ThreadMap::MakePoolResults>();
      return;
    }
    case 2: {
      connection->SetPeerExtensions(call.Params<wire::ThreadMap::ExtensionsParams>().getReceivable());
      call.Results<wire::ThreadMap::ExtensionsResults>().setReceivable(connection->ReceivableExtensions());
      return;
    }
    default:
      throw RemoteError(ErrorKind::kUnimplemented, "", "ThreadMap has no such method");
  }
}

void IncomingCallImpl::ExchangeThreadMaps() {
  if (!m_connection) throw RemoteError(ErrorKind::kFailed, "", "construct is only served over a connection");
  auto params = m_params.getAs<capnp::AnyStruct>().getPointerSection();
  if (params.size() < 1) throw RemoteError(ErrorKind::kFailed, "", "construct: missing threadMap");
  m_connection->SetPeerThreadMap(CapToken::Unwrap(params[0].getAs<wire::ThreadMap>()));
  auto results = m_results.initAsAnyStruct(0, 1).getPointerSection();
  results[0].setAs<wire::ThreadMap>(CapToken::Wrap(m_connection->ThreadMapCap()).castAs<wire::ThreadMap>());
}

// ---------------------------------------------------------------------------------------------
// Server threads.

std::shared_ptr<LocalThreadServer> ConnectionState::MakeServerThread(const std::string& name, bool pool) {
  auto waiter = std::make_shared<Waiter>(name);
  auto thread = std::make_shared<LocalThreadServer>(waiter, true);
  MutexLock lock(m_mutex);
  if (m_closed) throw Disconnected(m_close_reason);
  if (pool) m_pool.push_back(waiter);
  m_threads.emplace_back([self = shared_from_this(), thread] { self->ServerThreadMain(thread); },
                         m_options.thread_stack_bytes);
  return thread;
}

namespace {
// Per-thread states, by connection ID. An entry's weak pointer tells whether it is stale.
struct ThreadStateEntry {
  std::weak_ptr<ConnectionState> connection;
  ThreadState state;
  ~ThreadStateEntry() {
    if (auto connection_ptr = connection.lock()) {
      MutexLock lock(connection_ptr->mutex());
      if (state.waiter) state.waiter->alive = false;
    }
  }
};
std::unordered_map<uint64_t, ThreadStateEntry>& ThreadStates() {
  thread_local std::unordered_map<uint64_t, ThreadStateEntry> states;
  return states;
}
}  // namespace

ThreadState& ConnectionState::CurrentThreadState() {
  auto& states = ThreadStates();
  auto it = states.find(m_id);
  if (it != states.end()) return it->second.state;
  std::erase_if(states, [](const auto& entry) { return entry.second.connection.expired(); });
  ThreadStateEntry& entry = states[m_id];
  entry.connection = weak_from_this();
  entry.state.waiter = std::make_shared<Waiter>(CurrentThreadName());
  return entry.state;
}

void ConnectionState::ServerThreadMain(std::shared_ptr<LocalThreadServer> thread) {
  SetCurrentThreadName(thread->waiter()->name);
  {
    ThreadStateEntry& entry = ThreadStates()[m_id];
    entry.connection = weak_from_this();
    entry.state.waiter = thread->waiter();
    // local_thread (the callback handle this thread hands out) is made on first use: it must
    // be a different object from `thread`, whose release by the peer ends this thread.
  }
  Waiter& waiter = *thread->waiter();
  thread.reset();
  UniqueLock lock(m_mutex);
  WaitLoop(lock, waiter, [] { return false; });
  waiter.alive = false;
  lock.unlock();
  ThreadStates().erase(m_id);
}

}  // namespace crossproc::detail
