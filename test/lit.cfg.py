# -*- Python -*-
# lit configuration of the TerMinator regression suite (check-terminator).

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TERMINATOR"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
# unit/ is its own suite (GoogleTest format), run beside this one.
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "unit"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.terminator_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%srcroot", config.terminator_src_root))
config.substitutions.append(("%terminator_bin", config.terminator_tools_dir))
# Python with the pinned PyPI packages (onnx, onnxruntime, numpy) that ./dev
# installs into build/venv; the tests that need them use %python.
venv_python = os.path.join(config.terminator_obj_root, "venv", "bin", "python")
config.substitutions.append(
    ("%python", venv_python if os.path.exists(venv_python) else config.python_executable))

# mlir-runner and its support libraries run the reference path's programs.
config.substitutions.append(
    ("%mlir_runner", os.path.join(config.llvm_tools_dir, "mlir-runner")))
llvm_lib = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
config.substitutions.append(
    ("%runner_libs", "-shared-libs=" + ",".join(
        os.path.join(llvm_lib, l)
        for l in ["libmlir_runner_utils.so", "libmlir_c_runner_utils.so"])))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Our tools first, then FileCheck, not, count from LLVM.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.terminator_tools_dir, config.llvm_tools_dir]
tools = ["terminator-opt", "terminator-archive", "terminator-import",
         "terminator-compile", "terminator-bench"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# aarch64: the cross-built runtime and qemu-aarch64 (./dev installs both).
import shutil
if shutil.which("qemu-aarch64") and os.path.exists(
        os.path.join(config.terminator_obj_root, "runtime-aarch64",
                     "libterminator_rt.a")):
    config.available_features.add("aarch64-qemu")

# x86 kernel ISAs this host runs (execution tests are gated on them; the
# suite passes on a host without AVX-512).
if os.path.exists("/proc/cpuinfo"):
    flags = set()
    for line in open("/proc/cpuinfo"):
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    if "avx2" in flags:
        config.available_features.add("avx2")
    if {"avx512f", "avx512bw", "avx512_vnni"} <= flags:
        config.available_features.add("avx512vnni")
