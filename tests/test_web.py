"""`mafia replay --web`: the page's data holds only what its view may see, and the page works in
a real browser (Chromium from Debian, driven by Selenium): it loads, steps, switches views,
and a spectator's page shows no DM, no mafia channel and no role nobody revealed.

The browser tests need `chromium` and `chromedriver` (Debian: `apt-get install chromium
chromium-driver`, as .ci/run does). Without them they are skipped, except under CI, where
they fail."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO

from mafia.config import make_rules
from mafia.decisions import ABSTAIN, Answer, DayAction, Request
from mafia.engine import Engine
from mafia.enums import DecisionKind
from mafia.events import GameOver, Message
from mafia.render import View
from mafia.transcript import TranscriptWriter, read_transcript
from mafia.web.document import document

from mafia.agents.random_player import RandomPlayer

DM_MARK, MAFIA_MARK = "Zq-private-note", "Zq-mafia-plan"


class MarkedPlayer(RandomPlayer):
    """A random player whose DMs and mafia chat carry marker words (as in the replay tests),
    so a leak of either is a plain substring."""

    async def act(self, request: Request) -> Answer:
        answer = await super().act(request)
        if request.kind is DecisionKind.MAFIA_CHAT:
            return Answer(None, f"{MAFIA_MARK} {request.player} {request.index}")
        if isinstance(answer.choice, DayAction) and answer.choice.action == "dm":
            return Answer(answer.choice, f"{DM_MARK} {request.player} {request.index}")
        return answer


class Abstainer(MarkedPlayer):
    """Never votes anyone out: a game that runs to its day limit."""

    async def act(self, request: Request) -> Answer:
        if request.kind is DecisionKind.VOTE and ABSTAIN in request.options:
            return Answer(ABSTAIN)
        return await super().act(request)


def write_game(path: Path, seed: int, player: type[MarkedPlayer] = MarkedPlayer,
               **rules: Any) -> Path:
    r = make_rules(**rules)
    players = [player(seed, s) for s in range(r.players)]
    with TranscriptWriter(path) as writer:
        asyncio.run(Engine(r, seed, players, sinks=[writer]).run())
    return path


def mafia(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "mafia", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """7 players, roles never revealed on death, DMs and mafia chat with markers."""
    folder = tmp_path_factory.mktemp("web")
    for seed in range(40):  # the first seed whose game has both DMs and mafia chat
        path = write_game(folder / f"game-{seed}.jsonl", seed, reveal_on_death="none")
        text = path.read_text()
        if DM_MARK in text and MAFIA_MARK in text:
            return path
    raise AssertionError("no seed gave DMs and mafia chat")


# ---- the page's data ------------------------------------------------------------------------

def test_a_view_holds_exactly_the_events_it_may_see(game: Path):
    read = read_transcript(game)
    seats = [p["name"] for p in read.events[0].players]  # type: ignore[attr-defined]
    views = [View(), View(public=True), *(View(seat=s) for s in seats)]
    doc = document(read, views)
    assert doc["order"] == ["omniscient", "public", *seats]
    for v in views:
        key = "public" if v.public else (v.seat or "omniscient")
        allowed = {e.seq for e in read.events if v.sees(e)}
        assert {it["seq"] for it in doc["views"][key]["items"]} <= allowed
        dump = json.dumps(doc["views"][key])
        for e in read.events:
            if isinstance(e, Message) and e.text and not v.sees(e):
                assert e.text not in dump, (key, e.text)


def test_the_cli_writes_one_view_for_public_and_as(game: Path, tmp_path: Path):
    public, bob, full = tmp_path / "public.html", tmp_path / "bob.html", tmp_path / "all.html"
    for args, out in ((["--public"], public), (["--as", "bob"], bob), ([], full)):
        run = mafia("replay", str(game), "--web", str(out), *args)
        assert run.returncode == 0, run.stderr
        assert f"wrote {out}" in run.stdout
    data = {p: json.loads(_data(p)) for p in (public, bob, full)}
    assert list(data[public]["views"]) == ["public"]
    assert list(data[bob]["views"]) == ["Bob"]
    assert len(data[full]["views"]) == 2 + 7
    text = public.read_text()
    assert DM_MARK not in text and MAFIA_MARK not in text
    assert '"role_assigned"' not in text and '"night_action"' not in text
    assert "<script src" not in text and "http" not in re.sub(r"http://www\.w3\.org/2000/svg",
                                                               "", text), "self-contained"


def test_web_mistakes_are_one_line(game: Path, tmp_path: Path):
    for args, message in ((["--web", str(tmp_path / "no" / "x.html")], "no folder"),
                          (["--web", str(tmp_path / "x.html"), "--as", "Zed"], "no seat named")):
        run = mafia("replay", str(game), *args)
        assert run.returncode != 0 and message in run.stderr
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_a_folder_gets_an_index_page(game: Path, tmp_path: Path):
    out = tmp_path / "site"
    run = mafia("replay", str(game.parent), "--web", str(out))
    assert run.returncode == 0, run.stderr
    pages = sorted(p.name for p in out.glob("game-*.html"))
    assert pages == sorted(f"{p.stem}.html" for p in game.parent.glob("*.jsonl"))
    index = (out / "index.html").read_text()
    assert all(f'href="{name}"' in index for name in pages)


def _data(page: Path) -> str:
    text = page.read_text()
    match = re.search(r'<script type="application/json" id="game-data">(.*?)</script>', text,
                      re.S)
    assert match
    return match.group(1).replace("<\\/", "</")


# ---- in a real browser ----------------------------------------------------------------------

def _browser_paths() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    paths = _browser_paths()
    if paths is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs chromium and chromedriver (apt-get install chromium "
                        "chromium-driver)")
        pytest.skip("no chromium/chromedriver on this machine")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=paths[1]))
    yield driver
    driver.quit()


def _open(browser: Any, page: Path, fragment: str = "") -> None:
    browser.get(page.as_uri() + fragment)


def _where(browser: Any) -> str:
    return browser.find_element("id", "where").text


def test_the_page_loads_and_steps_through_the_game(browser: Any, game: Path, tmp_path: Path):
    from selenium.webdriver.common.keys import Keys

    page = tmp_path / "all.html"
    assert mafia("replay", str(game), "--web", str(page)).returncode == 0
    _open(browser, page)
    assert browser.execute_script("return document.readyState") == "complete"
    assert _where(browser).startswith("Before the game")
    total = int(re.search(r"of (\d+)", _where(browser)).group(1))
    for _ in range(3):
        browser.find_element("id", "next").click()
    assert "step 3 of" in _where(browser)
    browser.find_element("id", "back").click()
    assert "step 2 of" in _where(browser)
    body = browser.find_element("tag name", "body")
    body.send_keys(Keys.END)  # the keyboard works as well as the buttons
    assert f"step {total} of {total}" in _where(browser)
    outcome = browser.find_element("id", "outcome")
    winner = read_transcript(game).events[-1]
    assert isinstance(winner, GameOver) and outcome.is_displayed()
    assert winner.winner.value in outcome.text.lower()
    body.send_keys(Keys.HOME)
    assert _where(browser).startswith("Before the game")
    browser.find_element("id", "nextday").click()
    assert "Night 1" in _where(browser) or "Day 1" in _where(browser)
    browser.find_element("id", "play").click()  # playing advances on its own
    time.sleep(1.5)
    browser.find_element("id", "play").click()
    assert int(re.search(r"step (\d+)", _where(browser)).group(1)) >= 3


def test_switching_views_shows_only_that_seats_knowledge(browser: Any, game: Path,
                                                         tmp_path: Path):
    from selenium.webdriver.support.ui import Select

    page = tmp_path / "all.html"
    assert mafia("replay", str(game), "--web", str(page)).returncode == 0
    _open(browser, page, "#step=end")
    assert "(" in browser.find_element("id", "players").text  # omniscient: every role shown
    read = read_transcript(game)
    roles = read.events[-1].roles  # type: ignore[attr-defined]
    town = next(p for p, r in roles.items() if r != "mafia")
    Select(browser.find_element("id", "view")).select_by_value(town)
    tabs = browser.find_element("id", "tabs").text
    assert "Mafia channel" not in tabs, "a town seat has no mafia channel"
    # One step before the end (game over reveals every role), the seat knows only its own
    # role and what it learned itself.
    browser.find_element("id", "back").click()
    shown = dict(re.findall(r"(\w+) \((\w+)\)", browser.find_element("id", "players").text))
    learned = {e.target for e in read.events if getattr(e, "detective", None) == town}
    assert set(shown) <= {town} | learned, shown
    # The omniscient file holds every view's data; what the page shows is this seat's.
    assert MAFIA_MARK not in browser.find_element("tag name", "main").text


def test_a_spectators_page_holds_no_secret(browser: Any, game: Path, tmp_path: Path):
    page = tmp_path / "public.html"
    assert mafia("replay", str(game), "--web", str(page), "--public").returncode == 0
    assert DM_MARK not in page.read_text() and MAFIA_MARK not in page.read_text()
    _open(browser, page)
    steps = int(re.search(r"of (\d+)", _where(browser)).group(1))
    for step in range(1, steps):  # every moment of the game, not only the end
        browser.execute_script(f"window.mafiaReplay.go({step - 1})")
        source = browser.page_source
        assert DM_MARK not in source and MAFIA_MARK not in source
        assert "Mafia channel" not in browser.find_element("id", "tabs").text
        assert not re.search(r"\w+ \((villager|mafia|doctor|detective)\)",
                             browser.find_element("id", "players").text), step


def test_a_long_game_loads_in_under_a_second(browser: Any, tmp_path: Path):
    """12 players, 10 days: everyone abstains, one mafia kills a night."""
    path = write_game(tmp_path / "long.jsonl", 1, Abstainer, players=12, max_days=10,
                      allow_abstain=True, roles={"mafia": 1})
    assert read_transcript(path).events[-1].days == 10  # type: ignore[attr-defined]
    page = tmp_path / "long.html"
    run = mafia("replay", str(path), "--web", str(page))
    assert run.returncode == 0, run.stderr
    _open(browser, page, "#step=end")
    ms = browser.execute_script(
        "const t = performance.getEntriesByType('navigation')[0];"
        "return t.loadEventEnd - t.startTime;")
    size = page.stat().st_size
    print(f"12-player 10-day page: {size / 1e3:.0f} kB, loaded in {ms:.0f} ms")
    assert 0 < ms < 1000


def test_a_clock_game_shows_times_and_who_is_typing(browser: Any, tmp_path: Path):
    path = write_game(tmp_path / "clock.jsonl", 3, discussion="clock", typing_events=True)
    page = tmp_path / "clock.html"
    assert mafia("replay", str(path), "--web", str(page), "--public").returncode == 0
    _open(browser, page)
    items = browser.execute_script("return window.mafiaReplay.doc.views.public.items")
    typing = next(i for i, it in enumerate(items) if it["lane"] == "typing")
    browser.execute_script(f"window.mafiaReplay.go({typing})")
    assert browser.find_element("id", "typing").text.endswith("is typing…")
    said = next(i for i, it in enumerate(items) if it["lane"] == "public" and it.get("t"))
    browser.execute_script(f"window.mafiaReplay.go({said})")
    assert re.search(r"\d+\.\d s", browser.find_element("id", "panes").text)
    browser.find_element("id", "play").click()  # paced by the simulated clock, still moving
    time.sleep(2.0)
    browser.find_element("id", "play").click()
    assert int(re.search(r"step (\d+)", _where(browser)).group(1)) > said + 1


def _luminance(rgb: str) -> float:
    channels = [int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_text_is_readable_and_the_page_fits_a_phone(browser: Any, game: Path, tmp_path: Path):
    """WCAG AA contrast (4.5:1) for every kind of text the page draws, and no sideways
    scrolling at 390 px wide, where the columns stack."""
    page = tmp_path / "all.html"
    assert mafia("replay", str(game), "--web", str(page)).returncode == 0
    try:
        for width in (1280, 390):
            browser.set_window_size(width, 900)
            _open(browser, page, "#step=end")
            bg = browser.execute_script(
                "return getComputedStyle(document.body).backgroundColor")
            colours = browser.execute_script(
                "const out = new Set();"
                "for (const n of document.querySelectorAll('main *, nav *, header *')) {"
                "  if (n.childNodes.length && [...n.childNodes].some(c => c.nodeType === 3"
                "      && c.textContent.trim())) out.add(getComputedStyle(n).color); }"
                "return [...out];")
            assert colours
            for colour in colours:
                assert _contrast(colour, bg) >= 4.5, (width, colour, bg)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (width, overflow)
    finally:
        browser.set_window_size(1280, 900)


def test_a_cut_transcript_makes_a_page_and_a_warning(game: Path, tmp_path: Path):
    cut = tmp_path / "cut.jsonl"
    lines = game.read_text().splitlines()
    cut.write_text("\n".join(lines[: len(lines) // 2]) + "\nnot json\n")
    run = mafia("replay", str(cut), "--web", str(tmp_path / "cut.html"))
    assert run.returncode == 0, run.stderr
    assert "not valid JSON" in run.stderr and "no game_over" in run.stderr
    data = json.loads(_data(tmp_path / "cut.html"))
    assert data["game"]["finished"] is False
