#!/usr/bin/env python3
"""Scenario tests: each runs a program under the library and checks its report by content.

The tests live in tests/cases/, a module per area; a test's ctest label is its module's name.
Run one: scenarios.py NAME (ctest does, with TL_LIB, TL_SCENARIOS, TL_CLI and TL_SOURCE set).
List them: scenarios.py --list, as NAME=LABEL pairs separated by ';'.
Every test is a function named after the behaviour it proves.
"""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

SKIPPED = 77  # ctest's SKIP_RETURN_CODE (tests/CMakeLists.txt)

for case in sorted(os.listdir(os.path.join(HERE, "cases"))):
    if case.endswith(".py"):
        importlib.import_module(f"cases.{case[:-3]}")


def main():
    if sys.argv[1:] == ["--list"]:
        print(";".join(f"{name}={label}" for name, (_, label) in harness.TESTS.items()))
        return
    if len(sys.argv) != 2 or sys.argv[1] not in harness.TESTS:
        sys.exit(f"usage: {sys.argv[0]} --list | TEST_NAME")
    try:
        harness.TESTS[sys.argv[1]][0]()
    except harness.Failure as e:
        print(f"FAIL {sys.argv[1]}: {e}")
        sys.exit(1)
    except harness.Skip as e:
        print(f"SKIP {sys.argv[1]}: {e}")
        sys.exit(SKIPPED)
    if harness.UNCHECKED:
        print(f"SKIP {sys.argv[1]}: under {harness.EMULATOR[0]}, every check passed but these, "
              "which it makes impossible:")
        for what, why in harness.UNCHECKED:
            print(f"  {what}: {why}")
        sys.exit(SKIPPED)
    print(f"ok {sys.argv[1]}")


if __name__ == "__main__":
    main()
