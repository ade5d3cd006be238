// A minicoin miner in JavaScript: connects to minicoin-node's -ipcbind socket with capnp-es's
// Cap'n Proto RPC, gets the Mining interface from the node's Init, reads the tip, creates a
// block template, solves its header (double SHA-256, nonce loop) and submits the solution.
//
//   node miner.mjs <socket> <payout key hex (64 digits)> [blocks]
//
// Prints one JSON line per block: {"height", "hash", "result", "reason"}; exits 1 on failure.
// The code it needs from the schemas is generated into gen-js/ by build.sh.
import * as net from "node:net";
import * as crypto from "node:crypto";
import * as capnp from "capnp-es";
import { Message as RpcMessage } from "capnp-es/capnp/rpc";
import { Init } from "./gen-js/init.js";

// Cap'n Proto's stream framing over a socket: a segment table, then the segments. capnp-es's
// Conn asks for one message at a time; the ones that arrive earlier wait in a queue.
class SocketTransport {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.messages = [];
    this.waiting = [];
    this.closed = false;
    socket.on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const end = () => this.fail(new Error("the node closed the connection"));
    socket.on("close", end);
    socket.on("error", (error) => this.fail(error));
  }

  parse() {
    for (;;) {
      if (this.buffer.length < 4) return;
      const count = this.buffer.readUInt32LE(0) + 1;
      if (count > 512) return this.fail(new Error("frame with too many segments"));
      let header = 4 + 4 * count;
      if (header % 8 !== 0) header += 4;
      if (this.buffer.length < header) return;
      let words = 0;
      for (let i = 0; i < count; i++) words += this.buffer.readUInt32LE(4 + 4 * i);
      const size = header + words * 8;
      if (this.buffer.length < size) return;
      const frame = this.buffer.subarray(0, size);
      this.buffer = this.buffer.subarray(size);
      const bytes = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.length);
      const message = new capnp.Message(bytes, false).getRoot(RpcMessage);
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(message);
      else this.messages.push(message);
    }
  }

  fail(error) {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }

  sendMessage(message) {
    this.socket.write(Buffer.from(message.segment.message.toArrayBuffer()));
  }

  recvMessage() {
    if (this.messages.length > 0) return Promise.resolve(this.messages.shift());
    // Conn stops reading when a receive fails with undefined.
    if (this.closed) return Promise.reject(undefined);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  close() {
    this.closed = true;
    this.socket.end();
    for (const waiter of this.waiting.splice(0)) waiter.reject(undefined);
  }
}

function sha256d(bytes) {
  const once = crypto.createHash("sha256").update(bytes).digest();
  return crypto.createHash("sha256").update(once).digest();
}

// A 256-bit little-endian value (hashes, as minicoin encodes them) as a BigInt.
function littleEndianToBigInt(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

function targetFromBits(bits) {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  if ((bits & 0x00800000) !== 0) throw new Error("negative target in bits " + bits.toString(16));
  return exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
}

// The header is 80 bytes: version, previous hash, merkle root, time, bits, nonce (all little-endian).
function solveHeader(headerBytes) {
  const header = Buffer.from(headerBytes);
  if (header.length !== 80) throw new Error("header of " + header.length + " bytes, expected 80");
  const bits = header.readUInt32LE(72);
  const target = targetFromBits(bits);
  for (let time = header.readUInt32LE(68); ; time++) {
    header.writeUInt32LE(time >>> 0, 68);
    for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
      header.writeUInt32LE(nonce, 76);
      const hash = sha256d(header);
      if (littleEndianToBigInt(hash) <= target) {
        return { version: header.readUInt32LE(0), time, nonce, hash: Buffer.from(hash).reverse().toString("hex") };
      }
    }
  }
}

function hexOf(data) {
  return Buffer.from(data.toUint8Array()).reverse().toString("hex");
}

async function main() {
  const [socketPath, payoutHex, blocksArg] = process.argv.slice(2);
  if (!socketPath || !/^[0-9a-fA-F]{64}$/.test(payoutHex || "")) {
    console.error("usage: node miner.mjs <socket> <payout key hex (64 digits)> [blocks]");
    process.exit(2);
  }
  const blocks = blocksArg ? Number.parseInt(blocksArg, 10) : 1;
  const socket = net.createConnection(socketPath);
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const connection = new capnp.Conn(new SocketTransport(socket));
  // No Init.construct and no ThreadMap: each call goes with a null context, and the node runs
  // it on the connection's pool of threads (see docs/mining.md).
  const init = connection.bootstrap(Init);
  const mining = init.makeMining().getResult();
  const tip = (await mining.getTip().promise()).result;
  console.error("tip: height " + tip.height + ", " + hexOf(tip.hash));
  for (let i = 0; i < blocks; i++) {
    const created = mining.createNewBlock((params) => {
      const options = params._initOptions();
      const key = options._initPayoutKey(32);
      key.copyBuffer(Buffer.from(payoutHex, "hex"));
      options.useMempool = true;
    });
    const blockTemplate = created.getResult();
    const headerBytes = (await blockTemplate.getBlockHeader().promise()).result.toUint8Array();
    const coinbase = (await blockTemplate.getCoinbaseTx().promise()).result;
    const solution = solveHeader(headerBytes);
    const answer = await blockTemplate
      .submitSolution((params) => {
        params.version = solution.version;
        params.time = solution.time;
        params.nonce = solution.nonce;
      })
      .promise();
    console.log(JSON.stringify({ height: coinbase.height, hash: solution.hash, result: answer.result, reason: answer.reason }));
    if (!answer.result) process.exitCode = 1;
    await blockTemplate.destroy().promise();
  }
  await mining.destroy().promise();
  connection.shutdown();
  socket.destroy();
}

main().catch((error) => {
  console.error("Error: " + (error && error.stack ? error.stack : error));
  process.exit(1);
});
