"""The staff console: accounts, unanswered questions, staff answers, conversations, analytics.

Plain modules (``store``, ``security``, ``grouping``, ``conversations``, ``analytics``, ``faq``)
hold the logic and are tested alone; ``app`` is the Starlette web application over them.
"""
