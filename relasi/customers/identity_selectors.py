"""Reads of identity resolution: the open possible-duplicate pairs of a workspace, for the page and the API."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404

from relasi.core.pagination import InvalidCursor, Page, keyset_page
from relasi.customers.models import PossibleDuplicate
from relasi.tenancy.models import Workspace

DUPLICATES_PAGE_SIZE = 50
DUPLICATES_MAX_PAGE_SIZE = 200
# Newest pair first; the id alone is unique, so it is the whole keyset.
DUPLICATES_ORDERING = ["-id"]


def possible_duplicate_page(
    *, workspace: Workspace, cursor: str | None, limit: int = DUPLICATES_PAGE_SIZE
) -> Page[PossibleDuplicate]:
    """One page of the workspace's open pairs (not dismissed), with both customers; InvalidCursor for a cursor of
    another list. A pair whose customer was deleted stays listed (the page marks it): restoring brings it back."""
    rows = (
        PossibleDuplicate.objects.for_workspace(workspace)
        .filter(dismissed_at__isnull=True)
        .select_related("customer_low", "customer_high")
    )
    try:
        return keyset_page(
            rows,
            ordering=DUPLICATES_ORDERING,
            cursor=cursor,
            limit=max(1, min(limit, DUPLICATES_MAX_PAGE_SIZE)),
            scope=f"possible-duplicates:{workspace.pk}",
        )
    except (ValidationError, ValueError, TypeError) as error:
        if cursor and not isinstance(error, InvalidCursor):
            raise InvalidCursor("The cursor does not match this list's sort order.") from error
        raise


def possible_duplicate_open_count(*, workspace: Workspace) -> int:
    return PossibleDuplicate.objects.for_workspace(workspace).filter(dismissed_at__isnull=True).count()


def possible_duplicate_get(*, workspace: Workspace, duplicate_id: int) -> PossibleDuplicate:
    """One pair of the workspace (open or dismissed) with both customers; Http404 for another workspace's."""
    pair = (
        PossibleDuplicate.objects.for_workspace(workspace)
        .select_related("customer_low", "customer_high")
        .filter(pk=duplicate_id)
        .first()
    )
    if pair is None:
        raise Http404
    return pair
