"""The live handoff desk in headless Chromium: a citizen writes during a hold and the staff member's page shows
it within 3 s without a reload; the desk's list follows too, and the sound is switched on by a click.

The console runs in a thread (uvicorn) over the temporary databases of ``console_env``; the citizen's message is
kept by ``HandoffStore.add_message``, as the channels do for a conversation staff hold (channels.runtime)."""
import socket
import threading
import time

import pytest

from core.stores.handoff import HandoffStore
from tests.console.conftest import PASSWORD
from tests.running import ARTIFACTS, wait

CONVERSATION = "web-aaaaaaaa1"


@pytest.fixture
def console_url(console_env):
    import uvicorn

    from console.app import create_app

    settings, store = console_env
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port,
                                           log_level="warning", ws="none", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the console did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_citizen_message_during_a_hold_appears_on_the_staff_page_within_3_s(console_env, console_url, browser):
    from selenium.webdriver.common.by import By

    settings, store = console_env
    handoffs = HandoffStore(settings.storage.database_url)
    handoffs.request(CONVERSATION, "web")
    assert handoffs.take(CONVERSATION, "web", "editor")  # on hold: the editor has it
    handoffs.add_message(CONVERSATION, "citizen", "Cho tôi hỏi hồ sơ tách thửa.")

    browser.delete_all_cookies()
    browser.get(f"{console_url}/handoffs/{CONVERSATION}")
    wait(browser, lambda d: d.find_element(By.ID, "username")).send_keys("editor")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait(browser, lambda d: "Cho tôi hỏi hồ sơ tách thửa." in d.find_element(By.ID, "handoff-messages").text)
    wait(browser, lambda d: d.find_element(By.ID, "live-status").text.startswith("Tự cập nhật"), timeout=10)
    browser.execute_script("window.motcuaNoReload = true;")  # gone if the page reloads

    handoffs.add_message(CONVERSATION, "citizen", "Số điện thoại của tôi là 0912345678, bao giờ xong ạ?")
    wait(browser, lambda d: "bao giờ xong ạ?" in d.find_element(By.ID, "handoff-messages").text, timeout=3)
    messages = browser.find_element(By.ID, "handoff-messages").text
    assert "******5678" in messages and "0912345678" not in messages
    assert browser.execute_script("return window.motcuaNoReload === true;")
    newest = browser.find_elements(By.CSS_SELECTOR, "#handoff-messages .turn")[-1]
    assert "Công dân" in newest.text and "unread" in newest.get_attribute("class")
    browser.save_screenshot(str(ARTIFACTS / "console-handoff-live.png"))
    wait(browser, lambda d: handoffs.seen(CONVERSATION, "editor") == handoffs.messages(CONVERSATION)[-1]["id"],
         timeout=5)  # in view: read

    toggle = browser.find_element(By.ID, "sound-toggle")
    assert toggle.is_displayed() and toggle.text == "Bật âm báo"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true" and toggle.text == "Tắt âm báo"

    browser.get(f"{console_url}/handoffs")  # the desk: the list follows the citizen too
    wait(browser, lambda d: d.find_element(By.ID, "live-status").text.startswith("Tự cập nhật"), timeout=10)
    assert browser.find_element(By.ID, "sound-toggle").text == "Tắt âm báo"  # the choice is remembered
    browser.execute_script("window.motcuaNoReload = true;")
    handoffs.add_message(CONVERSATION, "citizen", "Tôi vẫn đang chờ.")
    row = f'#desk-rows tr[data-conversation="{CONVERSATION}"]'
    wait(browser, lambda d: "Tôi vẫn đang chờ." in d.find_element(By.CSS_SELECTOR, row).text, timeout=3)
    assert "unread" in browser.find_element(By.CSS_SELECTOR, row).get_attribute("class")
    assert browser.execute_script("return window.motcuaNoReload === true;")
    assert browser.title.startswith("(")  # the unread count in the tab's title
    browser.save_screenshot(str(ARTIFACTS / "console-handoff-desk.png"))
