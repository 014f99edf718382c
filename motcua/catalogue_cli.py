"""`motcua catalogue publish | pull | status`: one catalogue for every node (knowledge_base.published)."""
from __future__ import annotations

import sys

from core.settings import get_settings


def catalogue_sync(settings):
    """This node's CatalogueSync (its ``store``: the published versions in the application database)."""
    from core.stores.catalogue_versions import CatalogueVersions
    from knowledge_base.published import CatalogueSync

    return CatalogueSync(CatalogueVersions(settings.storage.database_url), settings.knowledge.catalogue_dir,
                         settings.knowledge.index_dir)


def publish_current(settings, by: str, kb=None, first: bool = False) -> int:
    """Bring this node's index up to date with its catalogue (rebuilding it when stale; ``kb``: a knowledge base
    that has just opened it), then publish both (``first``: also from a node that never took a version, see
    knowledge_base.published.publish). LocalChanges when a newer version was published meanwhile."""
    from knowledge_base.published import publish
    from knowledge_base.service import KnowledgeBase

    (kb or KnowledgeBase(settings)).retriever  # noqa: B018  opening it rebuilds a stale index
    store = catalogue_sync(settings).store
    try:
        version = publish(store, settings.knowledge.catalogue_dir, settings.knowledge.index_dir, by, first=first)
        store.prune(keep=10)
        return version
    finally:
        store.close()


def cmd_catalogue(args) -> int:
    """Publish this node's catalogue and index, take the latest published one, or say which this node has."""
    from knowledge_base.published import LocalChanges

    settings = get_settings()
    try:
        return _catalogue(settings, args)
    except LocalChanges as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 1


def _catalogue(settings, args) -> int:
    from knowledge_base.published import local_version

    if args.action == "publish":
        version = publish_current(settings, "operator", first=True)
        print(f"catalogue version {version} published: every node takes it within "
              f"{settings.channels.deliver_interval_s:g} s (its `motcua channels deliver`)")
        return 0
    sync = catalogue_sync(settings)
    store = sync.store
    try:
        if args.action == "pull":
            version = sync.pull(force=args.force)
            print("nothing published yet: this node keeps its own catalogue" if version is None
                  else f"this node is at catalogue version {version}")
            return 0
        for row in store.history(5):
            print(f"version {row['id']}: {row['procedures']} procedures, {row['size'] / 1e6:.1f} MB, published "
                  f"{row['published_at']:%Y-%m-%d %H:%M} by {row['published_by']}")
        here = local_version(settings.knowledge.index_dir)
        print(f"this node: {'version ' + str(here) if here is not None else 'its own files (never synced)'}")
        return 0
    finally:
        store.close()


def register(sub) -> None:
    """Add the subcommand to the `motcua` parser."""
    sp = sub.add_parser("catalogue", help="one catalogue for every node: publish (this node's catalogue and index) | "
                                          "pull (the latest published) | status")
    sp.add_argument("action", choices=["publish", "pull", "status"])
    sp.add_argument("--force", action="store_true", help="pull: also over this node's changes not published")
    sp.set_defaults(func=cmd_catalogue)
