// A connection's lifetime (start, close, disconnect) and the public Connection. The Cap'n Proto
// RPC protocol it speaks is spread by concern: reader.cpp (leader/follower reading), writer.cpp,
// incoming.cpp (received messages), outgoing.cpp (questions), cap_table.cpp (exports and
// imports), segments.cpp (shared-memory segments); client.cpp holds the untyped outgoing call.
#include <crossproc/connection.h>
#include <crossproc/proxy.capnp.h>

#include "runtime/connection_state.h"
#include "runtime/rpc_helpers.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace crossproc::detail {
namespace {
std::atomic<uint64_t> g_next_connection_id{1};

capnp::ReaderOptions MakeReaderOptions(const ConnectionOptions& options) {
  capnp::ReaderOptions reader_options;
  reader_options.traversalLimitInWords = options.max_message_bytes / sizeof(capnp::word) + 1024;
  reader_options.nestingLimit = options.max_nesting_depth;
  return reader_options;
}

// True for a unix socket, over which descriptors can be passed.
bool IsUnixSocket(int fd) {
  int domain = 0;
  socklen_t length = sizeof(domain);
  return ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && domain == AF_UNIX;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Lifetime.

ConnectionState::ConnectionState(transport::UniqueFd fd, std::shared_ptr<ServerBase> init,
                                 ConnectionOptions options)
    : m_id(g_next_connection_id++),
      m_options(std::move(options)),
      m_reader_options(MakeReaderOptions(m_options)),
      m_fd(std::move(fd)),
      m_receive_shared(m_options.shared_memory_threshold != 0 && IsUnixSocket(m_fd.get())),
      m_init(std::move(init)),
      m_frames(transport::FrameLimits{m_options.max_message_bytes, 512}, m_receive_shared),
      m_last_release(std::chrono::steady_clock::now()),
      m_io_waiter(std::make_shared<Waiter>(m_options.name + "-loop")) {}

ConnectionState::~ConnectionState() = default;

void ConnectionState::Start() {
  m_thread_map = std::make_shared<ThreadMapServer>(weak_from_this());
  m_io_thread = NativeThread([this] { IoThreadMain(); }, m_options.thread_stack_bytes);
}

void ConnectionState::Log(LogLevel level, const std::string& line) const {
  if (m_options.log) m_options.log(level, m_options.name + "#" + std::to_string(m_id) + ": " + line);
}

bool ConnectionState::closed() {
  MutexLock lock(m_mutex);
  return m_closed;
}

void ConnectionState::WaitForDisconnect() {
  UniqueLock lock(m_mutex);
  while (!(m_closed)) m_closed_cv.wait(lock.native());
}

void ConnectionState::WaitForInitRelease() {
  UniqueLock lock(m_mutex);
  while (!(m_closed || m_init_released)) m_closed_cv.wait(lock.native());
}

void ConnectionState::Close() {
  std::vector<NativeThread> threads;
  {
    UniqueLock lock(m_mutex);
    Disconnect(lock, "connection closed by this side");
    RunCompletions(lock);
    threads.swap(m_threads);
  }
  auto join = [](NativeThread& thread) {
    if (thread.IsCurrent()) {
      thread.Detach();  // closing from one of this connection's own threads
    } else {
      thread.Join();
    }
  };
  join(m_io_thread);
  for (auto& thread : threads) join(thread);
  // Threads started while closing (none are after m_closed) and leftovers of the tables.
  UniqueLock lock(m_mutex);
  for (auto& thread : m_threads) {
    lock.unlock();
    join(thread);
    lock.lock();
  }
  m_threads.clear();
}

void ConnectionState::Disconnect(UniqueLock& lock, const std::string& reason) {
  (void)lock;
  if (m_closed) return;
  m_closed = true;
  m_close_reason = reason;
  Log(LogLevel::kInfo, "disconnected: " + reason);
  for (auto& [id, question] : m_questions) {
    question->error = std::make_exception_ptr(Disconnected(reason));
    question->done = true;
    if (question->waiter) question->waiter->cv.notify_all();
    if (question->on_done) {
      m_completions.push_back(std::move(question->on_done));
      question->on_done = nullptr;
    }
  }
  m_questions.clear();
  m_async_outstanding = 0;
  // Calls still being served have nobody to answer to any more.
  for (auto& [id, answer] : m_answers) {
    if (!answer.returned) answer.canceled->store(true);
  }
  for (Waiter* waiter : m_role_wanters) waiter->cv.notify_all();
  for (auto& waiter : m_pool) waiter->cv.notify_all();
  m_io_waiter->cv.notify_all();
  m_closed_cv.notify_all();
  // Wakes a thread blocked reading or writing the socket.
  ::shutdown(m_fd.get(), SHUT_RDWR);
}

std::shared_ptr<CapRef> BootstrapRef(ConnectionState& state) { return state.Bootstrap(); }

void Construct(ConnectionState& state, const std::shared_ptr<CapRef>& init, const MethodInfo& method) {
  OutgoingCall call(init, method);
  auto params = call.ParamsRoot().initAsAnyStruct(0, 1).getPointerSection();
  params[0].setAs<wire::ThreadMap>(CapToken::Wrap(state.ThreadMapCap()).castAs<wire::ThreadMap>());
  call.Send();
  auto results = call.ResultsRoot().getAs<capnp::AnyStruct>().getPointerSection();
  if (results.size() > 0) {
    state.SetPeerThreadMap(CapToken::Unwrap(results[0].getAs<wire::ThreadMap>()));
    state.NegotiateExtensions();
  }
}

}  // namespace crossproc::detail

namespace crossproc {

SendBatch::SendBatch() { ++detail::t_batch.depth; }

SendBatch::~SendBatch() {
  if (--detail::t_batch.depth > 0) return;
  auto connections = std::move(detail::t_batch.connections);
  detail::t_batch.connections.clear();
  for (auto& connection : connections) connection->FlushQueued();
}

Connection::Connection(int fd, ConnectionOptions options) : Connection(fd, std::shared_ptr<ServerBase>(), std::move(options)) {}

Connection::Connection(int fd, std::shared_ptr<ServerBase> init, ConnectionOptions options)
    : m_state(std::make_shared<detail::ConnectionState>(transport::UniqueFd(fd), std::move(init), std::move(options))) {
  m_state->Start();
}

Connection::~Connection() { m_state->Close(); }

void Connection::WaitForDisconnect() { m_state->WaitForDisconnect(); }
void Connection::WaitForInitRelease() { m_state->WaitForInitRelease(); }
bool Connection::connected() const { return !m_state->closed(); }
void Connection::Close() { m_state->Close(); }

}  // namespace crossproc
