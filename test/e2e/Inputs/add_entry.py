#!/usr/bin/env python3
"""Adds an `@entry` function to an imported module: it calls `@main` on the
given token ids and prints the first result (the logits) with the runner
utils' printMemrefF32.

    add_entry.py IN.mlir OUT.mlir ID [ID ...]
    add_entry.py IN.mlir OUT.mlir --f32
    add_entry.py IN.mlir OUT.mlir --past PAST.npy ID [ID ...]

@main's first argument takes the ids (tensor<1xNxi64>); a second i64 argument
of the same shape gets the positions 0..N-1; f32 arguments (an empty KV cache
of past length 0) get empty tensors. With --past, the f32 arguments get the
past keys and values of PAST.npy (stacked [2 * layers, ...]) and the
positions start after the past. With --f32, every argument is an f32
tensor filled with x[k] = ((37 k) mod 17 - 8) / 4 (as ort_outputs.py does),
and every result is printed, in order.
"""
import re
import sys


def split_types(text):
    """Splits 'tensor<1x7xi64>, tensor<...>' at top-level commas."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    f32 = rest == ["--f32"]
    past = None
    if rest[:1] == ["--past"]:
        import numpy as np
        past, rest = np.load(rest[1]), rest[2:]
    ids = [] if f32 else [int(t) for t in rest]
    text = open(src).read()
    m = re.search(r"func\.func @main\((.*?)\) -> \(?(.*?)\)? \{", text)
    if not m:
        sys.exit(f"add_entry.py: {src}: no func.func @main")
    args = [a.split(":", 1)[1].strip() for a in split_types(m.group(1))]
    results = split_types(m.group(2))
    n = len(ids)
    ids_type = f"tensor<1x{n}xi64>"
    if f32:
        return write_f32_entry(src, dst, text, args, results)
    if not args or args[0] != ids_type:
        sys.exit(f"add_entry.py: {src}: @main's first argument is {args[:1]}, "
                 f"expected {ids_type}")
    lines, operands = [], []
    for k, t in enumerate(args):
        if k == 0:
            lines.append(f"%a{k} = arith.constant dense<[[{', '.join(map(str, ids))}]]> : {t}")
        elif t == ids_type:
            start = 0 if past is None else past.shape[-2]
            lines.append(f"%a{k} = arith.constant dense<[[{', '.join(map(str, range(start, start + n)))}]]> : {t}")
        elif past is not None and t.endswith("xf32>"):
            values = past[k - 2].reshape(-1)
            lines.append(f"%a{k}_flat = arith.constant dense<[{', '.join(repr(float(v)) for v in values)}]> : tensor<{values.size}xf32>")
            dims = t[len("tensor<"):-len("xf32>")].split("x")
            lines.append(f"%a{k}_shape = arith.constant dense<[{', '.join(dims)}]> : tensor<{len(dims)}xi64>")
            lines.append(f"%a{k} = tensor.reshape %a{k}_flat(%a{k}_shape) : (tensor<{values.size}xf32>, tensor<{len(dims)}xi64>) -> {t}")
        elif t.endswith("xf32>") and "x0x" in t:
            lines.append(f"%a{k} = tensor.empty() : {t}")
        else:
            sys.exit(f"add_entry.py: {src}: cannot make an input of type {t}")
        operands.append(f"%a{k}")
    body = "\n    ".join(lines)
    result_names = ", ".join(f"%r{k}" for k in range(len(results)))
    entry = f"""func.func @entry() {{
    {body}
    {result_names} = call @main({", ".join(operands)}) : ({", ".join(args)}) -> ({", ".join(results)})
    %u = tensor.cast %r0 : {results[0]} to tensor<*xf32>
    call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
    return
  }}
  func.func private @printMemrefF32(tensor<*xf32>) attributes {{llvm.emit_c_interface}}
  """
    at = text.index("func.func @main")
    open(dst, "w").write(text[:at] + entry + text[at:])


def write_f32_entry(src, dst, text, args, results):
    lines, operands = [], []
    for k, t in enumerate(args):
        m = re.fullmatch(r"tensor<([0-9x]+)xf32>", t)
        if not m:
            sys.exit(f"add_entry.py: {src}: --f32 needs f32 inputs, got {t}")
        count = 1
        for d in m.group(1).split("x"):
            count *= int(d)
        values = ", ".join(repr(((j * 37) % 17 - 8) / 4) for j in range(count))
        lines.append(f"%a{k}_flat = arith.constant dense<[{values}]> : tensor<{count}xf32>")
        shape = "[" + ", ".join(m.group(1).split("x")) + "]"
        lines.append(f"%a{k}_shape = arith.constant dense<{shape}> : tensor<{len(m.group(1).split('x'))}xi64>")
        lines.append(f"%a{k} = tensor.reshape %a{k}_flat(%a{k}_shape) : (tensor<{count}xf32>, tensor<{len(m.group(1).split('x'))}xi64>) -> {t}")
        operands.append(f"%a{k}")
    names = [f"%r{k}" for k in range(len(results))]
    lines.append(f"{', '.join(names)} = call @main({', '.join(operands)}) : "
                 f"({', '.join(args)}) -> ({', '.join(results)})")
    for k, t in enumerate(results):
        if not t.endswith("xf32>"):
            continue
        lines.append(f"%u{k} = tensor.cast %r{k} : {t} to tensor<*xf32>")
        lines.append(f"call @printMemrefF32(%u{k}) : (tensor<*xf32>) -> ()")
    body = "\n    ".join(lines)
    entry = f"""func.func @entry() {{
    {body}
    return
  }}
  func.func private @printMemrefF32(tensor<*xf32>) attributes {{llvm.emit_c_interface}}
  """
    at = text.index("func.func @main")
    open(dst, "w").write(text[:at] + entry + text[at:])


if __name__ == "__main__":
    main()
