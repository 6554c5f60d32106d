"""The app's features: one view module per blueprint, in the order they are registered.

Each exposes `bp` (its pages and /api/v1 routes); those with an API also expose `API_PATHS`
and `API_SCHEMAS`, which openapi.py assembles. Imported statically so that every edge shows.
"""

from __future__ import annotations

from overlay_app.admin import report_views as moderation
from overlay_app.admin import terms_views as terms
from overlay_app.admin import views as admin
from overlay_app.auth import views as auth
from overlay_app.browse import documents
from overlay_app.browse import views as browse
from overlay_app.chat import api as chat
from overlay_app.chat import pages as chat_pages
from overlay_app.discussion import comments, likes
from overlay_app.embedded import views as embedded
from overlay_app.feed import views as feed
from overlay_app.follow import views as follow
from overlay_app.home import views as home
from overlay_app.i18n import views as i18n
from overlay_app.insights import views as insights
from overlay_app.install import views as install
from overlay_app.mail import views as mail
from overlay_app.notifications import views as notifications
from overlay_app.people import photos as people_photos
from overlay_app.people import views as people
from overlay_app.realtime import views as realtime
from overlay_app.search import views as search
from overlay_app.tags import views as tags
from overlay_app.webhooks import views as webhooks

FEATURES = (
    auth,
    home,
    browse,
    documents,
    comments,
    likes,
    tags,
    search,
    people,
    notifications,
    chat,
    realtime,
    chat_pages,
    install,
    embedded,
    admin,
    moderation,
    terms,
    insights,
    follow,
    feed,
    mail,
    webhooks,
    i18n,
)

# What each feature adds to the app beyond its blueprint (hooks, template helpers), in order.
FEATURE_INITS = (
    auth.init_app,
    browse.init_app,
    comments.init_app,
    notifications.init_app,
    realtime.init_app,
    chat_pages.init_app,
    people_photos.init_app,
    embedded.init_app,
    admin.init_app,
    insights.init_app,
    follow.init_app,
)
