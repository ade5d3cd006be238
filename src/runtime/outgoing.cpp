// Outgoing requests: questions registered, sent and waited for (or completed asynchronously),
// and their Finish messages.
#include <crossproc/proxy.capnp.h>

#include "runtime/connection_state.h"
#include "runtime/rpc_helpers.h"

namespace crossproc::detail {
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

}  // namespace crossproc::detail
