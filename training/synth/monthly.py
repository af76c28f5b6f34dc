"""``tipscore generate --partition month``: a history as a folder of monthly Parquet parts.

The history is generated whole into a scratch folder beside the target, then split by
receipt month, so the whole file is never written where a user's file may be
(``data/history`` → not ``data/history.parquet``); the dataset card goes into the folder as
``card.md``. The bytes of the rows are those of the one-file history of the same request.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from training.partitions import write_month_parts
from training.synth.config import GeneratorConfig
from training.synth.generate import GenerateRequest, GenerateResult, generate


def parts_folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot receive monthly parts (a file name, or old parts), else None."""
    if folder.suffix:
        return f"with --partition, OUT is a folder name (no suffix), got {folder}"
    if folder.is_dir() and any(folder.glob("*.parquet")):
        return (
            f"{folder} already holds Parquet parts: remove them or choose another "
            "folder (old parts would mix with the new history)"
        )
    return None


def generate_monthly(
    request: GenerateRequest, cfg: GeneratorConfig
) -> tuple[GenerateResult, int]:
    """Generate into ``request.out`` as monthly parts; the result and the number of parts."""
    folder = request.out
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".generate-") as tmp:
        whole = Path(tmp) / "history.parquet"
        result = generate(replace(request, out=whole), cfg)
        parts = write_month_parts(whole, folder)
        card = folder / "card.md"
        shutil.move(result.card, card)
    return replace(result, path=folder, card=card), len(parts)
