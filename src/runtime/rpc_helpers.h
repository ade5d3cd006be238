// Helpers shared by the runtime's files: the error for a peer that breaks the protocol, the text
// of calls for -debug=ipc, and per-thread state that batches writes.
#pragma once

#include "runtime/connection_state.h"

#include <capnp/schema.h>

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace crossproc::detail {

// The peer broke the protocol (an unknown question, a reused ID, a bad capability): the
// connection is aborted.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True if a Return hands capabilities over: its Finish is then written at once, so the peer can
// drop its references to them promptly.
bool CarriesCapabilities(capnp::rpc::Return::Reader ret);

// For -debug=ipc: a params or results struct in Cap'n Proto's text form, cut to a readable size.
std::string FormatPayload(std::optional<capnp::InterfaceSchema> schema, uint16_t method, bool results,
                          capnp::AnyPointer::Reader content);
// The interface schema of a method, when the generated code provided it.
std::optional<capnp::InterfaceSchema> SchemaOf(const MethodInfo& method);
// "<kind>: <type>: <message>" of an exception.
std::string DescribeError(std::exception_ptr error);

// The CapRefs of a message's capability table, by index.
std::vector<std::shared_ptr<CapRef>> CapRefsOf(capnp::BuilderCapabilityTable& caps);

// The SendBatch scopes open on this thread, and the connections with calls they hold back.
struct BatchState {
  int depth = 0;
  std::vector<std::shared_ptr<ConnectionState>> connections;
};
inline thread_local BatchState t_batch;

// While set, messages queued by this thread are written by a flush that follows shortly
// (used so that releases made while finishing a call leave in the same write as its Return).
inline thread_local bool t_defer_flush = false;

}  // namespace crossproc::detail
