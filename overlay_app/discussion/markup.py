"""The HTML of a document's comment threads (template global `comment_rows`).

Built here rather than in _discussion.html: Jinja escapes each of the dozen-odd values of a
comment through its own call, which made rendering 100 comments cost more than the rest of the
page. Every value is escaped here too (body_html is nh3's sanitised output, shown as is).

A comment is one compact block: who and when, the text, and ONE row of actions — Like (with
its count; the likers open from the count), Reply, and a "More" menu holding Edit and Delete
(one's own) or Report (anyone else's). No comment carries a reply or edit form of its own:
"Reply" and "Edit" link to ?reply= / ?edit= (the page then shows that form, without
JavaScript), and plaza.js moves the ONE shared form into the comment.

Long threads are folded: replies deeper than SHOWN_DEPTH, and the replies of a comment past
the first FOLDED_KEEP when it has more than FOLDED_OVER, sit in a <details> whose summary
says exactly how many comments it holds, its replies at every depth included ("Show 4 more
replies"); nothing inside a fold folds again. It opens in place without script; thread.js
unwraps it and opens the folds around a linked #comment-id.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from overlay_app.discussion import reads as discussion
from overlay_app.people.photos import avatar
from overlay_app.times import exact_time, time_tag

SHOWN_DEPTH = 3  # replies to a reply to a reply still show; one level deeper is folded
FOLDED_OVER = 5  # a comment with more replies than this shows only the first FOLDED_KEEP
FOLDED_KEEP = 3

DELETED_BODY = '<div class="body">comment deleted</div>'


def comment_rows(talk: discussion.Discussion, csrf: str, likes: bool = True) -> Markup:
    """Every shown comment of the page as nested <li class="comment">, long threads folded.
    `likes` False (switched off by an admin) leaves out the like buttons and counts."""
    page = _Page(talk, escape(csrf), likes)
    return Markup("\n".join(page.thread(node, 0) for node in talk.comments))


def fold(replies: list[discussion.CommentNode], depth: int) -> int:
    """How many of a comment's `replies` (the comment at `depth`, 0 = top level) show before
    the fold; the rest are folded."""
    if depth + 1 > SHOWN_DEPTH:
        return 0
    return FOLDED_KEEP if len(replies) > FOLDED_OVER else len(replies)


def rows_in(nodes: list[discussion.CommentNode]) -> int:
    """The comments these are, their replies at every depth included."""
    count, stack = 0, list(nodes)
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.replies)
    return count


class _Page:
    """The settings every comment of one page shares."""

    def __init__(self, talk: discussion.Discussion, csrf: Markup, likes: bool) -> None:
        self.talk, self.csrf, self.likes = talk, csrf, likes

    def thread(self, node: discussion.CommentNode, depth: int, folding: bool = True) -> str:
        """A comment with its replies (nesting is capped by reads.MAX_NESTING). Inside a
        fold (`folding` False) nothing folds again: the reader asked to see all of it."""
        html = self.comment(node)
        if node.replies:
            keep = fold(node.replies, depth) if folding else len(node.replies)
            shown = [self.thread(reply, depth + 1, folding) for reply in node.replies[:keep]]
            folded = node.replies[keep:]
            if folded:
                shown.append(self.folded(folded, depth + 1))
            html += '<ol class="replies">' + "".join(shown) + "</ol>"
        return html + "</li>"

    def folded(self, replies: list[discussion.CommentNode], depth: int) -> str:
        count = rows_in(replies)
        words = f"Show {count} more {'reply' if count == 1 else 'replies'}"
        inner = "".join(self.thread(reply, depth, folding=False) for reply in replies)
        return (
            f'<li class="folded"><details class="more-replies" data-count="{count}">'
            f'<summary>{words}</summary><ol class="replies">{inner}</ol></details></li>'
        )

    def comment(self, node: discussion.CommentNode) -> str:
        """The comment's opening <li> and its content (the caller closes the <li>)."""
        cid = escape(node.id)
        if node.deleted:
            return f'<li class="comment deleted" id="comment-{cid}">{DELETED_BODY}'
        edited = ""
        if node.edited_at:
            edited = (
                f' · <span class="edited" title="edited {escape(exact_time(node.edited_at))}">'
                "edited</span>"
            )
        head = (
            f'<li class="comment" id="comment-{cid}">'
            f'<div class="meta">{_author_link(node.author_id, node.author_name)} · '
            f'<a class="permalink" href="#comment-{cid}">{time_tag(node.created_at)}</a>'
            f'{edited}</div>\n<div class="body">{node.body_html}</div>\n'
        )
        return f'{head}<div class="actions">{self.actions(node, cid)}</div>'

    def actions(self, node: discussion.CommentNode, cid: Markup) -> str:
        count = _like_count(node) if self.likes else ""
        if self.talk.read_only:
            return count
        like = _like_form(node, cid, self.csrf) if self.likes else ""
        reply = (
            '<details class="reply"><summary>Reply</summary>'
            f'<a href="?reply={cid}#reply">Write a reply</a></details>'
        )
        own = node.author_id == self.talk.viewer_id
        return like + count + reply + _more_menu(node, cid, self.csrf, own)


def _like_form(node: discussion.CommentNode, cid: Markup, csrf: Markup) -> str:
    liked = node.liked_by_me
    return (
        f'<form method="post" action="/comments/{cid}/like" class="like-form inline"'
        f' data-api="/api/v1/comments/{cid}/like">'
        f'<input type="hidden" name="csrf_token" value="{csrf}">'
        f'<input type="hidden" name="liked" value="{"0" if liked else "1"}">'
        f'<button type="submit" class="link" aria-pressed="{"true" if liked else "false"}">'
        f"{'Unlike' if liked else 'Like'}</button></form>"
    )


def _more_menu(node: discussion.CommentNode, cid: Markup, csrf: Markup, own: bool) -> str:
    """The "More" disclosure: Edit and Delete on one's own comment, Report on another's.

    A <details> disclosure of plain links and buttons (not role="menu", whose arrow-key
    contract a list of three does not need): Enter/Space open it, Tab walks it, thread.js
    closes it on Escape or a click elsewhere. Edit is a link to ?edit= (the page then shows
    the form); with script it shows and opens the hidden details.edit beside the menu, where
    plaza.js puts the shared edit form."""
    author = escape(node.author_name or "this person")
    label = "More actions on your comment" if own else f"More actions on {author}'s comment"
    if own:
        items = (
            f'<li><a class="menu-edit" href="?edit={cid}#edit">Edit</a></li>'
            f'<li><form method="post" action="/comments/{cid}/delete" class="delete-form"'
            ' data-confirm="Delete this comment?">'
            f'<input type="hidden" name="csrf_token" value="{csrf}">'
            '<button type="submit" class="link danger">Delete</button></form></li>'
        )
        holder = (
            f'<details class="edit" hidden data-body="{escape(node.body)}">'
            "<summary>Edit your comment</summary></details>"
        )
    else:  # anyone who sees a comment may report it to the moderators (admin/moderation.py)
        items = (
            '<li><details class="report"><summary>Report</summary>'
            f'<form method="post" action="/comments/{cid}/report" class="report-form">'
            f'<input type="hidden" name="csrf_token" value="{csrf}">'
            '<label>Why should moderators look at it? <input name="reason" required'
            ' maxlength="500"></label> <button type="submit">Report</button></form>'
            "</details></li>"
        )
        holder = ""
    return (
        f'<details class="more"><summary aria-label="{label}">More</summary>'
        f'<ul class="more-menu">{items}</ul></details>{holder}'
    )


def _like_count(node: discussion.CommentNode) -> str:
    """ "N likes"; with likers, a disclosure naming them (keyboard and touch reach it, where a
    tooltip reached only a mouse)."""
    likes = node.like_count
    count = f'<span class="like-count">{likes} like{"" if likes == 1 else "s"}</span>'
    if not node.likers:
        return count
    names = ", ".join(
        f'<a href="/people/{escape(liker.id)}">{escape(liker.display_name)}</a>'
        for liker in node.likers
    )
    return f'<details class="likers"><summary>{count}</summary><span>{names}</span></details>'


# The same few authors, comment after comment and page view after page view: each escaped
# once, not once per comment shown.
@lru_cache(maxsize=4096)
def _author_link(author_id: str | None, author_name: str | None) -> str:
    link = f'<a class="author" href="/people/{escape(author_id)}">{escape(author_name)}</a>'
    return f"{avatar(author_id, 24)}{link}"
