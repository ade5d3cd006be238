// The node's Mining interface: block templates for miners in other processes.
#pragma once

#include "mining.crossproc.h"

#include <memory>

namespace minicoin {

class ArgsManager;
class Node;

// Registers the options of the mining interface.
void AddMiningOptions(ArgsManager& args);

// A Mining object working on `node`, which must outlive it.
std::unique_ptr<ipc::Mining> MakeMining(Node& node);

}  // namespace minicoin
