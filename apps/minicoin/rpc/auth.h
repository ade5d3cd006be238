// RPC authentication: the cookie file, HTTP Basic credentials.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace minicoin {

// File name of the cookie inside the data directory, and the user name it holds.
inline constexpr const char* kCookieFileName = ".cookie";
inline constexpr const char* kCookieUser = "__cookie__";

// "__cookie__:<64 random hex digits>" from the OS's random source.
std::string GenerateCookie();
// Writes `cookie` to `path` with mode 0600 (through a temporary file and a rename, so a reader
// never sees a partial cookie). False with `error` on failure.
bool WriteCookieFile(const std::filesystem::path& path, const std::string& cookie,
                     std::string& error);
// The "user:password" in the file's first line, or nullopt if it cannot be read or is empty.
std::optional<std::string> ReadCookieFile(const std::filesystem::path& path);

std::string Base64Encode(const std::string& data);
// nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(const std::string& text);
// The "user:password" of an "Authorization: Basic ..." header value, or nullopt.
std::optional<std::string> DecodeBasicAuth(const std::string& header);
// Compares in time independent of where the strings differ.
bool TimingSafeEqual(const std::string& a, const std::string& b);

}  // namespace minicoin
