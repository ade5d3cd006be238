// The miner's loop, nonce grinding on a worker pool, and its key file.
#include "miner/miner.h"

#include "crypto/key.h"
#include "primitives/hash.h"
#include "primitives/serialize.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace minicoin {
namespace {

constexpr std::size_t kTimeOffset = 68;   // of BlockHeader::time in the encoded header
constexpr std::size_t kNonceOffset = 76;  // of BlockHeader::nonce
constexpr uint32_t kPollEvery = 4096;     // hashes between two looks at abandon()
// The follower's waitNext calls last at most this long, so it notices Stop() even without
// an interrupt reaching the node.
constexpr uint64_t kFollowTimeoutMs = 2000;

void PutU32(std::vector<uint8_t>& bytes, std::size_t offset, uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

std::string ToHexBytes(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : bytes) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 15];
  }
  return hex;
}

std::optional<std::vector<uint8_t>> FromHexBytes(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> bytes;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int high = digit(hex[i]);
    int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<uint8_t>(high * 16 + low));
  }
  return bytes;
}

}  // namespace

std::optional<Solution> GrindHeader(const BlockHeader& header, crossproc::WorkerPool& pool,
                                    const std::function<bool()>& abandon) {
  std::optional<Uint256> target = TargetFromBits(header.bits);
  if (!target || target->IsZero()) return std::nullopt;
  Writer writer;
  header.Serialize(writer);
  const std::vector<uint8_t> encoded = writer.Take();
  const std::size_t lanes = std::max<std::size_t>(1, pool.thread_count());

  std::atomic<bool> done{false};
  std::mutex mutex;
  std::optional<Solution> found;
  for (uint32_t time = header.time;; ++time) {
    pool.ParallelFor(0, lanes, [&](std::size_t lane) {
      std::vector<uint8_t> bytes = encoded;
      PutU32(bytes, kTimeOffset, time);
      uint32_t count = 0;
      // Lane `lane` tries the nonces congruent to it modulo `lanes`.
      for (uint64_t nonce = lane; nonce <= 0xffffffffu; nonce += lanes) {
        if (++count == kPollEvery) {
          count = 0;
          if (done.load(std::memory_order_relaxed) || abandon()) {
            done = true;
            return;
          }
        }
        PutU32(bytes, kNonceOffset, static_cast<uint32_t>(nonce));
        if (!(*target < Sha256d(bytes))) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!found) found = Solution{time, static_cast<uint32_t>(nonce)};
          done = true;
          return;
        }
      }
    }, 1).Wait();
    if (found) return found;
    if (done) return std::nullopt;  // abandoned
  }
}

Miner::Miner(ipc::Mining& mining, crossproc::WorkerPool& pool, MinerOptions options,
             std::function<void(const MinedBlock&)> on_block)
    : m_mining(mining), m_pool(pool), m_options(options), m_on_block(std::move(on_block)) {}

Miner::~Miner() = default;

void Miner::Stop() {
  m_stop = true;
  m_new_work.notify_all();
  // Releases the follower's waitNext (and any other wait of this client) on the node.
  try {
    m_mining.interrupt();
  } catch (const std::exception&) {
    // The node is gone: Run() sees the same error on its next call.
  }
}

void Miner::Follow(std::shared_ptr<ipc::BlockTemplate> watching) {
  try {
    while (!m_stop) {
      bool interrupted = false;
      std::unique_ptr<ipc::BlockTemplate> next =
          watching->waitNext(ipc::BlockWaitOptions{kFollowTimeoutMs, m_options.fee_threshold}, interrupted);
      if (interrupted) break;
      if (!next) continue;
      watching = std::shared_ptr<ipc::BlockTemplate>(std::move(next));
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_latest = watching;
        m_generation_seen = ++m_generation;
      }
      m_new_work.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_follow_error = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_follow_done = true;
  }
  m_new_work.notify_all();
}

uint64_t Miner::Run() {
  ipc::BlockCreateOptions create;
  create.payoutKey.assign(m_options.payout.begin(), m_options.payout.end());
  create.maxBlockBytes = m_options.max_block_bytes;
  std::shared_ptr<ipc::BlockTemplate> first(m_mining.createNewBlock(create));
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_latest = first;
  }
  std::thread follower([this, first] { Follow(first); });
  first.reset();

  uint64_t accepted = 0;
  std::exception_ptr error;
  try {
    uint64_t generation = 0;
    std::shared_ptr<ipc::BlockTemplate> work;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      work = m_latest;
    }
    BlockHeader header;
    {
      std::vector<uint8_t> bytes = work->getBlockHeader();
      Reader reader(bytes);
      header = BlockHeader::Deserialize(reader);
    }
    uint32_t height = work->getCoinbaseTx().height;
    while (!m_stop && (m_options.blocks == 0 || accepted < m_options.blocks)) {
      std::optional<Solution> solution = GrindHeader(header, m_pool, [&] {
        return m_stop.load() || m_generation_seen.load() != generation;
      });
      bool new_tip = false;
      if (solution) {
        std::string reason;
        bool ok = work->submitSolution(header.version, solution->time, solution->nonce, {}, reason);
        BlockHeader solved = header;
        solved.time = solution->time;
        solved.nonce = solution->nonce;
        new_tip = ok && reason.empty();
        if (ok) ++accepted;
        if (m_on_block) m_on_block(MinedBlock{solved.Hash(), height, ok, reason});
        if (!new_tip) {
          // Not a new tip: go on with the following nonces of the same work.
          header.time = solution->time;
          header.nonce = solution->nonce;
          if (++header.nonce == 0) ++header.time;
        }
        if (m_options.blocks != 0 && accepted >= m_options.blocks) break;
      }
      // Take the newest work; after a new tip, wait for the follower to bring the next one
      // (its waitNext returns as soon as the tip moved).
      std::unique_lock<std::mutex> lock(m_mutex);
      auto changed = [&] { return m_stop || m_follow_done || m_generation != generation; };
      while (new_tip && !changed()) m_new_work.wait_for(lock, std::chrono::milliseconds(200));
      if (m_follow_error) std::rethrow_exception(m_follow_error);
      if (m_stop) break;
      if (m_follow_done) throw std::runtime_error("the node stopped sending work");
      if (m_generation != generation) {
        generation = m_generation;
        work = m_latest;
        lock.unlock();
        std::vector<uint8_t> bytes = work->getBlockHeader();
        Reader reader(bytes);
        header = BlockHeader::Deserialize(reader);
        height = work->getCoinbaseTx().height;
      }
    }
  } catch (...) {
    error = std::current_exception();
  }
  m_stop = true;
  try {
    m_mining.interrupt();
  } catch (const std::exception&) {
  }
  follower.join();
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_latest.reset();
  }
  if (error) std::rethrow_exception(error);
  return accepted;
}

MinerKey LoadOrCreateMinerKey(const std::filesystem::path& datadir) {
  MinerKey result;
  std::filesystem::path folder = datadir / "miner";
  result.path = folder / "key";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw std::runtime_error("cannot create " + folder.string() + ": " + ec.message());

  int fd = ::open(result.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    PrivateKey key = PrivateKey::Generate();
    std::array<uint8_t, 32> secret = key.Bytes();
    std::string text = ToHexBytes(secret) + "\n";
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
      std::filesystem::remove(result.path, ec);
      throw std::runtime_error("cannot write " + result.path.string() + ": " + std::strerror(errno));
    }
    result.pubkey = key.PublicKey();
    result.created = true;
    return result;
  }
  if (errno != EEXIST) throw std::runtime_error("cannot create " + result.path.string() + ": " + std::strerror(errno));

  std::ifstream in(result.path);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error("cannot read " + result.path.string());
  std::optional<std::vector<uint8_t>> bytes = FromHexBytes(line);
  std::optional<PrivateKey> key;
  if (bytes) key = PrivateKey::FromBytes(*bytes);
  if (!key) throw std::runtime_error(result.path.string() + " does not hold a key (64 hex digits of a secret key)");
  result.pubkey = key->PublicKey();
  return result;
}

}  // namespace minicoin
