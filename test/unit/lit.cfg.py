# -*- Python -*-
# lit configuration of the GoogleTest unit tests: one lit test per gtest case.

import os

import lit.formats

config.name = "TERMINATOR-UNIT"
config.suffixes = []
config.test_source_root = os.path.join(config.terminator_obj_root, "bin")
config.test_exec_root = config.test_source_root
config.test_format = lit.formats.GoogleTest(".", "-unit-tests")
