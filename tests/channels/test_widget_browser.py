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
    assert browser.find_element(By.CSS_SELECTOR, "label[for=motcua-input]").get_attribute("textContent") == "Câu hỏi của bạn"

    box.send_keys("lam lai so do bi mat can giay to gi", Keys.ENTER)
    wait(browser, lambda d: any("1.012786" in m for m in messages(d)))
    buttons = wait(browser, lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, ".motcua-buttons button")
                                       if b.is_enabled()])
    assert [b.text for b in buttons] == ["👍 Hữu ích", "👎 Chưa đúng"]
    browser.save_screenshot(str(ARTIFACTS / "widget-answer.png"))
    buttons[0].click()
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
