// The untyped call object behind generated proxies (OutgoingCall) and ClientBase's destroy call:
// what crossproc/client.h declares.
#include <crossproc/client.h>
#include <crossproc/errors.h>

#include "runtime/connection_state.h"
#include "runtime/message_codec.h"
#include "runtime/rpc_helpers.h"

namespace crossproc::detail {

class OutgoingCallState {
  static std::shared_ptr<capnp::MallocMessageBuilder> MessageFor(const std::shared_ptr<CapRef>& target) {
    auto* imported = dynamic_cast<ImportedCap*>(target.get());
    if (!imported) return std::make_shared<capnp::MallocMessageBuilder>();
    return imported->connection().NewMessage();
  }

 public:
  OutgoingCallState(const std::shared_ptr<CapRef>& target_ref, const MethodInfo& method_info)
      : target(target_ref),
        method(method_info),
        message(MessageFor(target_ref)),
        encoder(message->getOrphanage()) {
    if (!target) throw RemoteError(ErrorKind::kFailed, "", std::string("call on a null ") + method.interface_name);
    auto rpc_call = message->initRoot<capnp::rpc::Message>().initCall();
    rpc_call.setInterfaceId(method.interface_id);
    rpc_call.setMethodId(method.method_id);
    if (auto* imported = dynamic_cast<ImportedCap*>(target.get())) {
      rpc_call.initTarget().setImportedCap(imported->id());
    }
    call = rpc_call;
    params = caps.imbue(rpc_call.initParams().getContent());
  }

  void Send() {
    if (auto server = target->local()) {
      SendLocal(*server);
      return;
    }
    auto* imported = static_cast<ImportedCap*>(target.get());
    ConnectionState& connection = imported->connection();
    connection.Call(message, call, caps, method, question);
    auto ret = question.reply->reader.getRoot<capnp::rpc::Message>().getReturn();
    if (ret.isException()) throw ErrorFromException(ret.getException());
    if (!ret.isResults()) throw RemoteError(ErrorKind::kFailed, "", "unexpected kind of Return");
    results = question.reply->content;
  }

  void SendAsync(std::function<void(std::exception_ptr)> callback) {
    if (target->local()) {
      // Local objects answer at once, on this thread.
      std::exception_ptr error;
      try {
        Send();
      } catch (...) {
        error = std::current_exception();
      }
      callback(error);
      return;
    }
    done = std::move(callback);
    question.on_done = [this] { OnAnswer(); };
    auto* imported = static_cast<ImportedCap*>(target.get());
    try {
      imported->connection().CallAsync(message, call, caps, method, question);
    } catch (...) {
      question.on_done = nullptr;
      auto callback_now = std::move(done);
      callback_now(std::current_exception());
    }
  }

  // Runs once, outside the connection's lock, when the asynchronous call is answered.
  void OnAnswer() {
    std::exception_ptr error = question.error;
    auto& connection = static_cast<ImportedCap*>(target.get())->connection();
    if (!error && question.reply) {
      auto ret = question.reply->reader.getRoot<capnp::rpc::Message>().getReturn();
      connection.FinishQuestion(question.id, CarriesCapabilities(ret));
      if (ret.isException()) {
        error = std::make_exception_ptr(ErrorFromException(ret.getException()));
      } else if (!ret.isResults()) {
        error = std::make_exception_ptr(RemoteError(ErrorKind::kFailed, "", "unexpected kind of Return"));
      } else {
        results = question.reply->content;
      }
      if (connection.options().debug_ipc) connection.LogCall(question.id, method, DescribeAnswerLater());
    }
    auto callback = std::move(done);
    done = nullptr;
    if (callback) callback(error);
  }

  void Cancel() {
    if (auto* imported = dynamic_cast<ImportedCap*>(target.get())) imported->connection().CancelQuestion(question);
  }

  std::string DescribeAnswerLater() {
    return static_cast<ImportedCap*>(target.get())->connection().DescribeAnswer(question, method);
  }

  // A capability of this process that came back: call the object directly, through the same
  // encoding, on this thread.
  void SendLocal(ServerBase& server) {
    if (method.interface_id != server.InterfaceId()) {
      throw RemoteError(ErrorKind::kUnimplemented, "", "object does not implement the requested interface");
    }
    local_results = std::make_unique<capnp::MallocMessageBuilder>();
    auto content = local_caps.imbue(local_results->getRoot<capnp::AnyPointer>());
    IncomingCallImpl incoming(nullptr, method.method_id, params.asReader(), content, local_results->getOrphanage());
    server.Dispatch(incoming);
    results = content.asReader();
  }

  std::shared_ptr<CapRef> target;
  const MethodInfo& method;
  std::shared_ptr<capnp::MallocMessageBuilder> message;
  capnp::rpc::Call::Builder call = nullptr;
  capnp::BuilderCapabilityTable caps;
  capnp::AnyPointer::Builder params = nullptr;
  MessageEncoder encoder;
  Question question;
  capnp::AnyPointer::Reader results;
  MessageDecoder decoder;
  std::unique_ptr<capnp::MallocMessageBuilder> local_results;
  capnp::BuilderCapabilityTable local_caps;
  std::function<void(std::exception_ptr)> done;
};

OutgoingCall::OutgoingCall(const std::shared_ptr<CapRef>& target, const MethodInfo& method)
    : m_state(std::make_unique<OutgoingCallState>(target, method)) {}
OutgoingCall::~OutgoingCall() = default;
capnp::AnyPointer::Builder OutgoingCall::ParamsRoot() { return m_state->params; }
Encoder& OutgoingCall::encoder() { return m_state->encoder; }
void OutgoingCall::Send() { m_state->Send(); }
void OutgoingCall::SendAsync(std::function<void(std::exception_ptr)> done) { m_state->SendAsync(std::move(done)); }
void OutgoingCall::Cancel() { m_state->Cancel(); }
capnp::AnyPointer::Reader OutgoingCall::ResultsRoot() { return m_state->results; }
Decoder& OutgoingCall::decoder() { return m_state->decoder; }

}  // namespace crossproc::detail

namespace crossproc {

void ClientBase::CallDestroy(const detail::MethodInfo& destroy_method) noexcept {
  if (!m_owns_object) return;
  try {
    detail::OutgoingCall call(m_ref, destroy_method);
    call.ParamsRoot().initAsAnyStruct(0, 1);
    call.Send();
  } catch (...) {
    // The peer is gone or the object already destroyed: nothing left to destroy.
  }
}

}  // namespace crossproc
