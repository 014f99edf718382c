"""One catalogue for every node: publish on one, pull on the others (knowledge_base.published)."""
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from core.stores.catalogue_versions import CatalogueVersions
from knowledge_base.published import CatalogueSync, LocalChanges, apply, local_version, pack, publish, unpack
from knowledge_base.retrieval.store import FILES
from tests.conftest import ROOT

CODES = ["1.012786", "1.012784", "1.013831"]


def node(tmp_path: Path, name: str) -> tuple:
    """A node's own catalogue (three procedures) and index folder (files standing in for a built index)."""
    catalogue, index = tmp_path / name / "catalogue", tmp_path / name / "index"
    catalogue.mkdir(parents=True)
    index.mkdir()
    for code in CODES:
        shutil.copy(ROOT / "knowledge_base/catalogue" / f"{code}.yml", catalogue)
    for file in FILES:
        (index / file).write_bytes(f"{name} {file}".encode())
    (index / "manifest.json").write_text(json.dumps({"built_by": name}))
    return catalogue, index


def add_alias(catalogue: Path, code: str, alias: str) -> None:
    import yaml

    path = catalogue / f"{code}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["aliases"] = [*data.get("aliases", []), alias]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_version_published_on_one_node_reaches_the_other(tmp_path, new_db):
    store = CatalogueVersions(new_db("app"))
    a_catalogue, a_index = node(tmp_path, "a")
    b_catalogue, b_index = node(tmp_path, "b")
    (b_catalogue / "1.013831.yml").unlink()  # b lacks a procedure a has
    sync_b = CatalogueSync(store, b_catalogue, b_index)
    assert sync_b.run_once() == {"updated": 0} and local_version(b_index) is None  # nothing published: its own

    add_alias(a_catalogue, "1.012786", "làm lại sổ đỏ bị cháy")
    version = publish(store, a_catalogue, a_index, "lan")
    assert local_version(a_index) == version
    assert sync_b.run_once() == {"updated": 1}
    assert local_version(b_index) == version
    assert sorted(p.name for p in b_catalogue.glob("*.yml")) == sorted(f"{c}.yml" for c in CODES)
    assert "làm lại sổ đỏ bị cháy" in (b_catalogue / "1.012786.yml").read_text(encoding="utf-8")
    assert (b_index / "index.faiss").read_bytes() == b"a index.faiss"
    assert json.loads((b_index / "manifest.json").read_text()) == {"built_by": "a"}
    assert sync_b.run_once() == {"updated": 0}  # taken once
    assert store.latest()["published_by"].startswith("lan @ ")

    (b_catalogue / "1.012784.yml").unlink()  # b's files lost a procedure: a newer version brings it back
    add_alias(a_catalogue, "1.012784", "gộp sổ hai mảnh")
    publish(store, a_catalogue, a_index, "lan")
    assert sync_b.run_once() == {"updated": 0}  # a change here not published: never overwritten silently
    with pytest.raises(LocalChanges):
        sync_b.pull()
    with pytest.raises(LocalChanges):  # nor does b's publishing drop a's newer version
        publish(store, b_catalogue, b_index, "hoa")
    assert sync_b.pull(force=True) == local_version(b_index) == store.latest()["id"]
    assert "gộp sổ hai mảnh" in (b_catalogue / "1.012784.yml").read_text(encoding="utf-8")


def test_old_versions_are_pruned(tmp_path, new_db):
    store = CatalogueVersions(new_db("app"))
    catalogue, index = node(tmp_path, "a")
    ids = [publish(store, catalogue, index, "op") for _ in range(4)]
    assert store.prune(keep=2) == 2
    assert [v["id"] for v in store.history()] == ids[:1:-1]
    with pytest.raises(KeyError):
        store.bundle(ids[0])


def bundle_with(entries: dict) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize("name", ["../evil.yml", "catalogue/../../evil.yml", "catalogue/.hidden", "other/x",
                                  "catalogue/sub/x.yml"])
def test_a_bundle_never_writes_outside_the_nodes_folders(tmp_path, name):
    catalogue, index = node(tmp_path, "a")
    good = unpack(pack(catalogue, index))
    entries = {f"catalogue/{n}": d for n, d in good["catalogue"].items()}
    entries.update({f"index/{n}": d for n, d in good["index"].items()})
    entries[name] = b"x"
    with pytest.raises(ValueError):
        apply(bundle_with(entries), tmp_path / "c", tmp_path / "i", 1)
    assert not (tmp_path / "evil.yml").exists() and not (tmp_path / "c").exists()


def test_an_incomplete_bundle_is_refused(tmp_path):
    catalogue, index = node(tmp_path, "a")
    good = unpack(pack(catalogue, index))
    entries = {f"catalogue/{n}": d for n, d in good["catalogue"].items()}
    entries["index/manifest.json"] = good["index"]["manifest.json"]  # no index files
    with pytest.raises(ValueError, match="incomplete"):
        unpack(bundle_with(entries))


def test_a_new_images_catalogue_is_published_once_by_an_operator(tmp_path, new_db):
    """A node that never took a version (a fresh container of a new image) may publish over the latest."""
    store = CatalogueVersions(new_db("app"))
    a_catalogue, a_index = node(tmp_path, "a")
    publish(store, a_catalogue, a_index, "console")
    fresh_catalogue, fresh_index = node(tmp_path, "fresh")
    with pytest.raises(LocalChanges):
        publish(store, fresh_catalogue, fresh_index, "console")
    version = publish(store, fresh_catalogue, fresh_index, "operator", first=True)
    assert store.latest()["id"] == version == local_version(fresh_index)
