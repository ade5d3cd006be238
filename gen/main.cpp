// crossproc-gen: a Cap'n Proto compiler plugin. For each requested schema `dir/foo.capnp` it
// writes `dir/foo.crossproc.h` and `dir/foo.crossproc.cpp` into the current directory (capnp
// runs plugins in the output directory):
//
//   capnp compile -I<import dir> -oc++:<out> -o<path>/crossproc-gen:<out> foo.capnp
//
// Errors in a schema are printed as `foo.capnp: <message>` and end the run with status 1.
#include "gen_error.h"
#include "model.h"
#include "writers.h"

#include <capnp/schema-loader.h>
#include <capnp/schema.capnp.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <unistd.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace {

// Writes `text` to `path` (relative to the current directory), creating folders as needed.
void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::path file(path);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::ofstream stream(file, std::ios::binary | std::ios::trunc);
  stream << text;
  stream.close();
  if (!stream) throw std::runtime_error("cannot write " + path);
}

// Translates every requested file. Returns the process exit status.
int Run() {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = uint64_t{1} << 40;
  options.nestingLimit = 1024;
  capnp::StreamFdMessageReader message(STDIN_FILENO, options);
  auto request = message.getRoot<capnp::schema::CodeGeneratorRequest>();

  capnp::SchemaLoader loader;
  for (auto node : request.getNodes()) loader.load(node);

  for (auto file : request.getRequestedFiles()) {
    std::string filename(file.getFilename().cStr(), file.getFilename().size());
    try {
      crossproc::gen::FileModel model = crossproc::gen::BuildModel(loader, request, file);
      WriteFile(model.stem + ".crossproc.h", crossproc::gen::WriteHeader(model));
      WriteFile(model.stem + ".crossproc.cpp", crossproc::gen::WriteSource(model));
    } catch (const crossproc::gen::GenError& error) {
      std::cerr << filename << ": " << error.what() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main() {
  try {
    return Run();
  } catch (const kj::Exception& error) {
    std::cerr << "crossproc-gen: " << error.getDescription().cStr() << "\n";
  } catch (const std::exception& error) {
    std::cerr << "crossproc-gen: " << error.what() << "\n";
  }
  return 1;
}
