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

from flask_babel import gettext, ngettext
from markupsafe import Markup, escape

from overlay_app.discussion import reads as discussion
from overlay_app.people.photos import avatar
from overlay_app.times import exact_time, time_tag

SHOWN_DEPTH = 3  # replies to a reply to a reply still show; one level deeper is folded
FOLDED_OVER = 5  # a comment with more replies than this shows only the first FOLDED_KEEP
FOLDED_KEEP = 3


class Words:
    """The fixed words of the comments, translated once per page (not once per comment)."""

    def __init__(self) -> None:
        self.like, self.unlike = escape(gettext("Like")), escape(gettext("Unlike"))
        self.reply, self.write_reply = escape(gettext("Reply")), escape(gettext("Write a reply"))
        self.more, self.edit = escape(gettext("More")), escape(gettext("Edit"))
        self.delete, self.report = escape(gettext("Delete")), escape(gettext("Report"))
        self.confirm_delete = escape(gettext("Delete this comment?"))
        self.report_why = escape(gettext("Why should moderators look at it?"))
        self.edit_yours = escape(gettext("Edit your comment"))
        self.more_own = escape(gettext("More actions on your comment"))
        self.more_theirs = gettext("More actions on %(name)s's comment")
        self.deleted = escape(gettext("comment deleted"))
        self.edited = escape(gettext("edited"))
        self.this_person = gettext("this person")
        self._likes: dict[int, str] = {}

    def likes(self, count: int) -> str:
        if count not in self._likes:
            self._likes[count] = escape(ngettext("%(num)d like", "%(num)d likes", count))
        return self._likes[count]

    def more_replies(self, count: int) -> str:
        return escape(ngettext("Show %(num)d more reply", "Show %(num)d more replies", count))

    def edited_at(self, when: str) -> str:
        return escape(gettext("edited %(when)s", when=when))


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
        self.words = Words()

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
        words = self.words.more_replies(count)
        inner = "".join(self.thread(reply, depth, folding=False) for reply in replies)
        return (
            f'<li class="folded"><details class="more-replies" data-count="{count}">'
            f'<summary>{words}</summary><ol class="replies">{inner}</ol></details></li>'
        )

    def comment(self, node: discussion.CommentNode) -> str:
        """The comment's opening <li> and its content (the caller closes the <li>)."""
        cid, words = escape(node.id), self.words
        if node.deleted:
            return (
                f'<li class="comment deleted" id="comment-{cid}">'
                f'<div class="body">{words.deleted}</div>'
            )
        edited = ""
        if node.edited_at:
            edited = (
                f' · <span class="edited" title="{words.edited_at(exact_time(node.edited_at))}">'
                f"{words.edited}</span>"
            )
        head = (
            f'<li class="comment" id="comment-{cid}">'
            f'<div class="meta">{_author_link(node.author_id, node.author_name)} · '
            f'<a class="permalink" href="#comment-{cid}">{time_tag(node.created_at)}</a>'
            f'{edited}</div>\n<div class="body">{node.body_html}</div>\n'
        )
        return f'{head}<div class="actions">{self.actions(node, cid)}</div>'

    def actions(self, node: discussion.CommentNode, cid: Markup) -> str:
        words = self.words
        count = _like_count(node, words) if self.likes else ""
        if self.talk.read_only:
            return count
        like = _like_form(node, cid, self.csrf, words) if self.likes else ""
        reply = (
            f'<details class="reply"><summary>{words.reply}</summary>'
            f'<a href="?reply={cid}#reply">{words.write_reply}</a></details>'
        )
        own = node.author_id == self.talk.viewer_id
        return like + count + reply + _more_menu(node, cid, self.csrf, own, words)


def _like_form(node: discussion.CommentNode, cid: Markup, csrf: Markup, words: Words) -> str:
    liked = node.liked_by_me
    return (
        f'<form method="post" action="/comments/{cid}/like" class="like-form inline"'
        f' data-api="/api/v1/comments/{cid}/like">'
        f'<input type="hidden" name="csrf_token" value="{csrf}">'
        f'<input type="hidden" name="liked" value="{"0" if liked else "1"}">'
        f'<button type="submit" class="link" aria-pressed="{"true" if liked else "false"}">'
        f"{words.unlike if liked else words.like}</button></form>"
    )


def _more_menu(
    node: discussion.CommentNode, cid: Markup, csrf: Markup, own: bool, words: Words
) -> str:
    """The "More" disclosure: Edit and Delete on one's own comment, Report on another's.

    A <details> disclosure of plain links and buttons (not role="menu", whose arrow-key
    contract a list of three does not need): Enter/Space open it, Tab walks it, thread.js
    closes it on Escape or a click elsewhere. Edit is a link to ?edit= (the page then shows
    the form); with script it shows and opens the hidden details.edit beside the menu, where
    plaza.js puts the shared edit form."""
    if own:
        label = words.more_own
        items = (
            f'<li><a class="menu-edit" href="?edit={cid}#edit">{words.edit}</a></li>'
            f'<li><form method="post" action="/comments/{cid}/delete" class="delete-form"'
            f' data-confirm="{words.confirm_delete}">'
            f'<input type="hidden" name="csrf_token" value="{csrf}">'
            f'<button type="submit" class="link danger">{words.delete}</button></form></li>'
        )
        holder = (
            f'<details class="edit" hidden data-body="{escape(node.body)}">'
            f"<summary>{words.edit_yours}</summary></details>"
        )
    else:  # anyone who sees a comment may report it to the moderators (admin/moderation.py)
        label = escape(words.more_theirs % {"name": node.author_name or words.this_person})
        items = (
            f'<li><details class="report"><summary>{words.report}</summary>'
            f'<form method="post" action="/comments/{cid}/report" class="report-form">'
            f'<input type="hidden" name="csrf_token" value="{csrf}">'
            f'<label>{words.report_why} <input name="reason" required'
            f' maxlength="500"></label> <button type="submit">{words.report}</button></form>'
            "</details></li>"
        )
        holder = ""
    return (
        f'<details class="more"><summary aria-label="{label}">{words.more}</summary>'
        f'<ul class="more-menu">{items}</ul></details>{holder}'
    )


def _like_count(node: discussion.CommentNode, words: Words) -> str:
    """ "N likes"; with likers, a disclosure naming them (keyboard and touch reach it, where a
    tooltip reached only a mouse)."""
    count = f'<span class="like-count">{words.likes(node.like_count)}</span>'
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
