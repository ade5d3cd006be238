// The Echo implementation.
#include "ipc/echo.h"

namespace minicoin::ipc {
namespace {

class EchoImpl final : public Echo {
 public:
  std::string echo(const std::string& text) override { return text; }
};

}  // namespace

std::unique_ptr<Echo> MakeEcho() { return std::make_unique<EchoImpl>(); }

}  // namespace minicoin::ipc
