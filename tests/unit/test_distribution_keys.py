"""Consumer keys without I/O: parsing (with hypothesis), scopes, limits, the rate bucket, the
access counters, and a football-only client in the hub that never sees another sport."""

from __future__ import annotations

import asyncio
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from services.distribution.access import Access, Refusal, TokenBucket
from services.distribution.keys import (
    ALL,
    SCOPES,
    SPORT_NAMES,
    KeyConfigError,
    KeyTable,
    Limits,
    parse_inline_keys,
    parse_keys_text,
)
from services.distribution.ws.hub import Hub
from services.distribution.ws.subscriptions import Subscription
from shared.enums import Sport
from shared.keys import MIN_KEY_LENGTH
from tests.support.distribution_fakes import (
    FakeSink,
    FakeSource,
    delta,
    market,
    session,
    settings,
    snapshot_data,
)

DEFAULTS = Limits(rate=100.0, burst=200, connections=20, subscriptions=10_000)
KEY_A = "a" * 24
KEY_B = "b-key.with~odd+chars/0123="
TOKEN_CHARS = string.ascii_letters + string.digits + "-._~+/"

names = st.from_regex(r"[a-z0-9_\-]{1,32}", fullmatch=True)
secrets = st.text(TOKEN_CHARS, min_size=MIN_KEY_LENGTH, max_size=64)
scope_sets = st.frozensets(st.sampled_from(SCOPES), min_size=1)
sport_sets = st.frozensets(st.sampled_from(list(Sport)))
limit_sets = st.fixed_dictionaries({}, optional={
    "rate": st.integers(1, 10_000), "burst": st.integers(1, 10_000),
    "connections": st.integers(0, 1000), "subscriptions": st.integers(0, 100_000)})


@st.composite
def key_specs(draw: st.DrawFn) -> list[tuple[str, str, frozenset[str], frozenset[Sport], dict[str, int]]]:
    """Distinct names and keys, each with scopes, sports (empty: all) and limit overrides."""
    count = draw(st.integers(1, 5))
    chosen_names = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    chosen_keys = draw(st.lists(secrets, min_size=count, max_size=count, unique=True))
    return [(n, k, draw(scope_sets), draw(sport_sets), draw(limit_sets))
            for n, k in zip(chosen_names, chosen_keys, strict=True)]


def words(scopes: frozenset[str], sports: frozenset[Sport]) -> list[str]:
    """Scope words: ``all`` when every scope, else each one; then the sports."""
    base = [ALL] if scopes == frozenset(SCOPES) else sorted(scopes)
    return base + sorted(s.value for s in sports)


@given(specs=key_specs(), as_file=st.booleans(), data=st.data())
def test_keys_parse_back_to_what_was_written_and_look_up_only_themselves(
    specs: list[tuple[str, str, frozenset[str], frozenset[Sport], dict[str, int]]], as_file: bool,
    data: st.DataObject,
) -> None:
    if as_file:
        text = "\n".join(f"{n} {k} {','.join(words(s, sp))} "
                         + " ".join(f"{a}={b}" for a, b in lim.items()) + "  # comment"
                         for n, k, s, sp, lim in specs)
        keys = parse_keys_text(text, DEFAULTS, source="keys")
    else:
        text = ",".join(f"{n}:{k}:{'|'.join(words(s, sp))}"
                        + (":" + "|".join(f"{a}={b}" for a, b in lim.items()) if lim else "")
                        for n, k, s, sp, lim in specs)
        keys = parse_inline_keys(text, DEFAULTS)
    table = KeyTable(keys)
    for name, key, scopes, sports, limits in specs:
        found = table.lookup(key)
        assert found is not None
        assert found.name == name
        assert found.scopes == scopes
        assert found.sports == (sports or None)
        assert all(found.allows_sport(s) == (not sports or s in sports) for s in Sport)
        expected = DEFAULTS.as_dict() | limits
        assert found.limits.as_dict() == expected
        assert key not in repr(found)
    stranger = data.draw(secrets.filter(lambda k: all(k != s[1] for s in specs)))
    assert table.lookup(stranger) is None


@given(key=secrets, position=st.sampled_from(["scope", "limit", "name"]))
def test_a_key_in_the_wrong_place_is_never_quoted_in_the_error(key: str, position: str) -> None:
    line = {"scope": f"alpha {KEY_A} rest,{key}", "limit": f"alpha {KEY_A} rest {key}",
            "name": f"{key}X {KEY_A} rest"}[position]
    with pytest.raises(KeyConfigError) as error:
        parse_keys_text(line, DEFAULTS, source="keys")
    assert key not in str(error.value)
    assert KEY_A not in str(error.value)


@pytest.mark.parametrize(("text", "message"), [
    (f"alpha:{KEY_A}", "expected name:key:scopes"),
    ("alpha:short:all", "at least 16 characters"),
    (f"Alpha:{KEY_A}:all", "must match"),
    (f"alpha:{KEY_A}:rest|cricket", "unknown scope 'cricket'"),
    (f"alpha:{KEY_A}:football", "names no surface"),
    (f"alpha:{KEY_A}:rest:rate=0", "rate must be at least 1"),
    (f"alpha:{KEY_A}:rest:connections=-1", "connections must be at least 0"),
    (f"alpha:{KEY_A}:rest:speed=3", "unknown limit 'speed=3'"),
    (f"alpha:{KEY_A}:rest:burst=lots", "burst must be a number"),
])
def test_invalid_entries_are_refused_naming_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message):
        parse_inline_keys(text, DEFAULTS)


def test_names_and_keys_are_unique() -> None:
    with pytest.raises(KeyConfigError, match="alpha named twice"):
        KeyTable(parse_inline_keys(f"alpha:{KEY_A}:all,alpha:{KEY_B}:all", DEFAULTS))
    with pytest.raises(KeyConfigError, match="configured twice"):
        KeyTable(parse_inline_keys(f"alpha:{KEY_A}:all,beta:{KEY_A}:all", DEFAULTS))


def test_all_means_every_surface_and_view_and_sports_narrow_it() -> None:
    (key,) = parse_inline_keys(f"page:{KEY_A}:all|football|tennis", DEFAULTS)
    assert key.scopes == frozenset(SCOPES)
    assert key.sports == frozenset({Sport.FOOTBALL, Sport.TENNIS})
    assert key.scope_words() == [*SCOPES, "football", "tennis"]
    assert key.describe() == f"page ({', '.join([*SCOPES, 'football', 'tennis'])})"
    assert SPORT_NAMES == ("football", "basketball", "tennis", "ice_hockey")


def test_the_bucket_allows_its_burst_then_one_request_per_token() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.25) == pytest.approx(0.25)
    assert bucket.take(0.5) == 0.0
    assert bucket.take(10.0) == 0.0  # refilled, never past the burst
    assert [bucket.take(10.0) for _ in range(3)][-1] == pytest.approx(0.5)


def test_access_charges_each_key_its_own_bucket_and_counts_by_name() -> None:
    clock = [0.0]
    access = Access(settings(api_keys=SecretStr(f"slow:{KEY_A}:rest:rate=1|burst=1,fast:{KEY_B}:all")),
                    clock=lambda: clock[0])
    slow, fast = access.authenticate(KEY_A), access.authenticate(KEY_B)
    assert slow is not None
    assert fast is not None
    assert access.charge(slow) == 0.0
    assert access.charge(slow) == pytest.approx(1.0)
    assert all(access.charge(fast) == 0.0 for _ in range(100))
    clock[0] = 1.0
    assert access.charge(slow) == 0.0
    access.count_request("slow", "rest")
    access.refuse("slow", Refusal.RATE)
    view = access.usage_view()
    assert [(k["name"], k["requests"], k["refusals"]) for k in view["keys"]] == [
        ("slow", 1, {"rate": 1}), ("fast", 0, {})]
    assert access.authenticate("c" * 20) is None


async def test_a_keys_rate_refusals_are_paused_up_to_its_held_bound() -> None:
    access = Access(settings(api_keys=SecretStr(f"slow:{KEY_A}:rest,fast:{KEY_B}:all"),
                             rate_limit_pause_s=0.3, rate_limit_held=2))
    loop = asyncio.get_running_loop()

    async def timed(name: str) -> float:
        began = loop.time()
        await access.pause_refusal(name)
        return loop.time() - began

    slow = await asyncio.gather(*(timed("slow") for _ in range(3)), timed("fast"))
    assert sorted(slow[:3])[0] < 0.1  # the third of "slow" is answered at once
    assert all(t >= 0.29 for t in sorted(slow[:3])[1:])
    assert slow[3] >= 0.29  # another key's bound is its own
    assert await timed("slow") >= 0.29  # released once answered
    off = Access(settings(api_keys=SecretStr(f"slow:{KEY_A}:rest"), rate_limit_pause_s=0))
    began = loop.time()
    await off.pause_refusal("slow")
    assert loop.time() - began < 0.05


def test_without_keys_the_check_will_not_start_unless_turned_off() -> None:
    with pytest.raises(KeyConfigError, match="SPORTSFEED_DISTRIBUTION_AUTH=off"):
        Access(settings())
    off = Access(settings(auth="off"))
    assert not off.enabled
    assert off.usage_view()["auth"] == "off"


async def test_a_football_client_following_every_sport_gets_no_other_sports_events() -> None:
    one_x_two, moneyline = market("1x2", "2.1", "3.4", "3.6"), market("moneyline", "1.5", "2.5")
    source = FakeSource({"fb": snapshot_data("fb", 1, one_x_two, sport=Sport.FOOTBALL),
                         "bb": snapshot_data("bb", 1, moneyline, sport=Sport.BASKETBALL)})
    hub = Hub(source, settings())  # type: ignore[arg-type]
    limited_sink, open_sink = FakeSink(), FakeSink()
    limited, everyone = session(limited_sink), session(open_sink)
    limited.subs.allowed = frozenset({Sport.FOOTBALL})
    for client in (limited, everyone):
        # What the server does after narrowing: the limited client names only football;
        # by id it may still name a basketball event.
        sports = frozenset({Sport.FOOTBALL}) if client is limited else frozenset(Sport)
        client.subs.add(Subscription("s", sports=sports, event_ids=frozenset({"bb"}), model=True))
        hub.register(client)
        hub.update_subscriptions(client, (), {})
        await hub.follow(client, event_ids={"bb"}, sports=sports, resume={})
    await asyncio.sleep(0.01)
    hub.dispatch([delta("bb", 2, moneyline, sport=Sport.BASKETBALL), delta("fb", 2, one_x_two)])
    hub.dispatch_models([("bb", Sport.BASKETBALL, {"event_id": "bb", "markets": []})])
    await asyncio.sleep(0.01)
    got = {m["event_id"] for m in limited_sink.messages() if m["type"] in ("snapshot", "delta", "model")}
    assert got == {"fb"}
    (refused,) = limited_sink.messages("error")
    assert (refused["code"], refused["event_id"], refused["sport"]) == ("forbidden", "bb", "basketball")
    assert {m["event_id"] for m in open_sink.messages("delta")} == {"fb", "bb"}
    assert [m["event_id"] for m in open_sink.messages("model")] == ["bb"]
    for client in (limited, everyone):
        client.stop()
