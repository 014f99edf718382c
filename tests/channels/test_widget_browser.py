"""The web widget in headless Chromium (Debian's, through chromedriver): ask, answer, button, reload, phone size."""
from tests.running import ARTIFACTS, wait


def messages(driver):
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".motcua-msg")]


def test_widget_ask_answer_button_reload(channels_run, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(channels_run.web_url + "/")
    panel = wait(browser, lambda d: d.find_element(By.ID, "motcua-panel"))
    assert panel.is_displayed() and panel.get_attribute("role") == "dialog"
    assert "Xin chào" in messages(browser)[0]
    log = browser.find_element(By.CSS_SELECTOR, ".motcua-log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    box = browser.find_element(By.ID, "motcua-input")
    assert (
        browser.find_element(By.CSS_SELECTOR, "label[for=motcua-input]").get_attribute("textContent")
        == "Câu hỏi của bạn"
    )

    box.send_keys("lam lai so do bi mat can giay to gi", Keys.ENTER)
    wait(browser, lambda d: any("1.012786" in m for m in messages(d)))
    buttons = wait(browser, lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, ".motcua-buttons button")
                                       if b.is_enabled()])
    # a lost certificate is case a) of its record: case b) (a lost extra page) is the first button
    assert [b.text for b in buttons] == ["📄 b) mất Trang bổ sung", "💰 Lệ phí", "⏱ Thời hạn", "👍 Hữu ích",
                                         "👎 Chưa đúng"]
    browser.save_screenshot(str(ARTIFACTS / "widget-answer.png"))
    # the source is a link that opens apart from the page, and the answer is shown from its start
    links = browser.find_elements(By.CSS_SELECTOR, ".motcua-bot a")
    assert links and links[-1].get_attribute("href").startswith("https://")
    assert links[-1].get_attribute("rel") == "noopener noreferrer" and links[-1].get_attribute("target") == "_blank"
    view = browser.execute_script("""
        const log = document.querySelector('.motcua-log');
        const answer = [...log.querySelectorAll('.motcua-bot')].find(m => m.textContent.includes('1.012786'));
        const a = answer.getBoundingClientRect(), l = log.getBoundingClientRect();
        return {scrollable: log.scrollHeight > log.clientHeight, top: a.top - l.top, height: l.height};""")
    assert view["scrollable"] and 0 <= view["top"] < view["height"] / 2, view

    # nearing the 2,000-character limit, the widget says how much is left, then why typing stops
    def typed(n):
        browser.execute_script("const i = document.getElementById('motcua-input'); i.value = 'a'.repeat(arguments[0]);"
                               "i.dispatchEvent(new Event('input'));", n)
        return browser.find_element(By.CSS_SELECTOR, ".motcua-status").text
    assert typed(1500) == "" and typed(1850) == "Còn 150 ký tự." and "tối đa 2.000 ký tự" in typed(2000)
    assert typed(10) == ""
    buttons[3].click()
    wait(browser, lambda d: any("Cảm ơn bạn đã đánh giá" in m for m in messages(d)))
    before = messages(browser)

    browser.refresh()
    wait(browser, lambda d: len(messages(d)) >= len(before))
    assert messages(browser) == before  # the conversation survived the reload
    assert not any(b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, ".motcua-buttons button"))
    browser.save_screenshot(str(ARTIFACTS / "widget.png"))

    # keyboard: Escape closes and returns focus to the launcher; Enter on it opens again with focus in the box
    browser.find_element(By.ID, "motcua-input").send_keys(Keys.ESCAPE)
    launcher = browser.find_element(By.CSS_SELECTOR, ".motcua-launcher")
    assert not browser.find_element(By.ID, "motcua-panel").is_displayed()
    assert browser.switch_to.active_element == launcher and launcher.get_attribute("aria-expanded") == "false"
    launcher.send_keys(Keys.ENTER)
    assert browser.find_element(By.ID, "motcua-panel").is_displayed()
    assert browser.switch_to.active_element == browser.find_element(By.ID, "motcua-input")

    # nothing came from outside this machine
    sources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert sources and all(s.startswith("http://127.0.0.1:") for s in sources)


def test_widget_fits_a_phone_screen(channels_run, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    try:
        browser.get(channels_run.web_url + "/")
        panel = wait(browser, lambda d: d.find_element(By.ID, "motcua-panel"))
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert abs(panel.rect["width"] - width) <= 1 and panel.rect["x"] == 0
        send = browser.find_element(By.CSS_SELECTOR, ".motcua-form button")
        assert send.rect["x"] + send.rect["width"] <= width and send.is_displayed()
        browser.save_screenshot(str(ARTIFACTS / "widget-phone.png"))
    finally:
        browser.set_window_size(1280, 900)


def test_widget_inheritance_conversation(channels_run, browser):
    """Issue #23's conversation: three siblings inherit; the checklist is theirs, follow-ups are short, the tax
    question names the tax office. Its screenshot is docs/screenshots/widget-inheritance-after.png."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(channels_run.web_url + "/")
    browser.execute_script("localStorage.clear();")  # a new conversation
    browser.refresh()
    wait(browser, lambda d: d.find_element(By.ID, "motcua-panel").is_displayed())
    box = browser.find_element(By.ID, "motcua-input")
    box.send_keys("bố tôi mất để lại mảnh đất, 3 anh em tôi muốn sang tên sổ đỏ thì cần giấy tờ gì", Keys.ENTER)
    wait(browser, lambda d: len(messages(d)) >= 3)  # greeting, question, reply
    for _ in range(3):
        if any("Mẫu số 18" in m for m in messages(browser)):
            break
        count = len(messages(browser))
        choice = [b for b in browser.find_elements(By.CSS_SELECTOR, ".motcua-buttons button")
                  if b.is_enabled() and "Đăng ký biến động" in b.text]
        if choice:  # not sure of the procedure: offered to confirm
            choice[0].click()
        else:  # not found (the tests' index uses the base model): the citizen names it; the situation told in
            # the first message (inheritance, three siblings) is remembered
            box.send_keys("sang tên sổ đỏ cần giấy tờ gì", Keys.ENTER)
        # the citizen's bubble, then the reply: the widget is no longer busy
        wait(browser, lambda d, n=count: len(messages(d)) >= n + 2
             and not d.find_element(By.CSS_SELECTOR, ".motcua-status").text)
    wait(browser, lambda d: any("Mẫu số 18" in m for m in messages(d)))
    answer = next(m for m in messages(browser) if "Mẫu số 18" in m)
    assert "trường hợp thừa kế" in answer and "cấp chung một Giấy chứng nhận" in answer
    assert "thế chấp" not in answer and "…" not in answer and len(answer) <= 1500
    browser.save_screenshot(str(ARTIFACTS / "widget-inheritance.png"))
    count = len(messages(browser))
    box.send_keys("còn lệ phí thì sao", Keys.ENTER)
    wait(browser, lambda d: any("Phí, lệ phí" in m for m in messages(d)[count:]))
    fee = next(m for m in messages(browser)[count:] if "Phí, lệ phí" in m)
    assert len(fee) <= 700 and "trong các trường hợp chuyển đổi" not in fee
    count = len(messages(browser))
    box.send_keys("thế có phải nộp thuế không", Keys.ENTER)
    wait(browser, lambda d: any("cơ quan thuế" in m for m in messages(d)[count:]))
    browser.save_screenshot(str(ARTIFACTS / "widget-inheritance-follow-ups.png"))


def test_widget_shows_the_servers_refusals_as_replies(channels_run, browser):
    """Over the length cap (200) and over the session's allowance (429): the reply the server sends is what the
    citizen reads, not a connection error."""
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(channels_run.web_url + "/")
    wait(browser, lambda d: d.find_element(By.ID, "motcua-panel").is_displayed())
    box = browser.find_element(By.ID, "motcua-input")
    # The page's maxlength stops typing past 2,000 characters; a script (or another client) is not stopped.
    browser.execute_script("arguments[0].value = 'tách thửa '.repeat(201);", box)
    box.send_keys(Keys.ENTER)
    wait(browser, lambda d: any("dài hơn 2.000 ký tự" in m for m in messages(d)))

    sender = browser.execute_script(
        "for (var i = 0; i < localStorage.length; i++) { var k = localStorage.key(i);"
        " if (k.slice(-7) === ':sender') { return JSON.parse(localStorage.getItem(k)); } }")
    # Use up the session's allowance (from another address, so the page's own address keeps its own), then type.
    # The allowance refills by one message every few seconds: on a slow machine the typed message may come
    # after a refill and be answered, so the flood and the message are tried again (a real answer is fine then).
    for _ in range(4):
        for _ in range(30):
            status, _ = channels_run.post("/webhooks/web/webhook",
                                          json.dumps({"sender": sender, "message": "x" * 2001}).encode(),
                                          {"X-Forwarded-For": "198.51.100.23"})
            if status == 429:
                break
        assert status == 429, "the session's allowance never ran out"
        count = len(messages(browser))
        box.send_keys("tach thua mat bao lau", Keys.ENTER)
        # The citizen's own message and then one reply: the refusal, or an answer if the allowance had refilled.
        wait(browser, lambda d, count=count: len(messages(d)) >= count + 2)
        if any("Bạn gửi tin nhắn nhanh quá" in m for m in messages(browser)[count:]):
            break
    else:
        raise AssertionError(f"the typed message was never refused: {messages(browser)[-4:]}")
    assert not any("chưa kết nối được máy chủ" in m for m in messages(browser))
    browser.save_screenshot(str(ARTIFACTS / "widget-refusals.png"))
