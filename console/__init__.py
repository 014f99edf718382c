"""The staff console: unanswered questions, staff answers, catalogue upkeep, conversations, handoff, analytics.

Plain modules (``store``, ``passwords``, ``conversations``, ``analytics``, ``catalogue``, ``upkeep``) hold
the logic and are tested alone. The web application is one module per area (``questions``,
``catalogue_pages``, ``faq_pages``, ``conversation_pages``, ``analytics_pages``, ``handoff_pages``,
``accounts``, ``locks``, ``admin``) over ``web`` (shared objects, rendering) and ``auth`` (the
authentication middleware and the ``requires`` role decorator); ``app.create_app`` assembles them.
"""
