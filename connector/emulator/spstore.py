"""SharePoint's own social data: page and list-item comments, replies and likes, per list item.

Graph exposes none of this (PROTOCOL 6.1); it lives in SharePoint and is keyed by list id and
list item id. Each site also gets a "Site Pages" library with a few generated pages (Home.aspx,
News-*.aspx) that already carry comments and likes by the site's members, so that a sync has
something to read on a fresh tenant. Generation is a pure function of the seed and the site,
done the first time anything touches that site's pages.

People are stored by object id; their numbers (the `id` in author and likedBy entries) come
from the site's User Information List (site_users.py) when rendered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connector.emulator.model import EVERYONE, GROUP, USER, Site
from connector.emulator.site_users import APP_KEY
from connector.emulator.tenant import Tenant

SITE_PAGES = "Site Pages"
PAGE_EPOCH = datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
APP_AUTHOR = APP_KEY  # author id of comments written with an app-only token

COMMENT_LINES = (
    "Thanks for sharing this, very useful.",
    "Great update! Looking forward to the next one.",
    "Could we get the slides from the session as well?",
    "Congratulations to the whole team.",
    "Is there a recording for those who missed it?",
    "Adding this to our onboarding pack.",
    "Well done everyone, a big milestone.",
)
REPLY_LINES = ("Agreed!", "Seconded.", "Yes, they are in the team folder.", "Thanks, will do.")


def when(moment: datetime) -> str:
    """SharePoint's timestamp form for comments: milliseconds and a Z."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class Comment:
    id: int
    list_id: str
    item_id: int
    parent_id: int  # 0 for a top-level comment
    author: str  # user oid, or APP_AUTHOR
    text: str
    created_at: str
    mentions: list[dict[str, str]] = field(default_factory=list)
    likes: dict[str, str] = field(default_factory=dict)  # user oid -> when liked


@dataclass
class ItemSocial:
    """Everything social about one list item."""

    comments: dict[int, Comment] = field(default_factory=dict)
    likes: dict[str, str] = field(default_factory=dict)  # user oid -> when liked
    comments_disabled: bool = False

    def replies(self, comment_id: int) -> list[Comment]:
        return [c for c in self.comments.values() if c.parent_id == comment_id]

    def top_level(self) -> list[Comment]:
        return [c for c in self.comments.values() if c.parent_id == 0]


@dataclass(frozen=True)
class Page:
    """A generated modern page in a site's Site Pages library."""

    index: int  # list item id
    name: str  # "Home.aspx"
    title: str
    created_at: str
    author: str  # user oid


class SocialStore:
    """Comments and likes for every list item of one tenant; safe to share between threads."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.lock = threading.RLock()
        self._items: dict[tuple[str, int], ItemSocial] = {}
        self._next_comment: dict[str, int] = {}
        self._seeded: set[str] = set()
        self._pages_lists = {self.pages_list_id(s): s for s in tenant.sites.values()}

    # -- principals --------------------------------------------------------------------------

    def site_member_ids(self, site: Site) -> list[str]:
        """Enabled member (non-guest) users in any of the site's groups, in a stable order."""
        found: list[str] = []
        for site_group in site.groups:
            for principal in site_group.members:
                if principal.kind == USER:
                    found.append(principal.id)
                elif principal.kind == GROUP and self.tenant.group(principal.id):
                    found.extend(self.tenant.transitive_members(principal.id))
                elif principal.kind == EVERYONE:
                    found.extend(
                        u.id for u in self.tenant.users.values() if u.user_type == "Member"
                    )
        users = (self.tenant.user(oid) for oid in dict.fromkeys(found))
        return [u.id for u in users if u and u.account_enabled and u.user_type == "Member"]

    # -- Site Pages ----------------------------------------------------------------------------

    def pages_list_id(self, site: Site) -> str:
        return self.tenant.spec.ids.guid("site-pages", site.path)

    def site_of_pages_list(self, list_id: str) -> Site | None:
        return self._pages_lists.get(list_id.lower())

    def pages(self, site: Site) -> list[Page]:
        """Home.aspx plus three news posts, written by the site's first owner or member."""
        ids = self.tenant.spec.ids
        members = self.site_member_ids(site)
        author = members[ids.number("page-author", site.path) % len(members)] if members else ""
        titles = [("Home.aspx", "Home")] + [
            (f"News-{n}.aspx", f"{site.display_name} news {n}") for n in range(1, 4)
        ]
        return [
            Page(n, name, title, when(PAGE_EPOCH + timedelta(days=7 * n)), author)
            for n, (name, title) in enumerate(titles, start=1)
        ]

    def page(self, site: Site, index: int) -> Page | None:
        return next((p for p in self.pages(site) if p.index == index), None)

    def _seed_pages(self, site: Site) -> None:
        """Generated comments, replies and likes by site members on the site's pages."""
        ids, list_id = self.tenant.spec.ids, self.pages_list_id(site)
        members = self.site_member_ids(site)
        if not members:
            return
        for page in self.pages(site):
            social = self._items.setdefault((list_id, page.index), ItemSocial())
            start = datetime.fromisoformat(page.created_at.replace("Z", "+00:00"))
            dice = ids.number("page-social", site.path, page.index)
            for n in range(dice % 4):
                roll = ids.number("page-comment", site.path, page.index, n)
                author = members[roll % len(members)]
                moment = start + timedelta(hours=3 * n + 1)
                comment = self._new_comment(list_id, page.index, 0, author, "", when(moment))
                comment.text = COMMENT_LINES[(roll >> 8) % len(COMMENT_LINES)]
                if (roll >> 16) % 3 == 0:
                    replier = members[(roll >> 20) % len(members)]
                    reply = self._new_comment(
                        list_id,
                        page.index,
                        comment.id,
                        replier,
                        "",
                        when(moment + timedelta(minutes=40)),
                    )
                    reply.text = REPLY_LINES[(roll >> 24) % len(REPLY_LINES)]
                for k in range((roll >> 28) % 3):
                    liker = members[(roll >> (32 + 4 * k)) % len(members)]
                    comment.likes.setdefault(liker, when(moment + timedelta(hours=1 + k)))
            for k in range((dice >> 8) % 6):
                liker = members[ids.number("page-like", site.path, page.index, k) % len(members)]
                social.likes.setdefault(liker, when(start + timedelta(hours=2 + k)))

    # -- reading and writing ---------------------------------------------------------------------

    def _ensure_seeded(self, list_id: str) -> None:
        site = self.site_of_pages_list(list_id)
        if site is not None and list_id not in self._seeded:
            self._seeded.add(list_id)
            self._seed_pages(site)

    def social(self, list_id: str, item_id: int) -> ItemSocial:
        """The item's social state (created empty on first use; pages come pre-seeded)."""
        key = (list_id.lower(), item_id)
        with self.lock:
            self._ensure_seeded(key[0])
            return self._items.setdefault(key, ItemSocial())

    def peek(self, list_id: str, item_id: int) -> ItemSocial | None:
        """The item's social state if it has any (listing items must not create entries)."""
        key = (list_id.lower(), item_id)
        with self.lock:
            self._ensure_seeded(key[0])
            return self._items.get(key)

    def _new_comment(
        self, list_id: str, item_id: int, parent_id: int, author: str, text: str, created: str
    ) -> Comment:
        number = self._next_comment.get(list_id, 1)
        self._next_comment[list_id] = number + 1
        comment = Comment(number, list_id, item_id, parent_id, author, text, created)
        self._items.setdefault((list_id, item_id), ItemSocial()).comments[number] = comment
        return comment

    def add_comment(
        self,
        list_id: str,
        item_id: int,
        author: str,
        text: str,
        mentions: list[dict[str, str]],
        parent_id: int = 0,
    ) -> Comment:
        with self.lock:
            self.social(list_id, item_id)
            comment = self._new_comment(
                list_id.lower(), item_id, parent_id, author, text, when(datetime.now(UTC))
            )
            comment.mentions = mentions
            return comment

    def delete_comment(self, list_id: str, item_id: int, comment_id: int) -> None:
        """Removes a comment and its replies."""
        with self.lock:
            social = self.social(list_id, item_id)
            for reply in social.replies(comment_id):
                social.comments.pop(reply.id, None)
            social.comments.pop(comment_id, None)

    def delete_all(self, list_id: str, item_id: int) -> None:
        with self.lock:
            self.social(list_id, item_id).comments.clear()

    def set_comment_like(self, comment: Comment, user_id: str, like: bool) -> None:
        with self.lock:
            if like:
                comment.likes.setdefault(user_id, when(datetime.now(UTC)))
            else:
                comment.likes.pop(user_id, None)

    def set_item_like(self, list_id: str, item_id: int, user_id: str, like: bool) -> int:
        """Likes or unlikes an item for a user; the item's like count afterwards."""
        with self.lock:
            likes = self.social(list_id, item_id).likes
            if like:
                likes.setdefault(user_id, when(datetime.now(UTC)))
            else:
                likes.pop(user_id, None)
            return len(likes)

    def set_comments_disabled(self, list_id: str, item_id: int, disabled: bool) -> None:
        with self.lock:
            self.social(list_id, item_id).comments_disabled = disabled


def store_of(extensions: dict, tenant: Tenant) -> SocialStore:
    """The app's social store, made on first use (dict.setdefault keeps one per app)."""
    store = extensions.get("sharepoint_social")
    return (
        store
        if store is not None
        else extensions.setdefault("sharepoint_social", SocialStore(tenant))
    )
