// The small files of the peer-to-peer layer (peers.dat, banlist.dat): a 4-byte magic, a u32
// version, the body, and SHA-256(SHA-256(everything before)); written atomically, read with
// every check a damaged file can fail.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace minicoin::net {

using FileMagic = std::array<uint8_t, 4>;

// Writes `bytes` to `path` + ".tmp", flushed to disk, renames it over `path` and flushes the
// folder, so that `path` holds either the old file or the new one whatever happens. Returns an
// error text ("cannot create /x/peers.dat.tmp: No space left on device") on failure, leaving any
// old file in place.
std::optional<std::string> WriteFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes);

// What ReadDataFile found. Value type.
struct DataFileRead {
  enum class Status {
    kOk,       // `body` holds the bytes between the version and the checksum
    kMissing,  // no such file
    kCorrupt,  // `error` says why: "<path>: truncated (10 bytes)", "...: checksum mismatch", ...
  };
  Status status = Status::kCorrupt;
  std::vector<uint8_t> body;
  std::string error;
};

// Reads a file in the layout above. `kind` names the file in errors ("not a peers file (wrong
// magic)"). The version is checked before the checksum, so that a file of another version says
// so rather than looking damaged.
DataFileRead ReadDataFile(const std::filesystem::path& path, const FileMagic& magic, uint32_t version,
                          std::string_view kind);

}  // namespace minicoin::net
