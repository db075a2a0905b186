"""Request documents: PDF, PNG, JPEG, DOCX and XLSX only, recognised by content, not by name."""

import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "docx": ".docx", "xlsx": ".xlsx"}


class DocumentError(ValueError):
    """The upload is refused (wrong type, too large, empty)."""


@dataclass(frozen=True)
class StoredDocument:
    """What was stored: generated name, cleaned original name, detected type, size, digest."""

    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def detect_kind(data: bytes) -> str | None:
    """The document kind by its bytes, or ``None`` for anything not accepted."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names:
            if any(name.startswith("word/") for name in names):
                return "docx"
            if any(name.startswith("xl/") for name in names):
                return "xlsx"
    return None


def clean_filename(name: str, kind: str) -> str:
    """A display name without paths or control characters, ending in the detected extension."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".") or "document"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem[:120]}{EXTENSIONS[kind]}"


def upload_folder() -> Path:
    """``instance/uploads/requests`` (never under ``static/``)."""
    folder = Path(current_app.instance_path) / "uploads" / "requests"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def max_bytes() -> int:
    """The configured size limit of one document."""
    return current_app.config["UPLOAD_MAX_MB"] * 1024 * 1024


def store_document(data: bytes, original_name: str) -> StoredDocument:
    """Check and store one uploaded document under a generated name."""
    if not data:
        raise DocumentError(_("The file is empty."))
    if len(data) > max_bytes():
        raise DocumentError(
            _("The file is larger than %(mb)d MB.", mb=current_app.config["UPLOAD_MAX_MB"])
        )
    kind = detect_kind(data)
    if kind is None:
        raise DocumentError(
            _("Only PDF, PNG, JPEG, Word (DOCX) and Excel (XLSX) files are accepted.")
        )
    stored_name = f"{uuid.uuid4().hex}{EXTENSIONS[kind]}"
    (upload_folder() / stored_name).write_bytes(data)
    return StoredDocument(
        stored_name=stored_name,
        original_name=clean_filename(original_name, kind),
        content_type=CONTENT_TYPES[kind],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def document_path(stored_name: str) -> Path:
    """The file of a stored document (only names this module generated)."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|png|jpg|docx|xlsx)", stored_name or ""):
        raise FileNotFoundError(stored_name)
    return upload_folder() / stored_name
