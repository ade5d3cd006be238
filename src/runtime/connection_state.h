// The state of one RPC connection: tables of the Cap'n Proto RPC protocol and the
// leader/follower machinery that lets waiting threads read the socket themselves.
#pragma once

#include <crossproc/client.h>
#include <crossproc/connection.h>
#include <crossproc/errors.h>
#include <crossproc/server.h>

#include "runtime/native_thread.h"
#include "transport/framing.h"
#include "transport/shared_memory.h"
#include "transport/socket.h"

#include <capnp/capability.h>
#include <capnp/message.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace crossproc::detail {

class ConnectionState;
class LocalThreadServer;

// A capability as seen from this process.
class CapRef {
 public:
  virtual ~CapRef() = default;
  // The local object, for a capability this process hosts; nullptr for a remote one.
  virtual std::shared_ptr<ServerBase> local() const { return nullptr; }
};

// A capability this process hosts. Immutable.
class LocalCap final : public CapRef {
 public:
  explicit LocalCap(std::shared_ptr<ServerBase> server) : m_server(std::move(server)) {}
  std::shared_ptr<ServerBase> local() const override { return m_server; }

 private:
  std::shared_ptr<ServerBase> m_server;
};

// A capability the peer hosts (an entry of the import table). Releases it when destroyed.
class ImportedCap final : public CapRef {
 public:
  ImportedCap(std::shared_ptr<ConnectionState> connection, uint32_t id)
      : m_connection(std::move(connection)), m_id(id) {}
  ~ImportedCap() override;

  ConnectionState& connection() const { return *m_connection; }
  const std::shared_ptr<ConnectionState>& connection_ptr() const { return m_connection; }
  uint32_t id() const { return m_id; }

 private:
  friend class ConnectionState;
  std::shared_ptr<ConnectionState> m_connection;
  uint32_t m_id;
  uint32_t m_remote_refs = 0;  // times the peer sent it; guarded by the connection's mutex
};

// capnp::ClientHook has no virtual destructor (kj::Own disposes of it through its dynamic
// type), which -Wnon-virtual-dtor flags on every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
// Wraps a CapRef so that Cap'n Proto's generated accessors can store it in a message's
// capability table. Never called through: crossproc routes calls itself.
class CapToken final : public capnp::ClientHook, public kj::Refcounted {
 public:
  explicit CapToken(std::shared_ptr<CapRef> ref) : m_ref(std::move(ref)) {}

  static capnp::Capability::Client Wrap(std::shared_ptr<CapRef> ref);
  // The CapRef behind a client read from a message; nullptr for a null capability.
  static std::shared_ptr<CapRef> Unwrap(capnp::Capability::Client client);

  capnp::Request<capnp::AnyPointer, capnp::AnyPointer> newCall(
      uint64_t interface_id, uint16_t method_id, kj::Maybe<capnp::MessageSize> size_hint) override;
  VoidPromiseAndPipeline call(uint64_t interface_id, uint16_t method_id,
                              kj::Own<capnp::CallContextHook>&& context) override;
  kj::Maybe<capnp::ClientHook&> getResolved() override { return nullptr; }
  kj::Maybe<kj::Promise<kj::Own<capnp::ClientHook>>> whenMoreResolved() override { return nullptr; }
  kj::Own<capnp::ClientHook> addRef() override { return kj::addRef(*this); }
  const void* getBrand() override;
  kj::Maybe<int> getFd() override { return nullptr; }

  const std::shared_ptr<CapRef>& ref() const { return m_ref; }

 private:
  std::shared_ptr<CapRef> m_ref;
};
#pragma GCC diagnostic pop

// A message received from the peer, with the capabilities of its payload imported.
struct ReceivedMessage {
  explicit ReceivedMessage(transport::Frame received, const capnp::ReaderOptions& options)
      : frame(std::move(received)),
        reader(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>>(frame.segments.data(), frame.segments.size()),
               options) {}

  transport::Frame frame;
  capnp::SegmentArrayMessageReader reader;
  std::unique_ptr<capnp::ReaderCapabilityTable> caps;
  capnp::AnyPointer::Reader content;  // the payload's content, able to read capabilities
};

// The segments of an OutgoingBuilder that live in shared memory. A base class of it, so that
// they outlive the message builder proper, which is destroyed first.
class SharedSegments {
 protected:
  ~SharedSegments() {
    if (m_pool && m_pooled != nullptr) m_pool->Give(kj::mv(m_pooled));
  }
  std::vector<std::unique_ptr<transport::SharedSegment>> m_shared;
  // A large segment in ordinary memory, taken from the connection's pool and given back.
  std::shared_ptr<transport::BufferPool> m_pool;
  kj::Array<capnp::word> m_pooled;
};

// A message being built for a connection whose peer reads shared-memory segments: any segment
// of at least `shared_threshold` bytes (one large Data or list, typically) is allocated in a
// memfd, so that writing the message passes a descriptor instead of copying the bytes through
// the socket. With a threshold of 0 it is a plain MallocMessageBuilder. Used by one thread at
// a time.
class OutgoingBuilder final : private SharedSegments, public capnp::MallocMessageBuilder {
 public:
  OutgoingBuilder(std::size_t shared_threshold, std::shared_ptr<transport::BufferPool> pool)
      : m_shared_threshold(shared_threshold) {
    m_pool = std::move(pool);
  }
  kj::ArrayPtr<capnp::word> allocateSegment(unsigned minimum_words) override;
  // Seals the shared segments (their bytes can no longer change) and returns, per segment of
  // `segments`, its memfd or -1. Empty if the message has no shared segment.
  std::vector<int> PrepareShared(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments);

 private:
  std::size_t m_shared_threshold;
};


// Work addressed to one thread.
struct Work {
  std::shared_ptr<ServerBase> server;   // target of a call
  std::unique_ptr<ReceivedMessage> message;  // the Call
  uint32_t answer_id = 0;
  std::shared_ptr<CapRef> callback_thread;   // where callbacks made while serving it go
  std::shared_ptr<std::atomic<bool>> canceled;  // set when the caller sends Finish early
  std::shared_ptr<void> drop;                // otherwise: something to destroy on this thread
};

// A thread that waits on a connection: a caller blocked in a call, a mapped server thread, a
// pool thread or the connection's event-loop thread. All fields are guarded by the
// connection's mutex.
struct Waiter {
  explicit Waiter(std::string thread_name) : name(std::move(thread_name)) {}
  std::string name;
  std::condition_variable cv;
  std::deque<Work> inbox;
  bool wants_role = false;
  bool stop = false;    // a server thread must end
  bool alive = true;    // the thread still exists
  bool busy = false;    // running work (pool routing)
};

// An outgoing request waiting for its Return.
struct Question {
  uint32_t id = 0;
  Waiter* waiter = nullptr;            // the thread blocked on it, for a synchronous call
  std::function<void()> on_done;        // run once answered, for an asynchronous call
  bool done = false;
  bool canceled = false;
  std::unique_ptr<ReceivedMessage> reply;
  std::exception_ptr error;
  std::vector<uint32_t> param_exports;  // released if the Return says releaseParamCaps
};

// An incoming request: kept from its Call until the peer's Finish.
struct Answer {
  bool returned = false;
  bool counted = false;  // counts towards max_calls_in_flight until returned
  bool finished = false;
  std::shared_ptr<std::atomic<bool>> canceled = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<capnp::MallocMessageBuilder> results;  // for pipelined calls
  capnp::AnyPointer::Builder content = nullptr;           // results content in `results`
  std::vector<std::shared_ptr<CapRef>> result_caps;       // its capability table
  std::exception_ptr error;                                // the call failed
  std::vector<std::unique_ptr<ReceivedMessage>> pipelined;  // calls waiting for the results
  std::vector<uint32_t> result_exports;  // released if the Finish says releaseResultCaps
};

// One entry of the export table.
struct Export {
  std::shared_ptr<ServerBase> server;
  uint32_t refs = 0;
};

// Per (thread, connection) state of a thread that makes calls or serves callbacks.
struct ThreadState {
  std::shared_ptr<Waiter> waiter;
  std::shared_ptr<CapRef> remote_thread;          // the peer's thread mapped to this one
  std::shared_ptr<LocalThreadServer> local_thread;  // our Thread object standing for this one
};

// The connection proper. Thread-safe; the fields marked CROSSPROC_GUARDED_BY(m_mutex) are checked
// by clang's thread-safety analysis. The objects its tables point to (Waiter, Question, Answer,
// ImportedCap::m_remote_refs) are guarded by the same mutex, which the analysis cannot express
// for a separate struct: touch them only with mutex() held.
class ConnectionState : public std::enable_shared_from_this<ConnectionState> {
 public:
  ConnectionState(transport::UniqueFd fd, std::shared_ptr<ServerBase> init, ConnectionOptions options);
  ~ConnectionState();
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;

  // Starts the event-loop thread. Called once, right after construction.
  void Start();
  // Closes the socket, fails pending calls, joins this connection's threads.
  void Close() CROSSPROC_EXCLUDES(m_mutex);
  void WaitForDisconnect() CROSSPROC_EXCLUDES(m_mutex);
  void WaitForInitRelease() CROSSPROC_EXCLUDES(m_mutex);
  bool closed() CROSSPROC_EXCLUDES(m_mutex);
  uint64_t id() const { return m_id; }
  const ConnectionOptions& options() const { return m_options; }
  void Log(LogLevel level, const std::string& line) const;

  // Client side.
  std::shared_ptr<CapRef> Bootstrap() CROSSPROC_EXCLUDES(m_mutex);
  // Sends `message` (a Call built by `call`) and waits for its Return on this thread.
  void Call(std::shared_ptr<capnp::MallocMessageBuilder> message, capnp::rpc::Call::Builder call,
            capnp::BuilderCapabilityTable& caps, const MethodInfo& method, Question& question) CROSSPROC_EXCLUDES(m_mutex);
  // Sends it without waiting: question.on_done runs, outside the lock, once the Return (or the
  // end of the connection) has arrived, on the thread that read it.
  void CallAsync(std::shared_ptr<capnp::MallocMessageBuilder> message, capnp::rpc::Call::Builder call,
                 capnp::BuilderCapabilityTable& caps, const MethodInfo& method, Question& question) CROSSPROC_EXCLUDES(m_mutex);
  // Writes what is queued (the calls a SendBatch held back).
  void FlushQueued() CROSSPROC_EXCLUDES(m_mutex);
  // Tells the peer an asynchronous question's answer is no longer wanted (Finish before Return).
  void CancelQuestion(Question& question) CROSSPROC_EXCLUDES(m_mutex);
  void LogCall(uint32_t id, const MethodInfo& method, const std::string& text) const;
  std::string DescribeAnswer(const Question& question, const MethodInfo& method) const;
  // Queues the Finish of a question whose Return was handled; writes it now if `flush_now`.
  void FinishQuestion(uint32_t question_id, bool flush_now) CROSSPROC_EXCLUDES(m_mutex);
  void SetPeerThreadMap(std::shared_ptr<CapRef> thread_map) CROSSPROC_EXCLUDES(m_mutex);
  std::shared_ptr<CapRef> ThreadMapCap();
  ThreadState& CurrentThreadState();

  // Called by ImportedCap's destructor.
  void ReleaseImport(ImportedCap& cap) CROSSPROC_EXCLUDES(m_mutex);

  // Server threads made by ThreadMap.makeThread / makePool.
  std::shared_ptr<LocalThreadServer> MakeServerThread(const std::string& name, bool pool) CROSSPROC_EXCLUDES(m_mutex);

  // Turns the capability table of a message being built into descriptors; exports local
  // objects. Returns the export IDs it added references to.
  std::vector<uint32_t> WriteCapTable(capnp::BuilderCapabilityTable& caps,
                                      capnp::rpc::Payload::Builder payload) CROSSPROC_REQUIRES(m_mutex);

  // Leader/follower wait: serves work addressed to `waiter` and reads the socket when nobody
  // else does, until `done()` holds or the connection closes.
  template <typename Done>
  void WaitLoop(UniqueLock& lock, Waiter& waiter, Done&& done) CROSSPROC_REQUIRES(m_mutex);

  Mutex& mutex() CROSSPROC_RETURN_CAPABILITY(m_mutex) { return m_mutex; }

  // Optional features of the transport (crossproc's extension, negotiated through the peer's
  // ThreadMap; see docs/design.md). Bits of what this side can receive:
  static constexpr uint64_t kSharedSegments = 1;
  // What this side can receive.
  uint64_t ReceivableExtensions() const { return m_receive_shared ? kSharedSegments : 0; }
  // Records what the peer said it can receive.
  void SetPeerExtensions(uint64_t extensions) { m_peer_reads_shared = (extensions & kSharedSegments) != 0; }
  // Asks the peer's ThreadMap which extensions it reads (after construct, client side); a peer
  // without them (libmultiprocess, kj) answers unimplemented and nothing changes.
  void NegotiateExtensions() CROSSPROC_EXCLUDES(m_mutex);
  // Threshold for shared segments in messages to the peer; 0 while the peer does not read them.
  std::size_t SharedThreshold() const {
    return m_peer_reads_shared.load(std::memory_order_relaxed) ? m_options.shared_memory_threshold : 0;
  }
  // A new message to the peer: large segments in shared memory or from the connection's pool.
  std::shared_ptr<capnp::MallocMessageBuilder> NewMessage() {
    return std::make_shared<OutgoingBuilder>(SharedThreshold(), m_segment_pool);
  }

 private:
  friend class ImportedCap;

  void IoThreadMain() CROSSPROC_EXCLUDES(m_mutex);
  void ServerThreadMain(std::shared_ptr<LocalThreadServer> thread) CROSSPROC_EXCLUDES(m_mutex);
  void ReadAsReader(UniqueLock& lock, Waiter& self) CROSSPROC_REQUIRES(m_mutex);
  // Called by a thread giving the reader role up: wakes a thread that wants it.
  void HandOffRole(UniqueLock& lock, const Waiter& self) CROSSPROC_REQUIRES(m_mutex);
  void RunWork(UniqueLock& lock, Waiter& self) CROSSPROC_REQUIRES(m_mutex);
  // Runs one incoming call on `self` (the thread it was addressed to) and sends its answer.
  void ExecuteCall(Work& work, Waiter& self) CROSSPROC_EXCLUDES(m_mutex);
  void Disconnect(UniqueLock& lock, const std::string& reason) CROSSPROC_REQUIRES(m_mutex);
  void FillContext(capnp::rpc::Call::Builder call, capnp::BuilderCapabilityTable& caps, const MethodInfo& method,
                   ThreadState& state) CROSSPROC_EXCLUDES(m_mutex);
  // Writes what is queued, then waits on this thread for `question`'s answer; returns with the
  // lock held (it is not held on entry). Throws Disconnected if the connection ends first.
  void SendAndWait(UniqueLock& lock, Waiter& waiter, Question& question) CROSSPROC_ACQUIRE(m_mutex);
  // Picks a free question ID and registers `question` under it (throws Disconnected if closed).
  uint32_t AllocateQuestion(UniqueLock& lock, Question& question) CROSSPROC_REQUIRES(m_mutex);
  // AllocateQuestion for a Call, and the capabilities of its params.
  uint32_t RegisterQuestion(UniqueLock& lock, capnp::rpc::Call::Builder call,
                            capnp::BuilderCapabilityTable& caps, Question& question) CROSSPROC_REQUIRES(m_mutex);
  // Runs queued completions of asynchronous calls, releasing the lock meanwhile.
  void RunCompletions(UniqueLock& lock) CROSSPROC_REQUIRES(m_mutex);
  // Keeps something that may own capabilities until the lock is released.
  void Defer(std::shared_ptr<void> thing) CROSSPROC_REQUIRES(m_mutex) { m_deferred.push_back(std::move(thing)); }
  // Tells the peer why (Abort) and closes: for protocol violations.
  void AbortConnection(UniqueLock& lock, const std::string& reason) CROSSPROC_REQUIRES(m_mutex);

  // Handling of received messages; the reader holds m_mutex.
  void Dispatch(UniqueLock& lock, Waiter& self, transport::Frame frame) CROSSPROC_REQUIRES(m_mutex);
  void HandleCall(Waiter& self, std::unique_ptr<ReceivedMessage>& message) CROSSPROC_REQUIRES(m_mutex);
  void RouteCall(Waiter& self, std::shared_ptr<ServerBase> server, std::unique_ptr<ReceivedMessage>& message) CROSSPROC_REQUIRES(m_mutex);
  void HandleReturn(Waiter& self, std::unique_ptr<ReceivedMessage>& message) CROSSPROC_REQUIRES(m_mutex);
  void HandleFinish(capnp::rpc::Finish::Reader finish) CROSSPROC_REQUIRES(m_mutex);
  void HandleBootstrap(capnp::rpc::Bootstrap::Reader bootstrap) CROSSPROC_REQUIRES(m_mutex);
  void HandleRelease(capnp::rpc::Release::Reader release) CROSSPROC_REQUIRES(m_mutex);
  void HandleDisembargo(capnp::rpc::Disembargo::Reader disembargo) CROSSPROC_REQUIRES(m_mutex);
  void HandleResolve(capnp::rpc::Resolve::Reader resolve) CROSSPROC_REQUIRES(m_mutex);
  void ReplyUnimplemented(const capnp::rpc::Message::Reader& message) CROSSPROC_REQUIRES(m_mutex);
  // Reads the payload's capability table into the message (imports, own exports).
  void ImportCaps(ReceivedMessage& message, capnp::rpc::Payload::Reader payload) CROSSPROC_REQUIRES(m_mutex);
  std::shared_ptr<CapRef> ResolvePromisedAnswer(capnp::rpc::PromisedAnswer::Reader promised) CROSSPROC_REQUIRES(m_mutex);
  void ReleaseExport(uint32_t id, uint32_t count) CROSSPROC_REQUIRES(m_mutex);
  void CompleteAnswer(uint32_t answer_id, std::shared_ptr<capnp::MallocMessageBuilder> results,
                      capnp::AnyPointer::Builder content, std::vector<std::shared_ptr<CapRef>> caps,
                      std::exception_ptr error, std::vector<uint32_t> exports) CROSSPROC_REQUIRES(m_mutex);
  void SendException(uint32_t answer_id, ErrorKind kind, const std::string& reason) CROSSPROC_REQUIRES(m_mutex);
  // Answers a call at once with an exception and marks its answer returned.
  void RefuseCall(uint32_t answer_id, ErrorKind kind, const std::string& reason) CROSSPROC_REQUIRES(m_mutex);
  // Marks an answer returned; it no longer counts towards max_calls_in_flight.
  void MarkReturned(Answer& answer) CROSSPROC_REQUIRES(m_mutex);
  Waiter& PickPoolWaiter() CROSSPROC_REQUIRES(m_mutex);
  void KeepThreadImport(const std::shared_ptr<CapRef>& thread) CROSSPROC_REQUIRES(m_mutex);

  // Outgoing messages: queued, then written by whichever thread holds the write role. A
  // `deferrable` message (a Finish) does not need to leave at once: it waits for the next
  // message that does, or for the event-loop thread (see FlushesDeferred).
  void Queue(std::shared_ptr<capnp::MallocMessageBuilder> message, bool deferrable = false)
      CROSSPROC_REQUIRES(m_mutex);
  void Flush() CROSSPROC_EXCLUDES(m_mutex);
  // True if the event-loop thread, about to read, should write the outbox first: it holds a
  // message that must leave now, or the read may block (no whole frame is buffered).
  bool OutboxDueBeforeRead() const CROSSPROC_REQUIRES(m_mutex);
  // True if a whole frame is buffered, so that reading it needs no system call. Called with
  // m_mutex held and the reader role free.
  bool BufferedFrame() const CROSSPROC_REQUIRES(m_mutex);

  const uint64_t m_id;
  const ConnectionOptions m_options;
  const capnp::ReaderOptions m_reader_options;
  transport::UniqueFd m_fd;
  const bool m_receive_shared;                  // a unix socket, and shared segments not disabled
  std::atomic<bool> m_peer_reads_shared{false};  // not guarded: set once, read by any thread
  // Large segments of outgoing messages, reused (thread-safe; shared with messages in flight).
  std::shared_ptr<transport::BufferPool> m_segment_pool = std::make_shared<transport::BufferPool>();
  std::shared_ptr<ServerBase> m_init;
  std::shared_ptr<ServerBase> m_thread_map;  // our ThreadMap, handed to the peer by construct

  Mutex m_mutex;
  bool m_closed CROSSPROC_GUARDED_BY(m_mutex) = false;
  std::string m_close_reason CROSSPROC_GUARDED_BY(m_mutex);
  std::condition_variable m_closed_cv;  // also signals m_init_released
  bool m_init_released CROSSPROC_GUARDED_BY(m_mutex) = false;

  // Reader role: at most one thread reads the socket; only it touches m_frames (with or
  // without m_mutex: the role, not the lock, protects it).
  Waiter* m_reader CROSSPROC_GUARDED_BY(m_mutex) = nullptr;
  std::deque<Waiter*> m_role_wanters CROSSPROC_GUARDED_BY(m_mutex);
  transport::FrameReader m_frames;
  uint64_t m_reads CROSSPROC_GUARDED_BY(m_mutex) = 0;  // frames read (or reads failed) so far
  std::chrono::steady_clock::time_point m_last_release CROSSPROC_GUARDED_BY(m_mutex);
  const std::shared_ptr<Waiter> m_io_waiter;  // the event-loop thread's; set once, by the constructor
  bool m_io_untimed CROSSPROC_GUARDED_BY(m_mutex) = false;
  NativeThread m_io_thread;

  // Writing: whole frames, from m_outbox, by the one thread that set m_writing.
  std::vector<std::shared_ptr<capnp::MallocMessageBuilder>> m_outbox CROSSPROC_GUARDED_BY(m_mutex);
  bool m_writing CROSSPROC_GUARDED_BY(m_mutex) = false;
  bool m_outbox_urgent CROSSPROC_GUARDED_BY(m_mutex) = false;    // m_outbox holds a message that is not deferrable
  bool m_flush_requested CROSSPROC_GUARDED_BY(m_mutex) = false;  // the event-loop thread should write the outbox
  bool m_write_failed CROSSPROC_GUARDED_BY(m_mutex) = false;

  // RPC tables.
  std::unordered_map<uint32_t, Question*> m_questions CROSSPROC_GUARDED_BY(m_mutex);
  std::unordered_map<uint32_t, std::nullptr_t> m_canceled_questions CROSSPROC_GUARDED_BY(m_mutex);  // Finish sent, Return awaited
  std::size_t m_async_outstanding CROSSPROC_GUARDED_BY(m_mutex) = 0;
  std::vector<std::function<void()>> m_completions CROSSPROC_GUARDED_BY(m_mutex);
  std::vector<std::shared_ptr<void>> m_deferred CROSSPROC_GUARDED_BY(m_mutex);
  uint32_t m_next_question CROSSPROC_GUARDED_BY(m_mutex) = 0;
  std::unordered_map<uint32_t, Answer> m_answers CROSSPROC_GUARDED_BY(m_mutex);
  std::size_t m_calls_in_flight CROSSPROC_GUARDED_BY(m_mutex) = 0;  // answers with `counted` set
  std::unordered_map<uint32_t, Export> m_exports CROSSPROC_GUARDED_BY(m_mutex);
  std::unordered_map<const ServerBase*, uint32_t> m_export_ids CROSSPROC_GUARDED_BY(m_mutex);
  std::vector<uint32_t> m_free_export_ids CROSSPROC_GUARDED_BY(m_mutex);
  uint32_t m_next_export CROSSPROC_GUARDED_BY(m_mutex) = 0;
  std::unordered_map<uint32_t, std::weak_ptr<ImportedCap>> m_imports CROSSPROC_GUARDED_BY(m_mutex);
  std::shared_ptr<CapRef> m_peer_thread_map CROSSPROC_GUARDED_BY(m_mutex);
  std::deque<std::shared_ptr<CapRef>> m_kept_thread_imports CROSSPROC_GUARDED_BY(m_mutex);  // recent callback-thread handles

  // Threads this connection started (mapped and pool threads), joined by Close.
  std::vector<NativeThread> m_threads CROSSPROC_GUARDED_BY(m_mutex);
  std::vector<std::shared_ptr<Waiter>> m_pool CROSSPROC_GUARDED_BY(m_mutex);
  std::size_t m_pool_next CROSSPROC_GUARDED_BY(m_mutex) = 0;
};

// Thread-local record of the call a thread is serving, so that calls it makes back to the
// same connection run on the caller's waiting thread.
struct IncomingScope {
  uint64_t connection_id;
  std::shared_ptr<CapRef> callback_thread;
  IncomingScope* previous;
  std::atomic<bool>* canceled = nullptr;
};
IncomingScope*& CurrentIncoming();

// A Thread object this process exports: a mapped server thread, a pool thread, or a calling
// thread that serves callbacks while it waits.
class LocalThreadServer final : public ServerBase {
 public:
  LocalThreadServer(std::shared_ptr<Waiter> waiter, bool server_thread)
      : m_waiter(std::move(waiter)), m_server_thread(server_thread) {}
  uint64_t InterfaceId() const override;
  const char* InterfaceName() const override { return "Thread"; }
  const char* MethodName(uint16_t method) const override;
  int ContextIndex(uint16_t) const override { return -1; }
  void Dispatch(IncomingCall& call) override;

  const std::shared_ptr<Waiter>& waiter() const { return m_waiter; }
  bool server_thread() const { return m_server_thread; }

 private:
  std::shared_ptr<Waiter> m_waiter;
  bool m_server_thread;
};

// This process's ThreadMap, handed to the peer by the construct convention.
class ThreadMapServer final : public ServerBase {
 public:
  explicit ThreadMapServer(std::weak_ptr<ConnectionState> connection)
      : m_connection(std::move(connection)) {}
  uint64_t InterfaceId() const override;
  const char* InterfaceName() const override { return "ThreadMap"; }
  const char* MethodName(uint16_t method) const override;
  int ContextIndex(uint16_t) const override { return -1; }
  void Dispatch(IncomingCall& call) override;

 private:
  std::weak_ptr<ConnectionState> m_connection;
};

// Name of the calling thread as the OS knows it ("thread-<tid>" if unnamed).
std::string CurrentThreadName();
void SetCurrentThreadName(const std::string& name);

// Error helpers shared by the runtime.
void FillException(capnp::rpc::Exception::Builder builder, ErrorKind kind, const std::string& reason);
RemoteError ErrorFromException(capnp::rpc::Exception::Reader exception);
// Describes the exception in flight as (kind, "<type>: <message>").
std::pair<ErrorKind, std::string> DescribeCurrentException();

// Tests only: runs in the window where a reader has written its outbox and has not yet taken
// the lock back, to make races there likely. Never set in production code.
inline void (*g_test_hook_after_flush_before_read)() = nullptr;

template <typename Done>
void ConnectionState::WaitLoop(UniqueLock& lock, Waiter& waiter, Done&& done) {
  while (!done()) {
    if (!waiter.inbox.empty()) {
      RunWork(lock, waiter);
      continue;
    }
    if (m_closed || waiter.stop) break;
    if (m_reader == nullptr) {
      ReadAsReader(lock, waiter);
      continue;
    }
    waiter.wants_role = true;
    m_role_wanters.push_back(&waiter);
    waiter.cv.wait(lock.native());
    if (waiter.wants_role) {
      waiter.wants_role = false;
      std::erase(m_role_wanters, &waiter);
    }
  }
  HandOffRole(lock, waiter);
}

}  // namespace crossproc::detail
