"""Building the dossier service from the settings, with the catalogue's time limits."""
from __future__ import annotations

import functools

from dossiers.procedures import CatalogueLimits
from dossiers.service import DossierService


@functools.lru_cache(maxsize=4)
def load_catalogue(catalogue_dir: str):
    """The procedure catalogue of a folder, loaded once per process."""
    from pathlib import Path

    from knowledge_base.catalogue import Catalogue

    return Catalogue.load(Path(catalogue_dir))


@functools.lru_cache(maxsize=4)
def catalogue_limits(catalogue_dir: str) -> CatalogueLimits:
    """Time limits of every procedure in the catalogue folder (any scope: dossiers may be older)."""
    return CatalogueLimits(load_catalogue(catalogue_dir))


def open_service(settings, **kw) -> DossierService:
    """The dossier service as the settings configure it."""
    return DossierService.from_settings(
        settings, time_limits=catalogue_limits(str(settings.knowledge.catalogue_dir)), **kw
    )
