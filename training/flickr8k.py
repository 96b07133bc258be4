"""Read Flickr8k in either layout: the project's `../shared/flickr8k` or the original release.

- captions: `captions.txt` (CSV, header `image,caption`) or `Flickr8k.token.txt`
  (`<image>#<n>\t<caption>` lines);
- photos: `Images/`, or the original `Flicker8k_Dataset/` (sic) or `Flickr8k_Dataset/`;
- splits: `Flickr_8k.{train,dev,test}Images.txt`, one file name a line.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "dev", "test")
IMAGE_DIRS = ("Images", "Flicker8k_Dataset", "Flickr8k_Dataset")


class DatasetError(RuntimeError):
    """The data folder is incomplete; the message lists what is wrong."""


@dataclass
class Flickr8k:
    image_dir: Path
    captions: dict[str, list[str]]  # image file name -> its reference captions
    splits: dict[str, list[str]]  # split -> image file names, in the split file's order


def read_captions(root: Path) -> dict[str, list[str]]:
    captions: dict[str, list[str]] = defaultdict(list)
    if (root / "captions.txt").exists():
        with (root / "captions.txt").open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                captions[row["image"].strip()].append(row["caption"].strip())
    elif (root / "Flickr8k.token.txt").exists():
        for line in (root / "Flickr8k.token.txt").read_text(encoding="utf-8").splitlines():
            if line.strip():
                key, caption = line.split("\t", 1)
                captions[key.split("#")[0].strip()].append(caption.strip())
    else:
        raise DatasetError(f"{root}: neither captions.txt nor Flickr8k.token.txt is there")
    return dict(captions)


def load(root: Path) -> Flickr8k:
    """Read captions and splits, and check that every split photo exists and has captions."""
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    image_dir = next((root / d for d in IMAGE_DIRS if (root / d).is_dir()), None)
    if image_dir is None:
        raise DatasetError(f"{root}: no photo folder (looked for {', '.join(IMAGE_DIRS)})")
    captions = read_captions(root)
    splits: dict[str, list[str]] = {}
    problems: list[str] = []
    for split in SPLITS:
        split_file = root / f"Flickr_8k.{split}Images.txt"
        if not split_file.exists():
            problems.append(f"missing split file {split_file.name}")
            continue
        names = [n.strip() for n in split_file.read_text().splitlines() if n.strip()]
        splits[split] = names
        problems += [f"{split}: {n} has no captions" for n in names if n not in captions]
        problems += [
            f"{split}: photo {n} is missing" for n in names if not (image_dir / n).is_file()
        ]
    problems += [
        f"captions name a photo that is absent: {n}"
        for n in sorted(captions)
        if not (image_dir / n).is_file()
    ]
    if problems:
        shown = "\n  ".join(problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise DatasetError(f"{root} is not usable:\n  {shown}{more}")
    return Flickr8k(image_dir, captions, splits)
