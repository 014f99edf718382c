"""The catalogue on disk: one human-editable YAML file per procedure, plus scope filtering."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence

import yaml
from pydantic import ValidationError

from knowledge_base.schema import Procedure


class CatalogueError(ValueError):
    """A catalogue file is unreadable or invalid; the message names the file, field and reason."""


def _yaml_default(obj):
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    raise TypeError(type(obj))


# libyaml's loader is ~10x faster than the pure-Python one (537 files load at start-up).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(yaml.SafeDumper):
    """Readable YAML: multi-line strings as blocks, keys in schema order."""


def _str_presenter(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def procedure_to_yaml(proc: Procedure) -> str:
    """Serialise a procedure as YAML (empty optional fields left out)."""
    data = json.loads(proc.json(exclude_none=True, ensure_ascii=False))
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def _format_error(path: Path, err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        parts.append(f"{path}: field '{loc}': {e['msg']}")
    return "\n".join(parts)


def load_procedure(path: Path) -> Procedure:
    """Read and validate one catalogue file; raise CatalogueError naming file, field and reason."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    try:
        proc = Procedure.parse_obj(data)
    except ValidationError as exc:
        raise CatalogueError(_format_error(path, exc)) from exc
    if path.stem != proc.code:
        raise CatalogueError(f"{path}: field 'code': {proc.code!r} does not match the file name")
    return proc


@dataclass
class Catalogue:
    """All procedures, by code."""

    procedures: Dict[str, Procedure]

    @classmethod
    def load(cls, directory: Path) -> Catalogue:
        """Load every ``*.yml`` in ``directory``; raise CatalogueError listing every bad file."""
        directory = Path(directory)
        if not directory.is_dir():
            raise CatalogueError(f"{directory}: catalogue folder not found (run `motcua import`)")
        procs, errors = {}, []
        for path in sorted(directory.glob("*.yml")):
            try:
                proc = load_procedure(path)
                procs[proc.code] = proc
            except CatalogueError as exc:
                errors.append(str(exc))
        if errors:
            raise CatalogueError("\n".join(errors))
        return cls(procs)

    def save(self, directory: Path) -> None:
        """Write one YAML file per procedure, removing files of procedures no longer present."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        keep = set()
        for code, proc in sorted(self.procedures.items()):
            path = directory / f"{code}.yml"
            keep.add(path.name)
            text = procedure_to_yaml(proc)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
        for path in directory.glob("*.yml"):
            if path.name not in keep:
                path.unlink()

    def __len__(self) -> int:
        return len(self.procedures)

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self.procedures[c] for c in sorted(self.procedures))

    def get(self, code: str) -> Optional[Procedure]:
        """The procedure with this code, or None."""
        return self.procedures.get(code)

    def in_scope(self, fields: Sequence[str], levels: Sequence[str]) -> List[Procedure]:
        """Procedures whose field is in ``fields`` and that some level in ``levels`` handles.

        An empty sequence means no restriction on that dimension.
        """
        out = []
        for proc in self:
            if fields and proc.field not in fields:
                continue
            if levels and not set(proc.levels) & set(levels):
                continue
            out.append(proc)
        return out


def catalogue_hash(procedures: Iterable[Procedure]) -> str:
    """Content hash of the procedures (order-independent): a changed record changes it."""
    h = hashlib.sha256()
    for proc in sorted(procedures, key=lambda p: p.code):
        h.update(proc.json(exclude_none=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]
