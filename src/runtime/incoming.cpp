// Received messages: calls routed to their threads and answered, returns handed to the waiting
// callers, and the protocol's bookkeeping messages (Finish, Release, Bootstrap, ...).
#include <crossproc/proxy.capnp.h>

#include "runtime/connection_state.h"
#include "runtime/rpc_helpers.h"
#include "runtime/message_codec.h"

namespace crossproc::detail {
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

}  // namespace crossproc::detail
