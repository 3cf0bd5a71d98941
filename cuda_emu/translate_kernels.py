#!/usr/bin/env python3
"""Rewrites one kernels/ .cu file as host C++ for the emulator: the prelude goes first, CUB's
headers are dropped (the emulator supplies the one algorithm used), and every
`kernel<<<config>>>(args)` launch becomes a call into the SIMT interpreter."""
import os
import re
import sys

LAUNCH = re.compile(r"([A-Za-z_][\w:]*(?:<[^;(){}]*?>)?)\s*<<<(.*?)>>>\s*\(", re.S)


def closing_paren(text, open_index):
    depth = 0
    for i in range(open_index, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise SystemExit(f"translate_kernels: unbalanced launch arguments at offset {open_index}")


def translate(source):
    out, pos = [], 0
    for m in LAUNCH.finditer(source):
        if m.start() < pos:
            continue
        kernel, config = m.group(1), " ".join(m.group(2).split())
        open_index = m.end() - 1
        close = closing_paren(source, open_index)
        args = source[open_index + 1 : close]
        call = (f"::fusenas::emu::launch(::fusenas::emu::LaunchConfig({config}), \"{kernel}\", "
                f"[=](auto... emu_args) {{ {kernel}(emu_args...); }}")
        if args.strip():
            call += f", {args}"
        out.append(source[pos : m.start()])
        out.append(call + ")")
        pos = close + 1
    out.append(source[pos:])
    text = "".join(out)
    text = re.sub(r"^#include <cub/.*>$", "#include \"fusenas_emu/cub.h\"", text, flags=re.M)
    return text


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: translate_kernels.py <in.cu> <out.cpp>")
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        text = translate(f.read())
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(f"// Generated from {src} by translate_kernels.py: do not edit.\n")
        f.write(f"#include \"fusenas_emu/kernel_prelude.h\"\n#line 1 \"{src}\"\n")
        f.write(text)


if __name__ == "__main__":
    main()
