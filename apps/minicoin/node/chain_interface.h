// The node's Chain interface: what a wallet or GUI sees of the chain and the mempool.
#pragma once

#include "chain.crossproc.h"

#include <memory>

namespace minicoin {

class Node;

// A Chain working on `node`, which must outlive it. The same object serves a wallet in this
// process (minicoind) and, through crossproc, one in another process. Thread-safe.
std::unique_ptr<ipc::Chain> MakeChain(Node& node);

}  // namespace minicoin
