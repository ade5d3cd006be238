// Outgoing messages whose large segments go into shared memory (sealed memfds) or come from the
// connection's pool, and the negotiation of that extension with the peer.
#include <crossproc/proxy.capnp.h>

#include "runtime/connection_state.h"
#include "runtime/rpc_helpers.h"

#include <cstring>

namespace crossproc::detail {
namespace {
// Segments at least this large come from the connection's pool when not in shared memory.
constexpr std::size_t kPooledSegmentBytes = 64u << 10;
}  // namespace

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

}  // namespace crossproc::detail
