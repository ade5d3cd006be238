// The node's Mining interface.
#include "node/mining_interface.h"

#include "node/node.h"

namespace minicoin {
namespace {

class MiningImpl final : public ipc::Mining {
 public:
  explicit MiningImpl(Node& node) : m_node(node) {}

 private:
  [[maybe_unused]] Node& m_node;
};

}  // namespace

void AddMiningOptions(ArgsManager&) {}

std::unique_ptr<ipc::Mining> MakeMining(Node& node) { return std::make_unique<MiningImpl>(node); }

}  // namespace minicoin
