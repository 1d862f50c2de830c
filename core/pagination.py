"""Lists whose cost follows the page, not the table: the count stops at a cap.

A structure or a caisse may have hundreds of thousands of requests; counting them all on every page read the
whole of them. Past the cap the list says "plus de N" and offers the pages up to it; filters narrow it down.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *args, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = cap or COUNT_CAP

    @cached_property
    def count(self) -> int:
        # COUNT(*) over a LIMIT-ed subquery, in no order: at most cap + 1 index entries read.
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def num_pages(self) -> int:
        # Past the cap, only the pages up to it: the one row beyond tells "more", it is not a page.
        if self.count > self.cap:
            return max(1, self.cap // self.per_page)
        return super().num_pages

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def shown_count(self) -> str:
        """The count as the lists print it: exact, or "plus de 1 000"."""
        return f"plus de {self.cap:,}".replace(",", "\u202f") if self.capped else str(self.count)
