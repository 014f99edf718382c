"""The one context actions get their services and clock from."""
from actions import context
from actions.context import SettingsContext, current, installed
from core.clock import now_local
from core.settings import Settings


def test_the_default_builds_each_service_on_first_use(new_db):
    url = new_db("db")
    ctx = SettingsContext(Settings.of(database_url=url))
    assert ctx.clock is now_local and vars(ctx).keys() == {"settings", "clock"}
    assert ctx.review_log is ctx.review_log and ctx.review_log.url == url
    assert ctx.working_calendar.office_hours
    assert set(vars(ctx)) == {"settings", "clock", "review_log", "working_calendar"}  # no dossier service, no index


def test_an_installed_context_is_used_until_the_block_ends(ctx):
    other = SettingsContext(Settings.of(hotline="1900 0000"))
    assert current() is ctx
    with installed(other):
        assert current() is other
    assert current() is ctx
    context.install(None)
    try:
        assert current() is context.default()
    finally:
        context.install(ctx)
