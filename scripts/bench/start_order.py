#!/usr/bin/env python3
"""Lists the functions a desktop app start runs, in the order it first runs them, for the
linker's --symbol-ordering-file (src-tauri/start.order; why: src-tauri/build.rs).

    start_order.py BINARY LINK_MAP OUT -- COMMAND...

LINK_MAP is the linker's map of BINARY (SWITCHBOARD_LINK_MAP, src-tauri/build.rs). A
uprobe on the entry of every function of BINARY records its first calls while COMMAND
runs; tracefs must be mounted and writable (root). Driven by scripts/bench/start-order.sh.
"""
import os
import re
import subprocess
import sys

TRACING = "/sys/kernel/tracing"
GROUP = "swbstart"


def functions(binary, link_map):
    """(file offset, name) of each function symbol, from the linker's map and the code
    segment's place in the file."""
    segments = []
    headers = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True)
    for line in headers.stdout.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and "E" in f[6:-1]:
            segments.append((int(f[2], 16), int(f[1], 16), int(f[4], 16)))
    # LLD's map, one line each: "VMA LMA Size Align" then, one space in, an output section;
    # nine spaces in, an input section ("<object>:(.text.<symbol>)"); seventeen spaces in, a
    # symbol of it. The symbols are what the linker orders by, and they name the functions
    # of sections that hold several (assembly, C start-up code) too. Mangled, as the
    # ordering file wants them: the map is written with --no-demangle (src-tauri/build.rs).
    line_re = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+( +)(\S.*)$")
    seen = set()
    output = None
    with open(link_map) as lines:
        for line in lines:
            m = line_re.match(line)
            if not m:
                continue
            depth, name = len(m.group(3)), m.group(4)
            if depth == 1:
                output = name
            if depth < 17 or output != ".text" or int(m.group(2), 16) == 0:
                continue
            addr = int(m.group(1), 16)
            for vaddr, offset, size in segments:
                if vaddr <= addr < vaddr + size and addr not in seen:
                    seen.add(addr)
                    yield addr - vaddr + offset, name


def write(path, text):
    with open(os.path.join(TRACING, path), "w") as f:
        f.write(text)


def main():
    binary, link_map, out, sep, *command = sys.argv[1:]
    assert sep == "--" and command, __doc__
    binary = os.path.realpath(binary)
    names = []
    write("tracing_on", "0")
    write("trace", "")
    write("uprobe_events", "")
    write("buffer_size_kb", "300000")
    # Probes left behind would slow every later run of the binary: removed whatever happens.
    try:
        # One write per probe: the file takes one definition per write(2).
        fd = os.open(os.path.join(TRACING, "uprobe_events"), os.O_WRONLY | os.O_APPEND)
        for offset, name in functions(binary, link_map):
            os.write(fd, f"p:{GROUP}/f{len(names)} {binary}:0x{offset:x}\n".encode())
            names.append(name)
        os.close(fd)
        print(f"{len(names)} functions probed", file=sys.stderr)
        write(f"events/{GROUP}/enable", "1")
        write("tracing_on", "1")
        subprocess.run(command)
        write("tracing_on", "0")
        first, hit = [], set()
        probe = re.compile(r" f(\d+): \(")
        with open(os.path.join(TRACING, "trace")) as trace:
            for line in trace:
                m = probe.search(line)
                if m and m.group(1) not in hit:
                    hit.add(m.group(1))
                    first.append(names[int(m.group(1))])
    finally:
        write("tracing_on", "0")
        if os.path.isdir(os.path.join(TRACING, "events", GROUP)):
            write(f"events/{GROUP}/enable", "0")
        write("uprobe_events", "")
        write("trace", "")
        write("tracing_on", "1")
    with open(out, "w") as f:
        f.writelines(name + "\n" for name in first)
    print(f"{len(first)} functions run, written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
