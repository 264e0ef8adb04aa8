"""Checks what `sam build` produced for every function of template.yaml (scripts/deploy-check.sh).

    python3 scripts/deploy_check.py functions TEMPLATE
        one line per function built by cargo-lambda: `LogicalId Binary`
    python3 scripts/deploy_check.py check TEMPLATE BUILD_DIR
        for each of them, BUILD_DIR/<LogicalId>/bootstrap must be a 64-bit little-endian ELF
        executable for aarch64 (ELF e_machine 183, EM_AARCH64) whose architecture is the template's
        (arm64), within the size limit, asking for no glibc newer than the runtime's; prints a
        table, then `bootstrap BINARY=PATH` per function (for `assistant bench coldstart --bootstrap`);
        exits 1 on any failure.
    python3 scripts/deploy_check.py sha3-probe PATH
        writes a tiny static aarch64 executable whose first instruction is EOR3 (the Armv8.2 SHA3
        extension, which Graviton2's Neoverse N1 lacks: cargo-lambda#934's SIGILL) and which
        then exits 0: under `qemu-aarch64-static -cpu neoverse-n1` it must die of SIGILL, under
        `-cpu max` exit 0, proving the emulated core is as strict as Lambda's.

Python 3 standard library and PyYAML (the local gateway's loader reads the template's tags).
"""

from __future__ import annotations

import os
import re
import struct
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "stack"))
import gateway  # noqa: E402  (its template loader knows CloudFormation's !Ref, !GetAtt, !Sub)

# The project's own budget per bootstrap (BENCHMARKS.md, "Cold start and binary size"; MB = 10^6
# bytes), far below Lambda's 250 MB unzipped and 50 MB zipped for a direct upload.
SIZE_LIMIT_BYTES = 8_000_000
# provided.al2023 ships glibc 2.34; a binary asking for a newer symbol version fails to load there.
RUNTIME_GLIBC = {"provided.al2023": (2, 34), "provided.al2": (2, 26)}
# The template's Architectures value and the ELF e_machine it needs.
ELF_MACHINE = {"arm64": 183, "x86_64": 62}
ELF_MACHINE_NAMES = {183: "aarch64", 62: "x86-64"}


def load(template_path: str) -> dict[str, Any]:
    return gateway.load_template(Path(template_path))


def functions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every AWS::Serverless::Function built by cargo-lambda, with its runtime and architecture
    (the function's own, else the Globals')."""
    glob = (doc.get("Globals") or {}).get("Function") or {}
    out = []
    for logical_id, res in (doc.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        meta = res.get("Metadata") or {}
        props = res.get("Properties") or {}
        if meta.get("BuildMethod") != "rust-cargolambda":
            raise SystemExit(f"{logical_id}: BuildMethod is {meta.get('BuildMethod')!r}, not rust-cargolambda")
        binary = (meta.get("BuildProperties") or {}).get("Binary")
        if not binary:
            raise SystemExit(f"{logical_id}: no Metadata.BuildProperties.Binary")
        archs = props.get("Architectures") or glob.get("Architectures") or ["x86_64"]
        out.append(
            {
                "id": logical_id,
                "binary": binary,
                "arch": archs[0],
                "runtime": props.get("Runtime") or glob.get("Runtime"),
            }
        )
    if not out:
        raise SystemExit("template.yaml has no AWS::Serverless::Function")
    return out


def elf_machine(data: bytes) -> tuple[int | None, str]:
    """(e_machine, problem) of an ELF file's header; problem is empty when it is a 64-bit
    little-endian executable (ET_EXEC or ET_DYN)."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        return None, "not an ELF file"
    if data[4] != 2:
        return None, "not a 64-bit ELF"
    if data[5] != 1:
        return None, "not little-endian"
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_type not in (2, 3):
        return e_machine, f"ELF type {e_type} is not an executable"
    return e_machine, ""


def newest_glibc(data: bytes) -> tuple[int, int] | None:
    """The newest GLIBC_x.y symbol version the binary names (its .gnu.version_r strings)."""
    versions = {(int(a), int(b)) for a, b in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)}
    return max(versions) if versions else None


def check(template_path: str, build_dir: str) -> int:
    failures = []
    rows = []
    pairs = []
    for f in functions(load(template_path)):
        path = os.path.join(build_dir, f["id"], "bootstrap")
        if not os.path.isfile(path):
            failures.append(f"{f['id']}: no {path}")
            continue
        with open(path, "rb") as fh:
            data = fh.read()
        machine, problem = elf_machine(data)
        want = ELF_MACHINE.get(f["arch"])
        if problem:
            failures.append(f"{f['id']}: {problem}")
        elif machine != want:
            failures.append(
                f"{f['id']}: ELF machine {ELF_MACHINE_NAMES.get(machine, machine)}, the template says {f['arch']}"
            )
        if not os.access(path, os.X_OK):
            failures.append(f"{f['id']}: {path} is not executable")
        size = len(data)
        if size > SIZE_LIMIT_BYTES:
            failures.append(f"{f['id']}: {size} bytes, over the {SIZE_LIMIT_BYTES} limit")
        glibc = newest_glibc(data)
        limit = RUNTIME_GLIBC.get(f["runtime"])
        if glibc and limit and glibc > limit:
            failures.append(
                f"{f['id']}: needs GLIBC_{glibc[0]}.{glibc[1]}, {f['runtime']} has {limit[0]}.{limit[1]}"
            )
        rows.append(
            (
                f["id"],
                f["binary"],
                ELF_MACHINE_NAMES.get(machine, str(machine)),
                size,
                f"{size / 1e6:.2f}",
                f"GLIBC_{glibc[0]}.{glibc[1]}" if glibc else "-",
            )
        )
        pairs.append(f"{f['binary']}={path}")
    print(f"{'function':<20} {'binary':<12} {'machine':<8} {'bytes':>10} {'MB':>6}  newest glibc")
    for r in rows:
        print(f"{r[0]:<20} {r[1]:<12} {r[2]:<8} {r[3]:>10} {r[4]:>6}  {r[5]}")
    print(f"limit: {SIZE_LIMIT_BYTES} bytes each; MB = 10^6 bytes")
    if failures:
        for line in failures:
            print(f"FAIL {line}", file=sys.stderr)
        return 1
    for p in pairs:
        print(f"bootstrap {p}")
    return 0


def sha3_probe() -> bytes:
    """A static aarch64 ELF executable: EOR3 v0.16b, v1.16b, v2.16b, v3.16b; then exit(0)."""
    code = struct.pack(
        "<4I",
        0xCE020C20,  # eor3 v0.16b, v1.16b, v2.16b, v3.16b (FEAT_SHA3)
        0xD2800BA8,  # movz x8, #93 (exit)
        0xD2800000,  # movz x0, #0
        0xD4000001,  # svc #0
    )
    base, header_size = 0x400000, 64 + 56
    entry = base + header_size
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    # ELF header: ET_EXEC, EM_AARCH64, version 1, entry, program headers right after it.
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, entry, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    size = header_size + len(code)
    # One PT_LOAD segment, read + execute, mapping the whole file at base.
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return header + segment + code


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "functions":
        for f in functions(load(argv[2])):
            print(f["id"], f["binary"])
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "sha3-probe":
        with open(argv[2], "wb") as out:
            out.write(sha3_probe())
        os.chmod(argv[2], 0o755)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
