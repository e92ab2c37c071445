"""The canonical artefacts of a build: where they live on the distribution
domain (``BuildUrls``) and the renderers that write the manifest and the static
install page (the same ones ``ipadrop render`` uses). See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ipadrop.domain import bucket_keys
from ipadrop.domain.model import AppFacts, BuildRecord


@dataclass(frozen=True, slots=True)
class BuildUrls:
    """Where the canonical (unsigned) artefacts of a build live on the distribution domain."""

    page_url: str
    manifest_url: str
    ipa_url: str
    icon_url: str | None
    display_image_url: str | None = None
    full_size_image_url: str | None = None

    @classmethod
    def for_build(
        cls,
        distribution_url: str,
        bundle_id: str,
        build_id: str,
        *,
        has_icon: bool,
        icon_files: tuple[str, ...] = (),
    ) -> BuildUrls:
        base = distribution_url.rstrip("/") + "/"

        def url(name: str) -> str:
            # Keys come from validated ids only, so they need no escaping.
            return base + bucket_keys.build_file_key(bundle_id, build_id, name)

        return cls(
            page_url=url(bucket_keys.PAGE_NAME),
            manifest_url=url(bucket_keys.MANIFEST_NAME),
            ipa_url=url(bucket_keys.IPA_NAME),
            icon_url=url(bucket_keys.ICON_NAME) if has_icon else None,
            display_image_url=(
                url(bucket_keys.DISPLAY_IMAGE_NAME)
                if has_icon and bucket_keys.DISPLAY_IMAGE_NAME in icon_files
                else None
            ),
            full_size_image_url=(
                url(bucket_keys.FULL_SIZE_IMAGE_NAME)
                if has_icon and bucket_keys.FULL_SIZE_IMAGE_NAME in icon_files
                else None
            ),
        )


class ManifestRenderer(Protocol):
    def __call__(
        self,
        *,
        facts: AppFacts,
        ipa_url: str,
        icon_url: str | None,
        display_image_url: str | None = None,
        full_size_image_url: str | None = None,
    ) -> bytes: ...


class PageRenderer(Protocol):
    def __call__(
        self, *, record: BuildRecord, urls: BuildUrls, icon_png: bytes | None, now: datetime
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class Renderers:
    manifest: ManifestRenderer
    page: PageRenderer


def _render_manifest(
    *,
    facts: AppFacts,
    ipa_url: str,
    icon_url: str | None,
    display_image_url: str | None = None,
    full_size_image_url: str | None = None,
) -> bytes:
    from ipadrop.render.manifest import build_manifest

    return build_manifest(
        facts=facts,
        ipa_url=ipa_url,
        icon_url=icon_url,
        display_image_url=display_image_url,
        full_size_image_url=full_size_image_url,
    )


def _render_page(
    *, record: BuildRecord, urls: BuildUrls, icon_png: bytes | None, now: datetime
) -> str:
    from ipadrop.render.page import InstallPageContext, render_install_page

    context = InstallPageContext(
        facts=record.facts,
        build_id=record.build_id,
        uploaded_at=record.uploaded_at,
        manifest_url=urls.manifest_url,
        page_url=urls.page_url,
        link_expires_at=None,  # static pages never expire
        icon_png=icon_png,
        revoked=False,
        contact=None,
        now=now,
        notes=record.notes,
        channel=record.channel,
    )
    return render_install_page(context)


def default_renderers() -> Renderers:
    """The shared renderer (``ipadrop.render``), the same one ``ipadrop render`` uses."""
    return Renderers(manifest=_render_manifest, page=_render_page)
