"""Taking a file in: one text decoding and one quarantine, for the feeds and the feedback file.

**Decoding** (:func:`decode`): the encodings are tried in order (a contract's or the feedback
layout's list); a UTF-8 byte order mark is removed whatever the encoding that decoded it.

**Quarantine** (:class:`Quarantine`): one folder per run under the quarantine root, named by
the UTC time (``20261202T142501123456Z``, a ``-1`` suffix if taken), made on first use. A file
is copied there, the copy checked (same size and SHA-256), and only then removed from where it
came (a feed file; a feedback file the user named is left where it is), so a failed copy
never loses it. Beside it ``<file>.reason.txt`` says why: counts, line
numbers and column names only, never a value from the file.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

UTF8_BOM = "\ufeff"


def decode(raw: bytes, encodings: list[str] | tuple[str, ...]) -> str | None:
    """``raw`` as text in the first of ``encodings`` that decodes it (BOM removed), else None."""
    for enc in encodings:
        try:
            text = raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.removeprefix(UTF8_BOM).removeprefix("ï»¿")
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Quarantine:
    """One folder per run, made on first use; files are copied, verified, then removed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.folder: Path | None = None

    def _ensure(self) -> Path:
        if self.folder is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            folder = self.root / stamp
            n = 1
            while folder.exists():
                folder = self.root / f"{stamp}-{n}"
                n += 1
            folder.mkdir(parents=True)
            self.folder = folder
        return self.folder

    def put(self, path: Path, reason: str, keep_original: bool = False) -> tuple[Path, Path]:
        """Move ``path`` here with its reason file (``reason``: no values from the file);
        returns (the quarantined file, the reason file). ``keep_original``: copy it, leaving
        the file where it is (a file the user named, wherever it lies)."""
        folder = self._ensure()
        target = folder / path.name
        note = folder / f"{path.name}.reason.txt"
        note.write_text(reason, encoding="utf-8")
        shutil.copy2(path, target)
        if target.stat().st_size != path.stat().st_size or _sha256(target) != _sha256(path):
            raise OSError(f"copy of {path.name} to quarantine is incomplete; the file was kept")
        if not keep_original:
            path.unlink()
        return target, note
