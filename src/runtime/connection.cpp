// The Cap'n Proto RPC protocol over one stream socket, with leader/follower reading: a thread
// waiting for an answer reads the socket itself when no other thread does, so a call costs
// one socket round trip and no thread hand-off.
#include <crossproc/connection.h>
#include <crossproc/proxy.capnp.h>

#include "runtime/connection_state.h"
#include "runtime/message_codec.h"

#include <sys/socket.h>

#include <capnp/dynamic.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace crossproc::detail {
namespace {
// How long the role of reader may stay free before the event-loop thread takes it (and writes
// deferred Finishes). Between two calls of one thread the role is free for a moment; the
// event-loop thread must not grab it then, or the next answer would cost a hand-off. Each time it
// checks, it wakes twice; at 2 ms that was 0.2 of the 2.4 context switches of a null call over
// both processes (and the caller's extra mutex sleeps), at 10 ms 0.04 (docs/performance.md).
constexpr auto kIdleBeforeEventLoopReads = std::chrono::milliseconds(10);

std::atomic<uint64_t> g_next_connection_id{1};

// The SendBatch scopes open on this thread, and the connections with calls they hold back.
struct BatchState {
  int depth = 0;
  std::vector<std::shared_ptr<ConnectionState>> connections;
};
thread_local BatchState t_batch;

// While set, messages queued by this thread are written by a flush that follows shortly
// (used so that releases made while finishing a call leave in the same write as its Return).
thread_local bool t_defer_flush = false;

capnp::ReaderOptions MakeReaderOptions(const ConnectionOptions& options) {
  capnp::ReaderOptions reader_options;
  reader_options.traversalLimitInWords = options.max_message_bytes / sizeof(capnp::word) + 1024;
  reader_options.nestingLimit = options.max_nesting_depth;
  return reader_options;
}

// For -debug=ipc: a params or results struct in Cap'n Proto's text form, cut to a readable size.
std::string FormatPayload(std::optional<capnp::InterfaceSchema> schema, uint16_t method, bool results,
                          capnp::AnyPointer::Reader content) {
  if (!schema) return "(...)";
  constexpr std::size_t kMaxLength = 160;
  try {
    auto methods = schema->getMethods();
    if (method >= methods.size()) return "(?)";
    auto type = results ? methods[method].getResultType() : methods[method].getParamType();
    auto value = content.getAs<capnp::DynamicStruct>(type);
    std::string text = "(";
    for (auto field : type.getFields()) {
      auto field_type = field.getType();
      // The call context is the framework's business: leave it out.
      if (field_type.isStruct() && field_type.asStruct().getProto().getId() == capnp::typeId<wire::Context>()) continue;
      if (!value.has(field)) continue;
      if (text.size() > 1) text += ", ";
      text += field.getProto().getName().cStr();
      text += " = ";
      text += kj::str(value.get(field)).cStr();
    }
    text += ")";
    if (text.size() > kMaxLength) text = text.substr(0, kMaxLength) + "...";
    return text;
  } catch (...) {
    return "(unreadable)";
  }
}

// The interface schema of a method, when the generated code provided it.
std::optional<capnp::InterfaceSchema> SchemaOf(const MethodInfo& method) {
  if (!method.schema) return std::nullopt;
  return method.schema();
}

// True if a Return hands capabilities over: its Finish is then written at once, so the peer can
// drop its references to them promptly.

std::string DescribeError(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (...) {
    return DescribeCurrentException().second;
  }
}

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Segments at least this large come from the connection's pool when not in shared memory.
constexpr std::size_t kPooledSegmentBytes = 64u << 10;

// True for a unix socket, over which descriptors can be passed.
bool IsUnixSocket(int fd) {
  int domain = 0;
  socklen_t length = sizeof(domain);
  return ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && domain == AF_UNIX;
}
}  // namespace

bool CarriesCapabilities(capnp::rpc::Return::Reader ret) {
  return ret.isResults() && ret.getResults().hasCapTable() && ret.getResults().getCapTable().size() > 0;
}

// ---------------------------------------------------------------------------------------------
// Shared-memory segments.

kj::ArrayPtr<capnp::word> OutgoingBuilder::allocateSegment(unsigned minimum_words) {
  std::size_t bytes = std::size_t{minimum_words} * sizeof(capnp::word);
  if (m_shared_threshold != 0 && bytes >= m_shared_threshold && m_shared.size() < transport::kMaxFdsPerWrite) {
    if (auto segment = transport::SharedSegment::Create(bytes)) {
      auto* words = static_cast<capnp::word*>(segment->data());
      std::size_t size = segment->size() / sizeof(capnp::word);
      m_shared.push_back(std::move(segment));
      return kj::arrayPtr(words, size);  // fresh memfd pages are zero, as Cap'n Proto needs
    }
  }
  if (m_pool && m_pooled == nullptr && bytes >= kPooledSegmentBytes) {
    // Cap'n Proto needs zeroed segments: clearing a reused buffer costs far less than the page
    // faults of fresh memory.
    m_pooled = m_pool->Take(minimum_words);
    std::memset(m_pooled.begin(), 0, m_pooled.size() * sizeof(capnp::word));
    return m_pooled;
  }
  return capnp::MallocMessageBuilder::allocateSegment(minimum_words);
}

std::vector<int> OutgoingBuilder::PrepareShared(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments) {
  std::vector<int> fds;
  if (m_shared.empty()) return fds;
  fds.assign(segments.size(), -1);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    for (auto& shared : m_shared) {
      if (segments[i].begin() != shared->data()) continue;
      // A segment the system will not seal goes in the stream (its bytes are readable still).
      if (shared->Seal()) fds[i] = shared->fd();
    }
  }
  return fds;
}

void ConnectionState::NegotiateExtensions() {
  std::shared_ptr<CapRef> thread_map;
  {
    MutexLock lock(m_mutex);
    thread_map = m_peer_thread_map;
  }
  if (!thread_map || ReceivableExtensions() == 0) return;
  static const MethodInfo kExtensions{capnp::typeId<wire::ThreadMap>(), 2, -1, "ThreadMap", "extensions"};
  try {
    OutgoingCall call(thread_map, kExtensions);
    call.ParamsRoot().initAs<wire::ThreadMap::ExtensionsParams>().setReceivable(ReceivableExtensions());
    call.Send();
    SetPeerExtensions(call.ResultsRoot().getAs<wire::ThreadMap::ExtensionsResults>().getReceivable());
  } catch (const RemoteError& e) {
    if (e.kind() == ErrorKind::kDisconnected) throw;
    // A peer without crossproc's extensions: plain Cap'n Proto only.
  }
}

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

// ---------------------------------------------------------------------------------------------
// Leader/follower machinery.

void ConnectionState::ReadAsReader(UniqueLock& lock, Waiter& self) {
  if (OutboxDueBeforeRead()) {
    // Deferred messages (Finish) leave before a read that may block. While the lock is released
    // for the write, another reader may read and dispatch the very answer (or call) this thread
    // waits for, and let the role go again: then back to the caller's loop, which checks its
    // condition before reading. (Returning always would spin while another thread's write
    // blocks, and this thread must read then.)
    uint64_t reads = m_reads;
    lock.unlock(m_mutex);
    Flush();
    if (g_test_hook_after_flush_before_read) g_test_hook_after_flush_before_read();
    lock.lock(m_mutex);
    if (m_reader != nullptr || m_closed || m_reads != reads || !self.inbox.empty() || self.stop) return;
  }
  m_reader = &self;
  lock.unlock(m_mutex);
  transport::Frame frame;
  std::string error;
  try {
    frame = m_frames.ReadFrame(m_fd.get(), &self == m_io_waiter.get() ? std::chrono::microseconds{0}
                                                                       : m_options.spin_before_sleep);
    if (!frame) error = "peer closed the connection";
  } catch (const std::exception& e) {
    error = e.what();
  }
  lock.lock(m_mutex);
  m_reader = nullptr;
  ++m_reads;
  if (!error.empty()) {
    Disconnect(lock, error);
  } else if (!m_closed) {
    Dispatch(lock, self, std::move(frame));
  }
  if (!m_deferred.empty()) {
    auto deferred = std::move(m_deferred);
    m_deferred.clear();
    lock.unlock(m_mutex);
    deferred.clear();
    lock.lock(m_mutex);
  }
  RunCompletions(lock);
}

void ConnectionState::HandOffRole(UniqueLock& lock, const Waiter& self) {
  (void)lock;
  if (m_reader != nullptr || m_closed) return;
  if (!m_role_wanters.empty()) {
    Waiter* next = m_role_wanters.front();
    m_role_wanters.pop_front();
    next->wants_role = false;
    next->cv.notify_one();
    return;
  }
  // Nobody reads now: the event-loop thread takes over if that stays so for a moment (or at
  // once, if it is the one letting go: it is not about to come back for its own answer).
  if (&self == m_io_waiter.get()) return;
  m_last_release = std::chrono::steady_clock::now();
  if (m_io_untimed) {
    m_io_untimed = false;
    m_io_waiter->cv.notify_one();
  }
}

void ConnectionState::RunWork(UniqueLock& lock, Waiter& self) {
  Work work = std::move(self.inbox.front());
  self.inbox.pop_front();
  HandOffRole(lock, self);
  self.busy = true;
  lock.unlock(m_mutex);
  if (work.server) {
    ExecuteCall(work, self);
  }
  work = Work{};  // drops whatever it holds, outside the lock
  lock.lock(m_mutex);
  self.busy = false;
}

void ConnectionState::IoThreadMain() {
  SetCurrentThreadName(m_io_waiter->name);
  CurrentThreadState();  // the event-loop thread waits on its own waiter when it calls out
  Waiter& self = *m_io_waiter;
  {
    ThreadState& state = CurrentThreadState();
    state.waiter = m_io_waiter;
  }
  UniqueLock lock(m_mutex);
  while (true) {
    if (m_flush_requested) {
      m_flush_requested = false;
      lock.unlock();
      Flush();
      lock.lock();
      continue;
    }
    if (!self.inbox.empty()) {
      RunWork(lock, self);
      continue;
    }
    if (m_closed) break;
    if (m_reader == nullptr && m_role_wanters.empty()) {
      auto idle = m_async_outstanding > 0 ? kIdleBeforeEventLoopReads  // no need to read the clock
                                          : std::chrono::steady_clock::now() - m_last_release;
      if (idle >= kIdleBeforeEventLoopReads) {
        if (OutboxDueBeforeRead()) {  // replies, or deferred messages (Finish) before a read that may block
          lock.unlock();
          Flush();
          lock.lock();
          continue;
        }
        ReadAsReader(lock, self);
        continue;
      }
      self.cv.wait_for(lock.native(), kIdleBeforeEventLoopReads - idle);
      continue;
    }
    // Someone else reads, or wants to: make sure a wanter is woken if the role is free.
    HandOffRole(lock, self);
    m_io_untimed = true;
    self.cv.wait(lock.native());
    m_io_untimed = false;
  }
  // Closed: release everything the peer held, here, outside the lock.
  auto exports = std::move(m_exports);
  auto answers = std::move(m_answers);
  auto peer_thread_map = std::move(m_peer_thread_map);
  auto kept_thread_imports = std::move(m_kept_thread_imports);
  auto pool = std::move(m_pool);
  m_export_ids.clear();
  m_exports.clear();
  m_answers.clear();
  for (auto& [id, exported] : exports) {
    if (auto* thread = dynamic_cast<LocalThreadServer*>(exported.server.get()); thread && thread->server_thread()) {
      thread->waiter()->stop = true;
      thread->waiter()->cv.notify_all();
    }
  }
  lock.unlock();
  exports.clear();
  answers.clear();
  peer_thread_map.reset();
  kept_thread_imports.clear();
  lock.lock();
  while (!self.inbox.empty()) {
    Work work = std::move(self.inbox.front());
    self.inbox.pop_front();
    lock.unlock();
    work = Work{};
    lock.lock();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

void ConnectionState::Queue(std::shared_ptr<capnp::MallocMessageBuilder> message, bool deferrable) {
  if (m_write_failed) return;  // nothing reaches the peer any more
  m_outbox.push_back(std::move(message));
  if (!deferrable) m_outbox_urgent = true;
}

bool ConnectionState::BufferedFrame() const {
  try {
    return m_frames.HasBufferedFrame();
  } catch (const std::exception&) {
    return false;  // a malformed frame: the next read reports it
  }
}

bool ConnectionState::OutboxDueBeforeRead() const {
  return !m_outbox.empty() && (m_outbox_urgent || !BufferedFrame());
}

void ConnectionState::Flush() {
  UniqueLock lock(m_mutex);
  // One writer at a time. Giving the role up is decided under the same lock that Queue takes,
  // so a message queued while another thread writes is always written by that thread.
  if (m_writing) return;
  m_writing = true;
  std::vector<std::shared_ptr<capnp::MallocMessageBuilder>> batch;
  std::vector<transport::FrameTable> tables;
  std::vector<iovec> iov;
  std::vector<int> fds;
  while (!m_outbox.empty() && !m_write_failed) {
    batch.swap(m_outbox);
    m_outbox_urgent = false;
    lock.unlock();
    bool ok = true;
    std::string error;
    try {
      tables.reserve(batch.size());
      for (auto& message : batch) {
        auto segments = message->getSegmentsForOutput();
        std::vector<int> shared;
        if (auto* builder = dynamic_cast<OutgoingBuilder*>(message.get())) shared = builder->PrepareShared(segments);
        std::size_t shared_count = std::count_if(shared.begin(), shared.end(), [](int fd) { return fd >= 0; });
        if (fds.size() + shared_count > transport::kMaxFdsPerWrite) {  // one write carries so many
          ok = ok && transport::WriteAll(m_fd.get(), iov, fds);
          iov.clear();
          fds.clear();
        }
        tables.emplace_back(segments, shared);
        tables.back().AppendTo(iov, fds);
      }
      ok = ok && transport::WriteAll(m_fd.get(), iov, fds);
    } catch (const std::exception& e) {
      ok = false;
      error = e.what();
    }
    fds.clear();
    iov.clear();
    tables.clear();
    batch.clear();
    lock.lock();
    if (!ok) {
      m_write_failed = true;
      m_outbox.clear();
      if (!error.empty()) {
        Disconnect(lock, error);
      } else {
        // The peer is gone, but what it sent before going (an Abort saying why, answers) is
        // still to be read: the reader ends the connection when it reaches the end of the
        // stream. Make sure somebody reads now.
        m_last_release = {};
        m_io_waiter->cv.notify_one();
      }
    }
  }
  m_writing = false;
  RunCompletions(lock);
}

// ---------------------------------------------------------------------------------------------
// Capability tables.

namespace {
// The CapRefs of a message's capability table, by index.
std::vector<std::shared_ptr<CapRef>> CapRefsOf(capnp::BuilderCapabilityTable& caps) {
  std::vector<std::shared_ptr<CapRef>> refs;
  for (auto& entry : caps.getTable()) {
    std::shared_ptr<CapRef> ref;
    KJ_IF_MAYBE(hook, entry) { ref = CapToken::Unwrap(capnp::Capability::Client((*hook)->addRef())); }
    refs.push_back(std::move(ref));
  }
  return refs;
}
}  // namespace

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

// ---------------------------------------------------------------------------------------------
// Received messages.

void ConnectionState::Dispatch(UniqueLock& lock, Waiter& self, transport::Frame frame) {
  std::unique_ptr<ReceivedMessage> message;
  try {
    message = std::make_unique<ReceivedMessage>(std::move(frame), m_reader_options);
    auto root = message->reader.getRoot<capnp::rpc::Message>();
    switch (root.which()) {
      case capnp::rpc::Message::CALL: HandleCall(self, message); break;
      case capnp::rpc::Message::RETURN: HandleReturn(self, message); break;
      case capnp::rpc::Message::FINISH: HandleFinish(root.getFinish()); break;
      case capnp::rpc::Message::BOOTSTRAP: HandleBootstrap(root.getBootstrap()); break;
      case capnp::rpc::Message::RELEASE: HandleRelease(root.getRelease()); break;
      case capnp::rpc::Message::DISEMBARGO: HandleDisembargo(root.getDisembargo()); break;
      case capnp::rpc::Message::RESOLVE: HandleResolve(root.getResolve()); break;
      case capnp::rpc::Message::ABORT:
        Disconnect(lock, std::string("peer aborted the connection: ") + root.getAbort().getReason().cStr());
        break;
      case capnp::rpc::Message::UNIMPLEMENTED:
        Log(LogLevel::kWarning, "peer did not understand a message we sent");
        break;
      default:
        ReplyUnimplemented(root);
        break;
    }
  } catch (const std::exception& e) {
    AbortConnection(lock, std::string("malformed message from peer: ") + e.what());
  } catch (const kj::Exception& e) {
    AbortConnection(lock, std::string("malformed message from peer: ") + e.getDescription().cStr());
  }
  if (message || m_outbox_urgent) {
    // Whatever is left of the message may hold capabilities: drop it, and write replies,
    // outside the lock. Deferrable messages alone (the Finish of an answer just handled) wait
    // for the next message or for the event-loop thread.
    lock.unlock(m_mutex);
    message.reset();
    lock.lock(m_mutex);
    if (m_outbox_urgent) {
      lock.unlock(m_mutex);
      Flush();
      lock.lock(m_mutex);
    }
  }
}

void ConnectionState::AbortConnection(UniqueLock& lock, const std::string& reason) {
  Log(LogLevel::kError, reason);
  auto abort = std::make_shared<capnp::MallocMessageBuilder>();
  FillException(abort->initRoot<capnp::rpc::Message>().initAbort(), ErrorKind::kFailed, reason);
  Queue(std::move(abort));
  lock.unlock(m_mutex);
  Flush();
  lock.lock(m_mutex);
  Disconnect(lock, reason);
}

void ConnectionState::HandleCall(Waiter& self, std::unique_ptr<ReceivedMessage>& message) {
  auto call = message->reader.getRoot<capnp::rpc::Message>().getCall();
  uint32_t answer_id = call.getQuestionId();
  if (m_answers.count(answer_id) != 0) throw ProtocolError("question ID reused before Finish");
  if (!call.getSendResultsTo().isCaller()) {
    Answer& answer = m_answers[answer_id];
    answer.returned = true;
    answer.error = std::make_exception_ptr(RemoteError(ErrorKind::kUnimplemented, "", "sendResultsTo"));
    SendException(answer_id, ErrorKind::kUnimplemented, "only results sent to the caller are supported");
    return;
  }
  ImportCaps(*message, call.getParams());
  Answer& admitted = m_answers[answer_id];
  if (m_calls_in_flight >= m_options.max_calls_in_flight) {
    // Over the limit: refuse this call (the capabilities it carried are released with the
    // message) and go on serving.
    RefuseCall(answer_id, ErrorKind::kOverloaded,
               "overloaded: " + m_options.name + " serves at most " + std::to_string(m_options.max_calls_in_flight) +
                   " calls at once for one peer");
    return;
  }
  admitted.counted = true;
  ++m_calls_in_flight;
  auto target = call.getTarget();
  std::shared_ptr<ServerBase> server;
  if (target.isImportedCap()) {
    auto it = m_exports.find(target.getImportedCap());
    if (it != m_exports.end()) server = it->second.server;
  } else {
    auto promised = target.getPromisedAnswer();
    auto answer = m_answers.find(promised.getQuestionId());
    if (answer == m_answers.end()) throw ProtocolError("call on an unknown promised answer");
    if (!answer->second.returned) {
      answer->second.pipelined.push_back(std::move(message));
      return;
    }
    if (auto ref = ResolvePromisedAnswer(promised)) server = ref->local();
  }
  if (!server) {
    RefuseCall(answer_id, ErrorKind::kFailed, "call on a capability that does not exist here");
    return;
  }
  RouteCall(self, std::move(server), message);
}

void ConnectionState::RouteCall(Waiter& self, std::shared_ptr<ServerBase> server,
                                std::unique_ptr<ReceivedMessage>& message) {
  auto call = message->reader.getRoot<capnp::rpc::Message>().getCall();
  uint32_t answer_id = call.getQuestionId();
  uint16_t method = call.getMethodId();
  if (call.getInterfaceId() != server->InterfaceId()) {
    RefuseCall(answer_id, ErrorKind::kUnimplemented,
                  std::string("object does not implement the requested interface (it is ") +
                      server->InterfaceName() + ")");
    return;
  }
  Work work;
  Waiter* target = m_io_waiter.get();
  int context_index = server->ContextIndex(method);
  if (context_index >= 0) {
    target = nullptr;
    auto pointers = message->content.getAs<capnp::AnyStruct>().getPointerSection();
    if (static_cast<unsigned>(context_index) < pointers.size() && !pointers[context_index].isNull()) {
      auto context = pointers[context_index].getAs<wire::Context>();
      if (context.hasThread()) {
        auto thread_ref = CapToken::Unwrap(context.getThread());
        auto* thread = thread_ref ? dynamic_cast<LocalThreadServer*>(thread_ref->local().get()) : nullptr;
        if (!thread) {
          RefuseCall(answer_id, ErrorKind::kFailed, "context.thread is not a thread of this process");
          return;
        }
        target = thread->waiter().get();
      }
      if (context.hasCallbackThread()) {
        work.callback_thread = CapToken::Unwrap(context.getCallbackThread());
        KeepThreadImport(work.callback_thread);
      }
    }
    if (target == nullptr) target = &PickPoolWaiter();
    if (!target->alive || target->stop) {
      RefuseCall(answer_id, ErrorKind::kDisconnected, "the thread this call was addressed to has ended");
      return;
    }
  }
  work.server = std::move(server);
  work.message = std::move(message);
  work.answer_id = answer_id;
  work.canceled = m_answers[answer_id].canceled;
  target->inbox.push_back(std::move(work));
  if (target != &self) target->cv.notify_one();
}

void ConnectionState::KeepThreadImport(const std::shared_ptr<CapRef>& thread) {
  // Callers send the same callback-thread handle with every call. Holding on to the most recent
  // ones keeps their imports alive, which spares a Release message (and the peer an export
  // table update) per call. The references received meanwhile are released together later.
  constexpr std::size_t kKept = 64;
  if (!thread || std::find(m_kept_thread_imports.begin(), m_kept_thread_imports.end(), thread) != m_kept_thread_imports.end()) {
    return;
  }
  m_kept_thread_imports.push_back(thread);
  if (m_kept_thread_imports.size() > kKept) {
    Defer(std::move(m_kept_thread_imports.front()));  // released outside the lock
    m_kept_thread_imports.pop_front();
  }
}

Waiter& ConnectionState::PickPoolWaiter() {
  if (m_pool.empty()) {
    // Calls that name no thread (clients that do not map threads) need a pool: start one
    // thread now. The lock is held, so start it directly.
    auto waiter = std::make_shared<Waiter>("pool-0/" + m_options.name);
    auto thread = std::make_shared<LocalThreadServer>(waiter, true);
    m_pool.push_back(waiter);
    m_threads.emplace_back([self = shared_from_this(), thread] { self->ServerThreadMain(thread); },
                           m_options.thread_stack_bytes);
  }
  for (auto& waiter : m_pool) {
    if (!waiter->busy && waiter->inbox.empty()) return *waiter;
  }
  return *m_pool[m_pool_next++ % m_pool.size()];
}

void ConnectionState::ExecuteCall(Work& work, Waiter& self) {
  auto call = work.message->reader.getRoot<capnp::rpc::Message>().getCall();
  IncomingScope scope{m_id, work.callback_thread, CurrentIncoming(), work.canceled.get()};
  CurrentIncoming() = &scope;
  auto results = NewMessage();
  auto ret = results->initRoot<capnp::rpc::Message>().initReturn();
  ret.setAnswerId(work.answer_id);
  ret.setReleaseParamCaps(false);
  auto payload = ret.initResults();
  capnp::BuilderCapabilityTable caps;
  auto content = caps.imbue(payload.getContent());
  std::exception_ptr error;
  const uint16_t method_id = call.getMethodId();
  if (m_options.debug_ipc) {
    const char* method_name = work.server->MethodName(method_id);
    Log(LogLevel::kDebug, "serving #" + std::to_string(work.answer_id) + " " + work.server->InterfaceName() + "." +
                              (method_name ? method_name : "?") + FormatPayload(work.server->Schema(), method_id, false,
                                                                                work.message->content) +
                              " on " + CurrentThreadName());
  }
  // Timed only for the debug log: reading the clock is not free on every machine.
  auto started = m_options.debug_ipc ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  {
    IncomingCallImpl incoming(this, method_id, work.message->content, content, results->getOrphanage());
    try {
      // A call canceled while it waited in the queue is not started.
      if (work.canceled && work.canceled->load()) throw RemoteError(ErrorKind::kFailed, "", "canceled");
      work.server->Dispatch(incoming);
    } catch (...) {
      error = std::current_exception();
    }
  }
  CurrentIncoming() = scope.previous;
  if (m_options.debug_ipc) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    const char* method_name = work.server->MethodName(method_id);
    std::string outcome = error ? " threw " + DescribeError(error)
                                : " returned " + FormatPayload(work.server->Schema(), method_id, true, content.asReader());
    Log(LogLevel::kDebug, "served #" + std::to_string(work.answer_id) + " " + work.server->InterfaceName() + "." +
                              (method_name ? method_name : "?") + outcome + " in " + std::to_string(micros.count()) +
                              " us");
  }
  // Release what the call held before the Return goes out, so that both leave in one write.
  t_defer_flush = true;
  work.callback_thread.reset();
  scope.callback_thread.reset();
  work.message.reset();
  t_defer_flush = false;

  UniqueLock lock(m_mutex);
  std::vector<uint32_t> exports;
  if (!error) {
    try {
      exports = WriteCapTable(caps, payload);
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (error) {
    auto [kind, reason] = [&] {
      try {
        std::rethrow_exception(error);
      } catch (...) {
        return DescribeCurrentException();
      }
    }();  // kind and "<type>: <message>"
    FillException(ret.initException(), kind, reason);
    // The answer keeps a RemoteError, not the thrown object: a kj::Exception must be destroyed on
    // the thread that threw it, and the answer may be released on another one.
    CompleteAnswer(work.answer_id, nullptr, nullptr, {}, std::make_exception_ptr(RemoteError(kind, "", reason)), {});
  } else {
    CompleteAnswer(work.answer_id, results, content, CapRefsOf(caps), nullptr, std::move(exports));
  }
  if (!m_closed) Queue(std::move(results));
  if (!self.inbox.empty() && &self != m_io_waiter.get()) {
    // More calls wait for this thread: let the event-loop thread write this answer, so that
    // answers leave together while the next call runs, and none waits behind a call that blocks.
    m_flush_requested = true;
    m_io_waiter->cv.notify_one();
    return;
  }
  lock.unlock();
  Flush();
}

void ConnectionState::CompleteAnswer(uint32_t answer_id, std::shared_ptr<capnp::MallocMessageBuilder> results,
                                     capnp::AnyPointer::Builder content,
                                     std::vector<std::shared_ptr<CapRef>> caps, std::exception_ptr error,
                                     std::vector<uint32_t> exports) {
  auto it = m_answers.find(answer_id);
  if (it == m_answers.end()) return;  // closed meanwhile
  Answer& answer = it->second;
  MarkReturned(answer);
  answer.error = error;
  answer.result_exports = std::move(exports);
  std::vector<std::unique_ptr<ReceivedMessage>> pipelined = std::move(answer.pipelined);
  if (answer.finished) {
    m_answers.erase(it);
  } else if (!error) {
    // Calls pipelined on these results, now or until the peer's Finish, need them.
    answer.results = std::move(results);
    answer.content = content;
    answer.result_caps = std::move(caps);
  }
  for (auto& message : pipelined) {
    auto call = message->reader.getRoot<capnp::rpc::Message>().getCall();
    uint32_t pipelined_id = call.getQuestionId();
    std::shared_ptr<ServerBase> server;
    if (!error) {
      if (auto ref = ResolvePromisedAnswer(call.getTarget().getPromisedAnswer())) server = ref->local();
    }
    if (!server) {
      RefuseCall(pipelined_id, ErrorKind::kFailed, "pipelined call on a result that is not a capability here");
      continue;
    }
    RouteCall(*m_io_waiter, std::move(server), message);
  }
}

void ConnectionState::RefuseCall(uint32_t answer_id, ErrorKind kind, const std::string& reason) {
  SendException(answer_id, kind, reason);
  MarkReturned(m_answers[answer_id]);
}

void ConnectionState::MarkReturned(Answer& answer) {
  answer.returned = true;
  if (answer.counted) {
    answer.counted = false;
    --m_calls_in_flight;
  }
}

void ConnectionState::SendException(uint32_t answer_id, ErrorKind kind, const std::string& reason) {
  auto message = std::make_shared<capnp::MallocMessageBuilder>();
  auto ret = message->initRoot<capnp::rpc::Message>().initReturn();
  ret.setAnswerId(answer_id);
  ret.setReleaseParamCaps(false);
  FillException(ret.initException(), kind, reason);
  Queue(std::move(message));
}

void ConnectionState::HandleReturn(Waiter& self, std::unique_ptr<ReceivedMessage>& message) {
  auto ret = message->reader.getRoot<capnp::rpc::Message>().getReturn();
  auto it = m_questions.find(ret.getAnswerId());
  if (it == m_questions.end()) {
    if (m_canceled_questions.erase(ret.getAnswerId()) != 0) {
      // The answer to a canceled question: release what it carries, then forget it.
      if (ret.isResults()) ImportCaps(*message, ret.getResults());
      Defer(std::move(message));
      return;
    }
    throw ProtocolError("Return for an unknown question");
  }
  Question* question = it->second;
  if (ret.isResults()) ImportCaps(*message, ret.getResults());
  if (ret.getReleaseParamCaps()) {
    for (uint32_t id : question->param_exports) ReleaseExport(id, 1);
  }
  question->param_exports.clear();
  question->reply = std::move(message);
  question->done = true;
  m_questions.erase(it);
  if (question->on_done) {
    --m_async_outstanding;
    m_completions.push_back(std::move(question->on_done));
    question->on_done = nullptr;
  }
  if (question->waiter && question->waiter != &self) question->waiter->cv.notify_one();
}

void ConnectionState::HandleFinish(capnp::rpc::Finish::Reader finish) {
  auto it = m_answers.find(finish.getQuestionId());
  if (it == m_answers.end()) return;
  Answer& answer = it->second;
  if (!answer.returned) {
    // The caller no longer wants the answer: the call can see it (CurrentCallCanceled) and
    // its results are dropped when it returns.
    answer.finished = true;
    answer.canceled->store(true);
    return;
  }
  if (finish.getReleaseResultCaps()) {
    for (uint32_t id : answer.result_exports) ReleaseExport(id, 1);
  }
  m_answers.erase(it);
}

void ConnectionState::HandleBootstrap(capnp::rpc::Bootstrap::Reader bootstrap) {
  uint32_t answer_id = bootstrap.getQuestionId();
  if (m_answers.count(answer_id) != 0) throw ProtocolError("question ID reused before Finish");
  Answer& answer = m_answers[answer_id];
  if (!m_init) {
    answer.returned = true;
    SendException(answer_id, ErrorKind::kFailed, "this side offers no bootstrap interface");
    return;
  }
  auto message = std::make_shared<capnp::MallocMessageBuilder>();
  auto ret = message->initRoot<capnp::rpc::Message>().initReturn();
  ret.setAnswerId(answer_id);
  ret.setReleaseParamCaps(false);
  auto payload = ret.initResults();
  capnp::BuilderCapabilityTable caps;
  auto content = caps.imbue(payload.getContent());
  content.setAs<capnp::Capability>(CapToken::Wrap(std::make_shared<LocalCap>(m_init)));
  answer.result_exports = WriteCapTable(caps, payload);
  answer.result_caps = CapRefsOf(caps);
  answer.returned = true;
  answer.results = message;
  answer.content = content;
  Queue(std::move(message));
}

void ConnectionState::HandleRelease(capnp::rpc::Release::Reader release) {
  ReleaseExport(release.getId(), release.getReferenceCount());
}

void ConnectionState::HandleDisembargo(capnp::rpc::Disembargo::Reader disembargo) {
  if (!disembargo.getContext().isSenderLoopback()) {
    Log(LogLevel::kWarning, "ignoring a Disembargo this side never asked for");
    return;
  }
  // Calls are delivered in order, so every call made before the embargo has been passed on:
  // echo it back at once, aimed at the capability the target resolved to.
  auto target = disembargo.getTarget();
  std::shared_ptr<CapRef> ref;
  if (target.isPromisedAnswer()) {
    ref = ResolvePromisedAnswer(target.getPromisedAnswer());
  }
  auto* imported = dynamic_cast<ImportedCap*>(ref.get());
  if (!imported) throw ProtocolError("Disembargo senderLoopback on a target that does not point back to the peer");
  auto message = std::make_shared<capnp::MallocMessageBuilder>();
  auto reply = message->initRoot<capnp::rpc::Message>().initDisembargo();
  reply.initTarget().setImportedCap(imported->id());
  reply.initContext().setReceiverLoopback(disembargo.getContext().getSenderLoopback());
  Queue(std::move(message));
}

void ConnectionState::HandleResolve(capnp::rpc::Resolve::Reader resolve) {
  // crossproc never calls through promises it imported after they resolve differently: calls
  // on the promise keep working at the peer. Take and drop the reference the peer sent.
  if (resolve.isCap()) {
    auto descriptor = resolve.getCap();
    if (descriptor.isSenderHosted() || descriptor.isSenderPromise()) {
      uint32_t id = descriptor.isSenderHosted() ? descriptor.getSenderHosted() : descriptor.getSenderPromise();
      auto message = std::make_shared<capnp::MallocMessageBuilder>(16);
      auto release = message->initRoot<capnp::rpc::Message>().initRelease();
      release.setId(id);
      release.setReferenceCount(1);
      Queue(std::move(message));
    }
  }
}

void ConnectionState::ReplyUnimplemented(const capnp::rpc::Message::Reader& message) {
  auto reply = std::make_shared<capnp::MallocMessageBuilder>();
  reply->initRoot<capnp::rpc::Message>().setUnimplemented(message);
  Queue(std::move(reply));
}

// ---------------------------------------------------------------------------------------------
// Outgoing requests.

std::shared_ptr<CapRef> ConnectionState::Bootstrap() {
  auto message = std::make_shared<capnp::MallocMessageBuilder>(16);
  auto bootstrap = message->initRoot<capnp::rpc::Message>().initBootstrap();
  ThreadState& state = CurrentThreadState();
  Question question;
  UniqueLock lock(m_mutex);
  uint32_t id = AllocateQuestion(lock, question);
  bootstrap.setQuestionId(id);
  question.waiter = state.waiter.get();
  Queue(message);
  lock.unlock();
  SendAndWait(lock, *state.waiter, question);
  if (question.error) std::rethrow_exception(question.error);
  lock.unlock();
  FinishQuestion(id, true);
  auto ret = question.reply->reader.getRoot<capnp::rpc::Message>().getReturn();
  if (ret.isException()) throw ErrorFromException(ret.getException());
  if (!ret.isResults()) throw RemoteError(ErrorKind::kFailed, "", "unexpected answer to Bootstrap");
  auto ref = CapToken::Unwrap(question.reply->content.getAs<capnp::Capability>());
  if (!ref) throw RemoteError(ErrorKind::kFailed, "", "peer returned no bootstrap capability");
  return ref;
}

void ConnectionState::FinishQuestion(uint32_t question_id, bool flush_now) {
  auto message = std::make_shared<capnp::MallocMessageBuilder>(16);
  auto finish = message->initRoot<capnp::rpc::Message>().initFinish();
  finish.setQuestionId(question_id);
  finish.setReleaseResultCaps(false);
  {
    MutexLock lock(m_mutex);
    if (m_closed) return;
    Queue(std::move(message), !flush_now);
  }
  // A Finish alone would wake the peer's thread for nothing: it normally leaves with the next
  // message, or with the event-loop thread's flush when the connection goes quiet. It goes at
  // once when the peer holds capabilities for the answer, so that they are released promptly.
  if (flush_now) Flush();
}

void ConnectionState::FillContext(capnp::rpc::Call::Builder call, capnp::BuilderCapabilityTable& caps,
                                  const MethodInfo& method, ThreadState& state) {
  if (method.context_index < 0) return;
  // Run on the peer's thread for this one (or, inside a call from the peer, on the thread
  // waiting for it), and have callbacks come back to this thread.
  std::shared_ptr<CapRef> thread;
  IncomingScope* incoming = CurrentIncoming();
  if (incoming && incoming->connection_id == m_id && incoming->callback_thread) {
    thread = incoming->callback_thread;
  } else {
    std::shared_ptr<CapRef> thread_map;
    {
      MutexLock lock(m_mutex);
      thread_map = m_peer_thread_map;
    }
    if (!state.remote_thread && thread_map) {
      static const MethodInfo kMakeThread{capnp::typeId<wire::ThreadMap>(), 0, -1, "ThreadMap", "makeThread"};
      OutgoingCall make_thread(thread_map, kMakeThread);
      make_thread.ParamsRoot().initAs<wire::ThreadMap::MakeThreadParams>().setName(state.waiter->name);
      make_thread.Send();
      state.remote_thread =
          CapToken::Unwrap(make_thread.ResultsRoot().getAs<wire::ThreadMap::MakeThreadResults>().getResult());
    }
    thread = state.remote_thread;
  }
  if (!state.local_thread) state.local_thread = std::make_shared<LocalThreadServer>(state.waiter, false);
  auto params = call.getParams().getContent();
  auto pointers = caps.imbue(params).getAs<capnp::AnyStruct>().getPointerSection();
  if (static_cast<unsigned>(method.context_index) < pointers.size()) {
    auto context = pointers[method.context_index].initAs<wire::Context>();
    if (thread) context.setThread(CapToken::Wrap(thread).castAs<wire::Thread>());
    context.setCallbackThread(CapToken::Wrap(std::make_shared<LocalCap>(state.local_thread)).castAs<wire::Thread>());
  }
}

void ConnectionState::SendAndWait(UniqueLock& lock, Waiter& waiter, Question& question) {
  Flush();
  lock.lock(m_mutex);
  WaitLoop(lock, waiter, [&] { return question.done; });
  if (!question.done) {  // the connection closed before the question was registered as failed
    m_questions.erase(question.id);
    throw Disconnected(m_close_reason);
  }
}

uint32_t ConnectionState::AllocateQuestion(UniqueLock& lock, Question& question) {
  (void)lock;
  if (m_closed) throw Disconnected(m_close_reason);
  uint32_t id;
  do {
    id = m_next_question++;
  } while (m_questions.count(id) != 0);
  question.id = id;
  m_questions[id] = &question;
  return id;
}

uint32_t ConnectionState::RegisterQuestion(UniqueLock& lock, capnp::rpc::Call::Builder call,
                                           capnp::BuilderCapabilityTable& caps, Question& question) {
  uint32_t id = AllocateQuestion(lock, question);
  call.setQuestionId(id);
  try {
    question.param_exports = WriteCapTable(caps, call.getParams());
  } catch (...) {
    m_questions.erase(id);  // never sent
    throw;
  }
  return id;
}

void ConnectionState::LogCall(uint32_t id, const MethodInfo& method, const std::string& text) const {
  Log(LogLevel::kDebug, "call #" + std::to_string(id) + " " + method.interface_name + "." + method.method_name + text);
}

std::string ConnectionState::DescribeAnswer(const Question& question, const MethodInfo& method) const {
  if (!question.reply) return " failed: disconnected";
  auto ret = question.reply->reader.getRoot<capnp::rpc::Message>().getReturn();
  if (ret.isResults()) {
    return " returned " + FormatPayload(SchemaOf(method), method.method_id, true, question.reply->content);
  }
  if (ret.isException()) return std::string(" threw ") + ret.getException().getReason().cStr();
  return " ended";
}

void ConnectionState::Call(std::shared_ptr<capnp::MallocMessageBuilder> message, capnp::rpc::Call::Builder call,
                           capnp::BuilderCapabilityTable& caps, const MethodInfo& method, Question& question) {
  ThreadState& state = CurrentThreadState();
  FillContext(call, caps, method, state);
  UniqueLock lock(m_mutex);
  uint32_t id = RegisterQuestion(lock, call, caps, question);
  question.waiter = state.waiter.get();
  Queue(message);
  lock.unlock();
  if (m_options.debug_ipc) {
    LogCall(id, method,
            FormatPayload(SchemaOf(method), method.method_id, false,
                          caps.imbue(call.getParams().getContent()).asReader()) +
                " from " + state.waiter->name);
  }
  // Timed only for the debug log: reading the clock is not free on every machine.
  auto started = m_options.debug_ipc ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  SendAndWait(lock, *state.waiter, question);
  lock.unlock();
  if (m_options.debug_ipc) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    LogCall(id, method, DescribeAnswer(question, method) + " in " + std::to_string(micros.count()) + " us");
  }
  if (question.error) std::rethrow_exception(question.error);
  auto ret = question.reply->reader.getRoot<capnp::rpc::Message>().getReturn();
  FinishQuestion(id, CarriesCapabilities(ret));
}

void ConnectionState::CallAsync(std::shared_ptr<capnp::MallocMessageBuilder> message, capnp::rpc::Call::Builder call,
                                capnp::BuilderCapabilityTable& caps, const MethodInfo& method, Question& question) {
  ThreadState& state = CurrentThreadState();
  FillContext(call, caps, method, state);
  UniqueLock lock(m_mutex);
  uint32_t id = RegisterQuestion(lock, call, caps, question);
  ++m_async_outstanding;
  Queue(message);
  // Nobody waits on this question: make sure somebody reads its answer promptly.
  if (m_reader == nullptr && m_role_wanters.empty()) m_io_waiter->cv.notify_one();
  lock.unlock();
  if (m_options.debug_ipc) LogCall(id, method, " sent without waiting");
  if (t_batch.depth > 0) {
    if (std::find(t_batch.connections.begin(), t_batch.connections.end(), shared_from_this()) ==
        t_batch.connections.end()) {
      t_batch.connections.push_back(shared_from_this());
    }
    return;  // written when the batch ends
  }
  Flush();
}

void ConnectionState::FlushQueued() { Flush(); }

void ConnectionState::CancelQuestion(Question& question) {
  UniqueLock lock(m_mutex);
  auto it = m_questions.find(question.id);
  if (it == m_questions.end() || it->second != &question || question.done) return;
  // The question stays registered (its ID may not be reused) until the peer's Return, which is
  // then dropped; the caller learns of the cancellation now.
  question.canceled = true;
  question.done = true;
  question.error = std::make_exception_ptr(RemoteError(ErrorKind::kFailed, "", "canceled"));
  m_canceled_questions.emplace(question.id, nullptr);
  m_questions.erase(it);
  --m_async_outstanding;
  m_completions.push_back(question.on_done);
  question.on_done = nullptr;
  auto message = std::make_shared<capnp::MallocMessageBuilder>(16);
  auto finish = message->initRoot<capnp::rpc::Message>().initFinish();
  finish.setQuestionId(question.id);
  finish.setReleaseResultCaps(true);
  Queue(std::move(message));
  lock.unlock();
  Flush();
  lock.lock();
  RunCompletions(lock);
}

void ConnectionState::RunCompletions(UniqueLock& lock) {
  while (!m_completions.empty()) {
    auto completions = std::move(m_completions);
    m_completions.clear();
    lock.unlock(m_mutex);
    for (auto& completion : completions) {
      if (completion) completion();
    }
    completions.clear();
    lock.lock(m_mutex);
  }
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
