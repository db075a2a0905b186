"""Resource photos: decoded and re-encoded so that nothing but an image is ever served."""

import contextlib
import io
import uuid
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

PHOTO_MAX_BYTES = 8 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_MAX_SIDE = 1600
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class PhotoError(ValueError):
    """The upload is not an image the portal accepts."""


def photo_folder() -> Path:
    """Where photos live: ``instance/uploads/photos`` (never under ``static/``)."""
    folder = Path(current_app.instance_path) / "uploads" / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_photo(data: bytes) -> str:
    """Check, decode, shrink and re-encode an uploaded image; return its generated file name."""
    from flask_babel import gettext as _

    if not data:
        raise PhotoError(_("The file is empty."))
    if len(data) > PHOTO_MAX_BYTES:
        raise PhotoError(_("The photo is larger than %(mb)d MB.", mb=PHOTO_MAX_BYTES // 2**20))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise PhotoError(_("Upload a JPEG, PNG, WebP or GIF image."))
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise PhotoError(_("The image has too many pixels."))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            output = io.BytesIO()
            if has_alpha:
                image.save(output, format="PNG", optimize=True)
                suffix = ".png"
            else:
                image.save(output, format="JPEG", quality=85, optimize=True)
                suffix = ".jpg"
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise PhotoError(_("This file is not an image the portal can read.")) from None
    name = f"{uuid.uuid4().hex}{suffix}"
    (photo_folder() / name).write_bytes(output.getvalue())
    return name


def photo_file(filename: str) -> Path:
    """The stored file of a photo name produced by :func:`store_photo`."""
    if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
        raise FileNotFoundError(filename)
    return photo_folder() / filename


def delete_photo(filename: str | None) -> None:
    """Remove a replaced photo's file (missing files are fine)."""
    if filename:
        with contextlib.suppress(FileNotFoundError):
            photo_file(filename).unlink(missing_ok=True)
