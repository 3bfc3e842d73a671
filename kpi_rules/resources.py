"""The one place that knows where the bundled rules/ and schemas/ live.

Installed from a wheel they sit in ``kpi_rules/_bundled/``; in a source
checkout (or an editable install) they are the repository's top-level folders.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUILTIN_PREFIX = "builtin:"


def bundled_dir(name: str) -> Path:
    packaged = Path(str(resources.files("kpi_rules"))) / "_bundled" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


SCHEMA_SUFFIX = ".schema.json"


def schema_path(kind: str) -> Path:
    return bundled_dir("schemas") / f"{kind}{SCHEMA_SUFFIX}"


def schema_names() -> list[str]:
    """The published schemas (schemas/NAME.schema.json): what `kpi-rules schema NAME` prints."""
    return sorted(path.name.removesuffix(SCHEMA_SUFFIX) for path in bundled_dir("schemas").glob(f"*{SCHEMA_SUFFIX}"))


def builtin_names() -> list[str]:
    return sorted(path.stem for path in bundled_dir("rules").glob("*.yaml"))


def builtin_path(reference: str) -> Path | None:
    """The file behind ``builtin:NAME``, or None when there is no such library."""
    name = reference.removeprefix(BUILTIN_PREFIX)
    path = bundled_dir("rules") / f"{name}.yaml"
    return path if name in builtin_names() else None


def preset_names() -> list[str]:
    return sorted(path.stem for path in (bundled_dir("rules") / "presets").glob("*.yaml"))


def preset_path(name: str) -> Path | None:
    """The file behind ``preset: NAME``, or None when there is no such preset."""
    return bundled_dir("rules") / "presets" / f"{name}.yaml" if name in preset_names() else None
