// Writing: frames queued in the outbox, written whole by whichever thread takes the writer role.
#include "runtime/connection_state.h"
#include "runtime/rpc_helpers.h"

namespace crossproc::detail {
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

}  // namespace crossproc::detail
