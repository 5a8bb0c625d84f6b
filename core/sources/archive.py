"""Safe handling of downloaded files: zip bundles that cannot escape or explode, atomic writes.

A bundle is untrusted input until verified: an entry may name `../../etc/x`, be a symlink, claim
1 KB while inflating to 10 GB, appear twice (which copy would win?) or be both a file and a folder.
Everything written goes below one target folder, and each file appears complete or not at all (written
to a hidden temp name, then renamed), so a half-written module is never imported.
"""

from __future__ import annotations

import io
import os
import stat
import uuid
import zipfile
from pathlib import Path

from core.sources.manifest import ManifestError, path_conflict, safe_relative_path

MAX_FILES = 10_000
MAX_RATIO = 200  # a larger inflation ratio on a large entry is treated as a zip bomb
_RATIO_FLOOR = 1 << 20  # small files may compress very well without being suspicious


class UnsafeArchive(ValueError):
    pass


def read_zip(data: bytes, *, max_bytes: int) -> dict[str, bytes]:
    """Entries of a zip bundle, by relative path; UnsafeArchive for anything that could escape or explode."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"not a zip file: {exc}") from exc
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_FILES:
        raise UnsafeArchive(f"{len(infos)} entries, more than the {MAX_FILES} allowed")
    declared = sum(i.file_size for i in infos)
    if declared > max_bytes:
        raise UnsafeArchive(f"inflates to {declared} bytes, over the {max_bytes}-byte cap (zip bomb?)")
    names = []
    for info in infos:
        try:
            names.append(safe_relative_path(info.filename))
        except ManifestError as exc:
            raise UnsafeArchive(f"entry {info.filename!r}: {exc}") from None
    if conflict := path_conflict(names):
        raise UnsafeArchive(f"entry '{conflict[0]}' {conflict[1]}")
    files: dict[str, bytes] = {}
    total = 0
    for info, name in zip(infos, names, strict=True):
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchive(f"entry {info.filename!r} is a symbolic link")
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeArchive(
                f"entry {info.filename!r} inflates {info.file_size // max(info.compress_size, 1)}x (zip bomb?)"
            )
        with archive.open(info) as handle:
            # read at most one byte more than declared: a lying header cannot make us inflate more
            content = handle.read(info.file_size + 1)
        if len(content) != info.file_size:
            raise UnsafeArchive(f"entry {info.filename!r} is not the size its header declares")
        total += len(content)
        if total > max_bytes:
            raise UnsafeArchive(f"inflates past the {max_bytes}-byte cap (zip bomb?)")
        files[name] = content
    return files


def write_atomic(root: Path, relative: str, data: bytes) -> Path:
    """Write `data` to root/relative so it appears complete or not at all; refuse paths leaving root."""
    relative = safe_relative_path(relative)
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ManifestError(f"path {relative!r} would escape the pipelines folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    with open(temp, "wb") as handle:
        handle.write(data)
    os.replace(temp, target)
    return target
