// minicoind: the minicoin node with everything in one process.
#include "node/node.h"

int main(int argc, char** argv) {
  return minicoin::NodeMain(argc, argv, {.multiprocess = false, .executable_name = "minicoind"});
}
