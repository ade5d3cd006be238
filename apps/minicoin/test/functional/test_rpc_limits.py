#!/usr/bin/env python3
"""What the RPC server does with hostile or unusual input, and that it keeps serving after it:
a request nested 100,000 levels deep (refused as a parse error naming the 512-level bound; 511
levels of params still work), a form-encoded body larger than 8 KiB (curl --data's default
Content-Type: answered like any JSON body), a body over the 32 MiB limit (HTTP 413 with a
reason), an unknown path (404 with a reason), and minicoin-cli given a deeply nested argument."""
import base64
import http.client
import json

import framework
from framework import assert_equal, assert_in, assert_true

DEEP = 100_000


class RpcLimitsTest(framework.FunctionalTest):
    def post_raw(self, node, body, content_type, path="/"):
        """POSTs bytes with the given Content-Type; returns (status, body text)."""
        connection = http.client.HTTPConnection("127.0.0.1", node.rpcport, timeout=120)
        auth = base64.b64encode(node.cookie_auth().encode()).decode()
        try:
            connection.request("POST", path, body=body, headers={
                "Authorization": "Basic " + auth, "Content-Type": content_type})
            response = connection.getresponse()
            return response.status, response.read().decode(errors="replace")
        finally:
            connection.close()

    def run(self):
        node = self.add_node()
        rpc = node.rpc
        height = rpc.getblockcount()

        # 100,000 levels: a parse error that names the bound, and the node keeps serving.
        body = '{"method":"getblockcount","params":%s%s,"id":1}' % ("[" * DEEP, "]" * DEEP)
        status, data = node.post(body.encode())
        assert_equal(status, 500, "status of a 100,000-deep request")
        reply = json.loads(data)
        assert_equal(reply["error"]["code"], -32700, "error code")
        assert_equal(reply["error"]["message"], "Parse error: JSON nested deeper than 512 levels", "message")
        assert_equal(rpc.getblockcount(), height, "the node still answers")
        # The same deep value inside a batch, and objects instead of arrays.
        body = '[{"method":"getblockcount","params":[],"id":1},{"x":%s0%s}]' % ('{"a":' * DEEP, "}" * DEEP)
        status, data = node.post(body.encode())
        assert_equal(status, 500, "status of a deep batch")
        assert_true(node.is_running(), "node running after deep objects")
        # At the bound: the request object is level 1, its params may nest 511 levels.
        body = '{"method":"getblockcount","params":%s%s,"id":2}' % ("[" * 511, "]" * 511)
        status, data = node.post(body.encode())
        assert_equal(status, 500, "511 levels of params reach the method (which refuses extra params)")
        assert_equal(json.loads(data)["error"]["code"], -1, "the method's own error, not a parse error")
        body = '{"method":"getblockcount","params":%s%s,"id":3}' % ("[" * 512, "]" * 512)
        status, data = node.post(body.encode())
        assert_equal(json.loads(data)["error"]["code"], -32700, "512 levels of params: one over the bound")

        # A form-encoded body of 100 KB (curl --data sends this Content-Type) is a JSON-RPC request.
        padding = "x" * 100_000
        body = json.dumps({"method": "validateaddress", "params": [padding], "id": 4}).encode()
        status, data = self.post_raw(node, body, "application/x-www-form-urlencoded")
        assert_equal(status, 200, "status of a large form-encoded body: %s" % data[:200])
        assert_equal(json.loads(data)["result"]["isvalid"], False, "validateaddress answered")

        # Over the 32 MiB limit: 413 with a reason.
        status, data = self.post_raw(node, b"[" + b" " * (33 << 20) + b"]", "application/json")
        assert_equal(status, 413, "status of a 33 MiB body")
        assert_in("limit of 33554432 bytes", data, "413 reason")
        status, data = self.post_raw(node, b"{}", "application/json", path="/no/such/path")
        assert_equal(status, 404, "status of an unknown path")
        assert_in("/wallet/<name>", data, "404 reason")
        assert_equal(rpc.getblockcount(), height, "the node still answers after all of it")

        # minicoin-cli refuses a deeply nested JSON argument before sending anything.
        if node.cli_binary:
            deep = 10_000  # a single argument is limited to 128 KiB by the kernel
            result = node.cli("createrawtransaction", "[" * deep + "]" * deep, "[]")
            assert_true(result.returncode != 0, "cli exit status with a deep argument")
            assert_in("JSON nested deeper than 512 levels", result.stderr, "cli error")


if __name__ == "__main__":
    framework.main(RpcLimitsTest)
