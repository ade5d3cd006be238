#!/usr/bin/env python3
"""The real `minicoin` command in a temporary tree of stand-in programs.

Usage: wrapper_test.py <minicoin> <minicoin_wrapper_fake>
       wrapper_test.py --real <minicoin>   (the built minicoin next to the real programs)

The wrapper is copied (not linked: it finds programs next to its resolved /proc/self/exe) to
<tmp>/bin; copies of the stand-in, which prints its /proc/self/exe and argv as JSON and exits
with $MINICOIN_FAKE_EXIT, play minicoind, minicoin-node, ... in <tmp>/bin, <tmp>/libexec and a
folder on PATH. Every selection rule of docs/wrapper.md is checked. With --real, the built
minicoin runs the real minicoind, minicoin-node and minicoin-cli beside it (their -h names them).
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

ALL_PROGRAMS = ["minicoind", "minicoin-node", "minicoin-qt", "minicoin-gui", "minicoin-wallet",
                "minicoin-cli", "minicoin-miner", "minicoin-tx"]
TIMEOUT = 30

failures = []


def check(condition, what):
    if condition:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        failures.append(what)


class Tree:
    def __init__(self, root, wrapper, fake):
        self.root = root
        self.fake = fake
        self.bin = os.path.join(root, "bin")
        self.libexec = os.path.join(root, "libexec")
        self.path_dir = os.path.join(root, "on-path")
        self.home = os.path.join(root, "home")
        for folder in (self.bin, self.libexec, self.path_dir, os.path.join(self.home, ".minicoin")):
            os.makedirs(folder)
        self.wrapper = os.path.join(self.bin, "minicoin")
        shutil.copy2(wrapper, self.wrapper)

    def install(self, folder, name):
        shutil.copy2(self.fake, os.path.join(folder, name))

    def remove(self, folder, name):
        os.remove(os.path.join(folder, name))

    def run(self, args, extra_env=None, wrapper=None, cwd=None):
        env = {"PATH": self.path_dir, "HOME": self.home}
        env.update(extra_env or {})
        return subprocess.run([wrapper or self.wrapper] + args, env=env, cwd=cwd or self.root,
                              capture_output=True, text=True, timeout=TIMEOUT)

    def ran(self, args, **kwargs):
        """(program path, argv) of the stand-in `minicoin args` ran, or (None, stderr)."""
        result = self.run(args, **kwargs)
        if result.returncode != 0 or not result.stdout.startswith("{"):
            return None, "exit %d: %s" % (result.returncode, result.stderr.strip())
        report = json.loads(result.stdout)
        return report["exe"], report["argv"]


def is_program(exe, name):
    return exe is not None and os.path.basename(exe) == name


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def test_search_order(tree):
    for folder in (tree.bin, tree.libexec, tree.path_dir):
        tree.install(folder, "minicoin-tx")
    exe, _ = tree.ran(["tx"])
    check(exe == os.path.join(tree.bin, "minicoin-tx"), "next to the wrapper first (%s)" % exe)

    # Not executable, or a directory: skipped.
    os.chmod(os.path.join(tree.bin, "minicoin-tx"), 0o644)
    exe, _ = tree.ran(["tx"])
    check(exe == os.path.join(tree.libexec, "minicoin-tx"),
          "non-executable file skipped (%s)" % exe)
    tree.remove(tree.bin, "minicoin-tx")
    os.mkdir(os.path.join(tree.bin, "minicoin-tx"))
    exe, _ = tree.ran(["tx"])
    check(exe == os.path.join(tree.libexec, "minicoin-tx"), "then ../libexec (%s)" % exe)
    os.rmdir(os.path.join(tree.bin, "minicoin-tx"))

    tree.remove(tree.libexec, "minicoin-tx")
    exe, _ = tree.ran(["tx"])
    check(exe == os.path.join(tree.path_dir, "minicoin-tx"), "then PATH (%s)" % exe)

    # A symlink to the wrapper finds the programs next to the file it points to.
    tree.install(tree.bin, "minicoin-tx")
    link_dir = os.path.join(tree.root, "links")
    os.makedirs(link_dir)
    os.symlink(tree.wrapper, os.path.join(link_dir, "minicoin"))
    tree.install(link_dir, "minicoin-tx")
    exe, _ = tree.ran(["tx"], wrapper=os.path.join(link_dir, "minicoin"))
    check(exe == os.path.join(tree.bin, "minicoin-tx"),
          "symlinked wrapper: its target's folder (%s)" % exe)

    # Not found anywhere: 127 and every searched place named.
    result = tree.run(["miner"])
    check(result.returncode == 127, "not found: exit 127 (%d)" % result.returncode)
    check("minicoin-miner" in result.stderr and "not found" in result.stderr,
          "not found: names the program (%r)" % result.stderr)
    check(all(folder in result.stderr for folder in (tree.bin, tree.libexec, tree.path_dir)),
          "not found: names bin, ../libexec and PATH (%r)" % result.stderr)
    check(result.stdout == "", "not found: nothing on stdout")
    # Found but not runnable (no executable format): 126 and the reason.
    bad = os.path.join(tree.bin, "minicoin-miner")
    write(bad, "not a program\n")
    os.chmod(bad, 0o755)
    result = tree.run(["miner"])
    check(result.returncode == 126 and bad in result.stderr and "cannot run" in result.stderr,
          "found but not runnable: exit 126 (%d %r)" % (result.returncode, result.stderr))
    os.remove(bad)
    result = tree.run(["miner"], extra_env={"PATH": ""})
    check(result.returncode == 127 and tree.libexec in result.stderr, "not found, empty PATH: 127")


def test_arguments(tree):
    args = ["a b", "'single'", '"double"', "", "-m", "-M", "line\nbreak", "$HOME", "*", "--", "é"]
    exe, argv = tree.ran(["cli"] + args)
    check(exe == os.path.join(tree.bin, "minicoin-cli"), "cli runs minicoin-cli")
    check(argv == ["minicoin-cli"] + args,
          "argv[0] is the program's name, args unchanged (%r)" % argv)
    exe, argv = tree.ran(["-M", "node", "-m"])
    check(exe is not None and exe.endswith("/minicoind") and argv == ["minicoind", "-m"],
          "-m after the command is the program's argument (%r %r)" % (exe, argv))

    for code in ("0", "3", "42", "255"):
        result = tree.run(["wallet", "x"], extra_env={"MINICOIN_FAKE_EXIT": code})
        check(result.returncode == int(code) and '"minicoin-wallet"' in result.stdout,
              "exit code %s of the program preserved (%d)" % (code, result.returncode))
    # The environment reaches the program: it reads MINICOIN_FAKE_EXIT above.


def test_modes(tree):
    for command, one, multi in (("node", "minicoind", "minicoin-node"),
                                ("gui", "minicoin-qt", "minicoin-gui")):
        exe, _ = tree.ran([command])
        check(is_program(exe, one), "%s: %s by default (%s)" % (command, one, exe))
        exe, argv = tree.ran(["-m", command, "-printtoconsole"])
        check(exe is not None and exe.endswith("/" + multi) and argv == [multi, "-printtoconsole"],
              "%s -m: %s (%s)" % (command, multi, exe))
        exe, _ = tree.ran(["-M", command, "-ipcbind=unix"])
        check(is_program(exe, one), "%s -M beats -ipcbind: %s (%s)" % (command, one, exe))
        for both in (["-m", "-M"], ["-M", "-m"]):
            result = tree.run(both + [command])
            check(result.returncode == 1 and "-m" in result.stderr and "-M" in result.stderr
                  and result.stdout == "",
                  "%s %s: error, exit 1 (%d %r)" % (command, both, result.returncode,
                                                    result.stderr))

    for command, program in (("wallet", "minicoin-wallet"), ("cli", "minicoin-cli"),
                             ("miner", "minicoin-miner"), ("tx", "minicoin-tx")):
        for mode in ([], ["-m"], ["-M"]):
            exe, _ = tree.ran(mode + [command, "-ipcconnect=unix"])
            check(is_program(exe, program), "%s %s: %s (%s)" % (mode, command, program, exe))
        result = tree.run(["-m", "-M", command])
        check(result.returncode == 1, "-m -M %s: error" % command)


def test_auto_command_line(tree):
    multi_args = [["-ipcbind=unix"], ["--ipcbind"], ["-ipcbind"], ["-ipcconnect=unix:/tmp/x"],
                  ["--ipcconnect=unix"], ["-ipcfd", "5"], ["-ipcfd=5"], ["-debug", "-ipcfd", "7"],
                  ["-noipcbind", "-ipcbind=unix"], ["-noipcbind=0"]]
    one_args = [[], ["-noipcbind"], ["--noipcconnect"], ["-noipcfd"],
                ["-ipcbind=unix", "-noipcbind"],
                ["-ipcmaxconnections=3"], ["-xipcbind"], ["ipcbind"], ["-noipcbind=1"]]
    for args in multi_args:
        for command, multi in (("node", "minicoin-node"), ("gui", "minicoin-gui")):
            exe, argv = tree.ran([command] + args)
            check(exe is not None and exe.endswith("/" + multi) and argv == [multi] + args,
                  "%s %s: %s (%s)" % (command, args, multi, exe))
    for args in one_args:
        for command, one in (("node", "minicoind"), ("gui", "minicoin-qt")):
            exe, argv = tree.ran([command] + args)
            check(exe is not None and exe.endswith("/" + one) and argv == [one] + args,
                  "%s %s: %s (%s)" % (command, args, one, exe))


def test_auto_config(tree):
    default_conf = os.path.join(tree.home, ".minicoin", "minicoin.conf")
    datadir = os.path.join(tree.root, "data")
    os.makedirs(datadir)
    data_conf = os.path.join(datadir, "minicoin.conf")

    def node(args):
        exe, _ = tree.ran(["node"] + args)
        return os.path.basename(exe) if exe else exe

    for line in ("ipcbind=unix", "ipcconnect=unix", "ipcfd=3", "  ipcbind = unix  # listen"):
        write(default_conf, "printtoconsole=1\n%s\n" % line)
        check(node([]) == "minicoin-node", "$HOME/.minicoin/minicoin.conf %r: minicoin-node" % line)
        write(data_conf, "%s\n" % line)
        check(node(["-datadir=" + datadir]) == "minicoin-node", "<datadir>/minicoin.conf %r" % line)
        check(node(["-datadir=data"]) == "minicoin-node", "relative -datadir %r" % line)
    exe, _ = tree.ran(["gui"])
    check(exe is not None and exe.endswith("/minicoin-gui"), "gui follows the config file too")

    write(default_conf, "ipcbind=unix\n")
    write(data_conf, "printtoconsole=1\n")
    check(node(["-datadir=" + datadir]) == "minicoind", "-datadir: $HOME's config is not read")
    check(node(["-noconf"]) == "minicoind", "-noconf: no config file")
    check(node(["-noipcbind"]) == "minicoind", "-noipcbind on the command line beats the file")
    check(node(["-M"]) == "minicoin-node", "-M after the command is the program's")
    result = tree.run(["-M", "node"])
    check('"minicoind"' in result.stdout, "-M beats the config file")

    for negated in ("noipcbind=1", "noipcbind", "ipcbind=unix\nnoipcbind"):
        write(default_conf, negated + "\n")
        check(node([]) == "minicoind", "negated in the file %r: minicoind" % negated)
    write(default_conf, "noipcbind\nipcbind=unix\n")
    check(node([]) == "minicoin-node", "negation then value in the file: minicoin-node")

    # -conf: absolute, or relative to the data directory.
    os.remove(default_conf)
    other = os.path.join(tree.root, "other.conf")
    write(other, "ipcconnect=unix\n")
    check(node(["-conf=" + other]) == "minicoin-node", "-conf=<absolute file>")
    check(node(["--conf=" + other]) == "minicoin-node", "--conf=<absolute file>")
    write(os.path.join(datadir, "rel.conf"), "ipcfd=4\n")
    check(node(["-datadir=" + datadir, "-conf=rel.conf"]) == "minicoin-node",
          "-conf relative to -datadir")
    check(node(["-conf=rel.conf"]) == "minicoind", "-conf relative to the default datadir (absent)")
    check(node(["-conf=" + other, "-noconf"]) == "minicoind", "-conf then -noconf")
    check(node([]) == "minicoind", "no config file at all: minicoind")
    # A file the program would reject counts as empty; the program reports it.
    write(other, "ipcbind=unix\n[nosuchsection]\n")
    check(node(["-conf=" + other]) == "minicoind", "a malformed config file counts as empty")


def test_help(tree):
    for args in ([], ["help"], ["-h"], ["--help"], ["-help"]):
        result = tree.run(args)
        check(result.returncode == 0 and "Usage: minicoin" in result.stdout,
              "%s: help, exit 0" % args)
        for command in ("node", "gui", "wallet", "cli", "miner", "tx", "help", "version"):
            check("  %s " % command in result.stdout, "help lists %s" % command)
        for word in ("-m", "-M", "-ipcbind", "-ipcconnect", "-ipcfd", "minicoin.conf", "libexec",
                     "PATH"):
            check(word in result.stdout, "help explains %s" % word)
    for args in (["version"], ["--version"]):
        result = tree.run(args)
        check(result.returncode == 0 and result.stdout.startswith("minicoin "), "%s: exit 0" % args)
    for args in (["frobnicate"], ["minicoind"], ["-x", "node"], ["--ipcbind", "node"]):
        result = tree.run(args)
        check(result.returncode == 1 and "minicoin help" in result.stderr and result.stdout == "",
              "%s: error, exit 1 (%d %r)" % (args, result.returncode, result.stderr))
    result = tree.run(["frobnicate"])
    check("'frobnicate'" in result.stderr, "unknown command named")


def test_real_programs(wrapper):
    def usage_of(args, home):
        result = subprocess.run([wrapper] + args, env={"PATH": "/usr/bin:/bin", "HOME": home},
                                capture_output=True, text=True, timeout=TIMEOUT)
        for line in result.stdout.splitlines():
            if line.startswith("Usage:"):
                return line.split()[1]
        return "exit %d: %r" % (result.returncode, result.stderr)

    with tempfile.TemporaryDirectory(prefix="minicoin_wrapper_real_") as home:
        datadir = os.path.join(home, "data")
        os.makedirs(datadir)
        for args, program in ((["node", "-h"], "minicoind"),
                              (["node", "-ipcbind=unix", "-h"], "minicoin-node"),
                              (["node", "-noipcbind", "-h"], "minicoind"),
                              (["-m", "node", "-h"], "minicoin-node"),
                              (["-M", "node", "-ipcbind=unix", "-h"], "minicoind"),
                              (["cli", "-h"], "minicoin-cli")):
            found = usage_of(args, home)
            check(found == program, "real %s: %s (%s)" % (args, program, found))
        write(os.path.join(datadir, "minicoin.conf"), "ipcbind=unix\n")
        found = usage_of(["node", "-datadir=" + datadir, "-h"], home)
        check(found == "minicoin-node", "real node, ipcbind in the config file: minicoin-node (%s)"
              % found)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--real":
        test_real_programs(sys.argv[2])
        finish()
        return
    if len(sys.argv) != 3:
        sys.exit("usage: wrapper_test.py <minicoin> <minicoin_wrapper_fake>")
    wrapper, fake = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="minicoin_wrapper_") as root:
        tree = Tree(root, wrapper, fake)
        test_search_order(tree)
        for name in ALL_PROGRAMS:
            if not os.path.exists(os.path.join(tree.bin, name)):
                tree.install(tree.bin, name)
        test_arguments(tree)
        test_modes(tree)
        test_auto_command_line(tree)
        test_auto_config(tree)
        test_help(tree)
    finish()


def finish():
    if failures:
        print("%d check(s) failed:" % len(failures))
        for failure in failures:
            print("  " + failure)
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
