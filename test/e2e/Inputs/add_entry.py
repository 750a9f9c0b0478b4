#!/usr/bin/env python3
"""Adds an `@entry` function to an imported module: it calls `@main` on the
given token ids and prints the logits with the runner utils' printMemrefF32.

    add_entry.py IN.mlir OUT.mlir ID [ID ...]
"""
import re
import sys


def main():
    src, dst, ids = sys.argv[1], sys.argv[2], [int(t) for t in sys.argv[3:]]
    text = open(src).read()
    sig = re.search(r"func\.func @main\((%\w+): tensor<1x(\d+)xi64>\) -> "
                    r"(tensor<[0-9x]+xf32>)", text)
    if not sig or int(sig.group(2)) != len(ids):
        sys.exit(f"add_entry.py: {src}: expected @main(tensor<1x{len(ids)}xi64>)"
                 " returning one f32 tensor")
    result = sig.group(3)
    entry = f"""
  func.func @entry() {{
    %ids = arith.constant dense<[[{", ".join(map(str, ids))}]]> : tensor<1x{len(ids)}xi64>
    %r = call @main(%ids) : (tensor<1x{len(ids)}xi64>) -> {result}
    %u = tensor.cast %r : {result} to tensor<*xf32>
    call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
    return
  }}
  func.func private @printMemrefF32(tensor<*xf32>) attributes {{llvm.emit_c_interface}}
"""
    at = text.index("func.func @main")
    open(dst, "w").write(text[:at] + entry.lstrip() + "  " + text[at:])


if __name__ == "__main__":
    main()
