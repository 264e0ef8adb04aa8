"""Unit tests of scripts/deploy_check.py: `python3 -m unittest scripts/test_deploy_check.py`."""

import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_check  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def elf(machine: int, e_type: int = 2, klass: int = 2, data: int = 1, tail: bytes = b"") -> bytes:
    """A 64-byte ELF header with the given fields (the rest zero), then `tail`."""
    ident = b"\x7fELF" + bytes([klass, data, 1]) + bytes(9)
    return ident + struct.pack("<HH", e_type, machine) + bytes(64 - 20) + tail


class ElfHeader(unittest.TestCase):
    def test_an_aarch64_executable_is_recognised(self):
        self.assertEqual(deploy_check.elf_machine(elf(183)), (183, ""))
        self.assertEqual(deploy_check.elf_machine(elf(183, e_type=3)), (183, ""), "PIE (ET_DYN)")

    def test_other_machines_and_files_are_told_apart(self):
        self.assertEqual(deploy_check.elf_machine(elf(62))[0], 62)
        self.assertEqual(deploy_check.elf_machine(b"#!/bin/sh\n" + bytes(64)), (None, "not an ELF file"))
        self.assertEqual(deploy_check.elf_machine(elf(183, klass=1))[1], "not a 64-bit ELF")
        self.assertEqual(deploy_check.elf_machine(elf(183, data=2))[1], "not little-endian")
        self.assertIn("not an executable", deploy_check.elf_machine(elf(183, e_type=1))[1])

    def test_the_newest_glibc_version_asked_for(self):
        data = elf(183, tail=b"\0GLIBC_2.17\0GLIBC_2.28\0GLIBC_2.3.4\0")
        self.assertEqual(deploy_check.newest_glibc(data), (2, 28))
        self.assertIsNone(deploy_check.newest_glibc(elf(183)))


class Sha3Probe(unittest.TestCase):
    def test_the_probe_is_an_aarch64_executable_starting_with_eor3(self):
        probe = deploy_check.sha3_probe()
        self.assertEqual(deploy_check.elf_machine(probe), (183, ""))
        entry = struct.unpack_from("<Q", probe, 24)[0]
        # The one segment maps the file at 0x400000: the entry's file offset is entry - 0x400000.
        self.assertEqual(struct.unpack_from("<I", probe, entry - 0x400000)[0], 0xCE020C20)


class Template(unittest.TestCase):
    def test_every_function_is_an_arm64_cargo_lambda_build_on_al2023(self):
        found = deploy_check.functions(deploy_check.load(os.path.join(ROOT, "template.yaml")))
        self.assertEqual(
            sorted(f["binary"] for f in found),
            ["compensate", "feedback", "intake", "order-card", "orders", "push", "replies", "shops", "suggest"],
        )
        for f in found:
            self.assertEqual((f["arch"], f["runtime"]), ("arm64", "provided.al2023"), f["id"])


class Check(unittest.TestCase):
    def test_a_wrong_or_missing_bootstrap_fails_and_a_right_one_passes(self):
        template = os.path.join(ROOT, "template.yaml")
        functions = deploy_check.functions(deploy_check.load(template))
        with tempfile.TemporaryDirectory() as build:
            for f in functions:
                os.makedirs(os.path.join(build, f["id"]))
                path = os.path.join(build, f["id"], "bootstrap")
                with open(path, "wb") as out:
                    out.write(elf(183, tail=b"GLIBC_2.28\0"))
                os.chmod(path, 0o755)
            with open(os.devnull, "w") as quiet:
                stdout, stderr = sys.stdout, sys.stderr
                sys.stdout = sys.stderr = quiet
                try:
                    ok = deploy_check.check(template, build)
                    with open(os.path.join(build, functions[0]["id"], "bootstrap"), "wb") as out:
                        out.write(elf(62))
                    wrong_machine = deploy_check.check(template, build)
                    os.remove(os.path.join(build, functions[0]["id"], "bootstrap"))
                    missing = deploy_check.check(template, build)
                finally:
                    sys.stdout, sys.stderr = stdout, stderr
        self.assertEqual((ok, wrong_machine, missing), (0, 1, 1))


if __name__ == "__main__":
    unittest.main()
