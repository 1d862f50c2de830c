"""Lists whose cost follows the page, not the table: the count stops at a cap, and is not asked when the page
tells it.

A structure or a caisse may have hundreds of thousands of requests; counting them all on every page read the
whole of them. Past the cap the list says "plus de N" and offers the pages up to it; filters narrow it down.
The page's rows are read first, one more than a page: a page that is not full is the last one and tells the
count without counting. A search (`count_past_page=False`) does not count beyond its page at all — a count
ran the name search a second time, over up to `cap` matches: "plus de 50", and the next page is offered.
"""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *args, cap: int | None = None, count_past_page: bool = True, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = cap or COUNT_CAP
        self.count_past_page = count_past_page
        self.at_least: int | None = None  # a lower bound only: the rows up to the end of the page read

    @cached_property
    def count(self) -> int:
        # COUNT(*) over a LIMIT-ed subquery of the keys alone, in no order and without the page's joins: at most
        # cap + 1 index entries read.
        return self.object_list.select_related(None).order_by().values("pk")[: self.cap + 1].count()

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("Ce numéro de page n'est pas un nombre.") from None
        if number < 1:
            raise EmptyPage("Cette page n'existe pas.")
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        more, rows = len(rows) > self.per_page, rows[: self.per_page]
        if not more and (rows or number == 1):  # the last page: the count is known
            self.__dict__["count"] = bottom + len(rows)
        elif more and not self.count_past_page:  # at least one row after this page
            self.at_least = bottom + self.per_page
            self.__dict__["count"] = self.at_least + 1
        return self._get_page(rows, self.validate_number(number), self)

    @cached_property
    def num_pages(self) -> int:
        # Past the cap, only the pages up to it: the one row beyond tells "more", it is not a page.
        if self.count > self.cap:
            return max(1, self.cap // self.per_page)
        return super().num_pages

    @property
    def capped(self) -> bool:
        return self.at_least is not None or self.count > self.cap

    @property
    def shown_count(self) -> str:
        """The count as the lists print it: exact, or "plus de 1 000"."""
        if self.at_least is not None:
            return f"plus de {self.at_least:,}".replace(",", "\u202f")
        return f"plus de {self.cap:,}".replace(",", "\u202f") if self.capped else str(self.count)
