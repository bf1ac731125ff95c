"""Rate outputs: experts rate a scored run's outputs blind (every role); reviewers and admins
also set rating sets up, follow them, see rater agreement, export the ratings and close sets."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action, allowed
from annotation_app.ui import runtime
from annotation_app.ui.rating_admin import show_set_up, show_sets
from annotation_app.ui.rating_work import show_my_ratings
from annotation_app.ui.runtime import tr

user = runtime.require_page(Action.RATE)
st.title(tr("rate.title"))

if allowed(user, Action.SET_UP_RATING):
    mine, setup, sets = st.tabs([tr("rate.tab.mine"), tr("rate.tab.setup"), tr("rate.tab.sets")])
    with setup:
        show_set_up()
    with sets:
        show_sets()
    with mine:
        show_my_ratings()
else:
    show_my_ratings()
