"""One catalogue for every node: the catalogue and its search index published in the database, pulled by each node.

A node whose staff update the catalogue ("Cập nhật trợ lý" in the console, `motcua console export`) rebuilds its
index and publishes both (`publish`). Every node's deliverer process (`motcua channels deliver`, which `motcua
run` starts) checks the latest published version every few seconds (``CatalogueSync``): a newer one is written
over the node's catalogue and index folders, the index's manifest last, and the node's assistant reloads them
on its next search (service.KnowledgeBase watches the manifest). An index built for another model or scope is
rebuilt there by the node itself, from the catalogue it just received.

The latest published version wins over a node's own files: an operator who ships a new catalogue in an image
publishes it (`motcua catalogue publish`); while nothing was ever published, each node keeps its own.
"""
from __future__ import annotations

import io
import json
import logging
import os
import socket
import tarfile
from pathlib import Path
from typing import Dict, Optional

from core.stores.catalogue_versions import CatalogueVersions
from knowledge_base.catalogue import Catalogue, catalogue_hash
from knowledge_base.retrieval.store import FILES

log = logging.getLogger(__name__)
MARKER = "published.json"  # in the index folder: the version this node's files are
MANIFEST = "manifest.json"


def pack(catalogue_dir: Path, index_dir: Path) -> bytes:
    """The catalogue's YAML files and the index's files as a gzip'd tar (catalogue/…, index/…)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path in sorted(Path(catalogue_dir).glob("*.yml")):
            tar.add(path, arcname=f"catalogue/{path.name}")
        for name in (*FILES, MANIFEST):
            tar.add(Path(index_dir) / name, arcname=f"index/{name}")
    return out.getvalue()


def unpack(bundle: bytes) -> Dict[str, Dict[str, bytes]]:
    """{"catalogue": {file name: bytes}, "index": {...}} of a bundle; ValueError for anything unexpected (a bundle
    is read from the database, but a name with a folder in it would still never be written outside ours)."""
    parts: Dict[str, Dict[str, bytes]] = {"catalogue": {}, "index": {}}
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        for member in tar.getmembers():
            part, _, name = member.name.partition("/")
            if not member.isfile() or part not in parts or not name or "/" in name or name.startswith("."):
                raise ValueError(f"unexpected entry in a catalogue bundle: {member.name!r}")
            parts[part][name] = tar.extractfile(member).read()  # type: ignore[union-attr]
    if not parts["catalogue"] or set(parts["index"]) != {*FILES, MANIFEST}:
        raise ValueError("incomplete catalogue bundle")
    return parts


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def apply(bundle: bytes, catalogue_dir: Path, index_dir: Path, version: int) -> int:
    """Write a bundle over the node's catalogue and index: each file replaced whole, procedures no longer in the
    catalogue removed, the index's manifest and then the version marker last (a reader sees the old index or
    the new one). Returns the number of procedures."""
    parts = unpack(bundle)
    catalogue_dir, index_dir = Path(catalogue_dir), Path(index_dir)
    catalogue_dir.mkdir(parents=True, exist_ok=True)
    index_dir.mkdir(parents=True, exist_ok=True)
    for name, data in parts["catalogue"].items():
        _write(catalogue_dir / name, data)
    for old in catalogue_dir.glob("*.yml"):
        if old.name not in parts["catalogue"]:
            old.unlink()
    for name in FILES:
        _write(index_dir / name, parts["index"][name])
    _write(index_dir / MANIFEST, parts["index"][MANIFEST])
    mark(index_dir, version, catalogue_hash(Catalogue.load(catalogue_dir)))
    return len(parts["catalogue"])


def mark(index_dir: Path, version: int, content: str) -> None:
    """Record which published version (and catalogue content hash) this node's files are."""
    _write(Path(index_dir) / MARKER, json.dumps({"version": version, "catalogue_hash": content}).encode())


def local_version(index_dir: Path) -> Optional[int]:
    """The published version this node's files are (None: its own, never synced)."""
    return _marker(index_dir).get("version")


def _marker(index_dir: Path) -> dict:
    try:
        marker = json.loads((Path(index_dir) / MARKER).read_text())
        return marker if isinstance(marker, dict) else {}
    except (OSError, ValueError):
        return {}


def node_name() -> str:
    return os.environ.get("HOSTNAME") or socket.gethostname()


class LocalChanges(RuntimeError):
    """This node's catalogue and the published one have both changed: one would overwrite the other."""


def publish(store: CatalogueVersions, catalogue_dir: Path, index_dir: Path, by: str, first: bool = False) -> int:
    """Publish this node's catalogue and (current) index as the new version; its id. The node is at that version.

    Refused (LocalChanges) when a version newer than the one this node took was published meanwhile: publishing
    would drop its changes. ``first``: a node that never took a version may publish over the latest (a new
    image's catalogue, published once by an operator)."""
    latest = store.latest()
    here = local_version(index_dir)
    if latest is not None and here != latest["id"] and not (first and here is None):
        raise LocalChanges(f"version {latest['id']} was published after the one this node has "
                           f"({here if here is not None else 'none'}): take it first (`motcua catalogue pull`), "
                           "then make the changes again and publish")
    catalogue = Catalogue.load(catalogue_dir)
    content = catalogue_hash(catalogue)
    version = store.publish(pack(catalogue_dir, index_dir), content, len(catalogue), f"{by} @ {node_name()}")
    mark(index_dir, version, content)
    log.info("catalogue version %s published (%s procedures)", version, len(catalogue))
    return version


class CatalogueSync:
    """Brings this node's catalogue and index to the latest published version (see the module's docstring)."""

    def __init__(self, store: CatalogueVersions, catalogue_dir: Path, index_dir: Path):
        self.store, self.catalogue_dir, self.index_dir = store, Path(catalogue_dir), Path(index_dir)
        self._held: Optional[int] = None  # the version not taken because of local changes (warned once)

    def pull(self, force: bool = False) -> Optional[int]:
        """Take the latest version now; its id, or None when none was published. LocalChanges when this node's
        catalogue has changes not published (``force``: overwrite them)."""
        latest = self.store.latest()
        if latest is None:
            return None
        if force or latest["id"] != local_version(self.index_dir):
            if not force and self.changed_here():
                raise LocalChanges(f"this node's catalogue has changes not published; version {latest['id']} "
                                   "would overwrite them (publish them first, or pull with --force)")
            apply(self.store.bundle(latest["id"]), self.catalogue_dir, self.index_dir, latest["id"])
        return int(latest["id"])

    def changed_here(self) -> bool:
        """Whether this node's catalogue differs from the published version it last took or made."""
        here = _marker(self.index_dir).get("catalogue_hash")
        return here is not None and catalogue_hash(Catalogue.load(self.catalogue_dir)) != here

    def run_once(self) -> Dict[str, int]:
        """One check: {"updated": 1} when a newer version was written here, else {"updated": 0}."""
        latest = self.store.latest()
        # a version already found held back is checked again only when a newer one comes
        if latest is None or latest["id"] in (local_version(self.index_dir), self._held):
            return {"updated": 0}
        if self.changed_here():  # staff changed this node's catalogue and have not published it: never overwritten
            log.warning("catalogue version %s not taken: this node's catalogue has changes not published yet "
                        "(publish them with the console's update, or `motcua catalogue pull --force`)", latest["id"])
            self._held = latest["id"]
            return {"updated": 0}
        procedures = apply(self.store.bundle(latest["id"]), self.catalogue_dir, self.index_dir, latest["id"])
        log.info("catalogue version %s (%s procedures, published by %s at %s) written here", latest["id"],
                 procedures, latest["published_by"], latest["published_at"])
        return {"updated": 1}
