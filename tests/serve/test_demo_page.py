"""The demo page, end to end in headless Chromium (Debian's chromium + chromium-driver; .ci/run installs them)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.serve.conftest import start_server, stop_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver")


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_paste_text_and_see_mentions_sentiment_and_summary(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = server
    browser.get(base + "/")
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(
        "He added that Damascus has every right to expel terrorists. Turkey and the US met. - Advertisement -"
    )
    browser.find_element(By.ID, "analyze").click()
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sentences .mention")))

    mentions = browser.find_elements(By.CSS_SELECTOR, "#sentences .mention")
    assert [(m.text, m.get_attribute("data-actor")) for m in mentions] == [
        ("Damascus", "Syria"), ("Turkey", "Turkey"), ("US", "United States"),
    ]  # fmt: skip
    for m in mentions:
        assert m.get_attribute("data-stance") in {"against", "neutral", "favor"}
        assert m.get_attribute("data-stance") in m.get_attribute("class")
    sentences = browser.find_elements(By.CSS_SELECTOR, "#sentences .sentence")
    assert len(sentences) == 3 and "sentiment:" in sentences[0].text
    assert "boilerplate" in sentences[2].get_attribute("class")
    rows = browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")
    assert {r.get_attribute("data-actor") for r in rows} == {"Syria", "Turkey", "United States"}
    assert browser.find_element(By.ID, "error").text == ""


def test_errors_are_shown(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = server
    browser.get(base + "/")
    browser.execute_script("document.getElementById('text').value = 'x'.repeat(200001)")
    browser.find_element(By.ID, "analyze").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "error").text)
    assert "limit" in browser.find_element(By.ID, "error").text


@pytest.fixture
def label_server(models_root, tmp_path):
    from tests.serve.test_labelling import ITEMS

    items = tmp_path / "queue.jsonl"
    items.write_text("".join(json.dumps(i) + "\n" for i in ITEMS))
    output = tmp_path / "labels.jsonl"
    server = start_server(models_root, {"STANCE_LABEL_QUEUE": str(items), "STANCE_LABEL_OUTPUT": str(output)})
    yield server[0], output
    stop_server(server[1])


def test_labelling_page_with_keyboard_shortcuts(label_server, browser):
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    base, output = label_server
    browser.get(base + "/label")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#sentence mark").text == "Damascus")
    assert browser.find_element(By.ID, "actor").text == "Syria"
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("f", "2", "l", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "actor").text == "Turkey")
    assert "1 of 2" in browser.find_element(By.ID, "progress").text
    (saved,) = [json.loads(line) for line in output.read_text().splitlines()]
    assert (saved["id"], saved["stance"], saved["sentiment"], saved["confidence"]) == ("i1", "favor", "neutral", "low")
    body.send_keys(Keys.ENTER)  # no stance chosen yet: refused, nothing saved
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "error").text)
    body.send_keys("a", "1", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "done").is_displayed())
    assert len(output.read_text().splitlines()) == 2


def test_mentions_after_emoji_are_highlighted_exactly(server, browser):  # audit 6: offsets are code points
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = server
    browser.get(base + "/")
    browser.execute_script("document.getElementById('text').value = '🙂🙂 Turkey shelled the town. 🎉 Damascus spoke.'")
    browser.find_element(By.ID, "analyze").click()
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sentences .mention")))
    mentions = browser.find_elements(By.CSS_SELECTOR, "#sentences .mention")
    assert [m.text for m in mentions] == ["Turkey", "Damascus"]


@pytest.fixture
def keyed_label_server(models_root, tmp_path):
    items = tmp_path / "queue.jsonl"
    item = {"id": "e1", "text": "🙂🙂 He said Damascus is right.", "target": "Syria", "mention_start": 11,
            "mention_end": 19}  # fmt: skip
    items.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    output = tmp_path / "labels.jsonl"
    env = {"STANCE_LABEL_QUEUE": str(items), "STANCE_LABEL_OUTPUT": str(output), "STANCE_API_KEYS": '["k1"]'}
    server = start_server(models_root, env)
    yield server[0], output
    stop_server(server[1])


def test_labelling_page_with_an_api_key_and_emoji(keyed_label_server, browser):  # audit 3 and 6
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    base, output = keyed_label_server
    browser.get(base + "/label")
    WebDriverWait(browser, 30).until(lambda d: "API key" in d.find_element(By.ID, "error").text)
    key = browser.find_element(By.ID, "key")
    key.send_keys("k1", Keys.TAB)  # change event: load again, with the key
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sentence mark"))
    assert browser.find_element(By.CSS_SELECTOR, "#sentence mark").text == "Damascus"
    browser.find_element(By.TAG_NAME, "body").send_keys("f", "2", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "done").is_displayed())
    assert json.loads(output.read_text(encoding="utf-8"))["stance"] == "favor"
