"""Sportradar Unified Odds Feed (UOF) XML: one document per canonical message.

The generator speaks UOF as a Sportradar producer would: ``fixtures_fixture`` (the
API's fixture, the only UOF document that names the competitors), ``odds_change``
with either a ``sport_event_status`` (live) or ``odds``, ``bet_stop``,
``bet_settlement`` and ``alive``. Market and outcome ids are UOF's (1 = 1x2,
18 = total, 12/13 = over/under...), period and break codes its ``match_status`` codes.

UOF cannot say everything the canonical model can: it has no message ids (ingestion
hashes the content), names bet stops by market group, tells producers by number and
keeps no tie-break points per set. :func:`uof_view` gives the canonical message as it
looks once it has crossed UOF, so a UOF match is generated in that form from the start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lxml import etree

from feedgen.emit.native import iso
from shared.enums import EventStatus, Sport
from shared.model import (
    AliveBody,
    BetStopBody,
    FeedMessage,
    FixtureBody,
    LiveBody,
    OddsBody,
    PeriodScore,
    SettlementBody,
    content_message_id,
)

SPORT_IDS = {Sport.FOOTBALL: 1, Sport.BASKETBALL: 2, Sport.ICE_HOCKEY: 4, Sport.TENNIS: 5}
NAMESPACE = "http://schemas.sportradar.com/sportsapi/v1/unified"
LIVE_PRODUCT, PREMATCH_PRODUCT = "1", "3"

_THREE = {"home": "1", "draw": "2", "away": "3"}
_OU = {"over": "12", "under": "13"}
_HCP = {"home": "1714", "away": "1715"}
_WIN = {"home": "4", "away": "5"}
# canonical market type -> (UOF market id, canonical outcome -> UOF outcome id)
MARKETS: dict[Sport, dict[str, tuple[str, dict[str, str]]]] = {
    Sport.FOOTBALL: {
        "1x2": ("1", _THREE), "totals": ("18", _OU), "handicap": ("16", _HCP),
        "double_chance": ("10", {"home_or_draw": "9", "home_or_away": "10",
                                 "draw_or_away": "11"}),
        "draw_no_bet": ("11", _WIN), "btts": ("29", {"yes": "74", "no": "76"}),
    },
    Sport.BASKETBALL: {"moneyline": ("219", _WIN), "handicap": ("223", _HCP),
                       "totals": ("225", _OU)},
    Sport.TENNIS: {"moneyline": ("186", _WIN), "handicap": ("187", _HCP),
                   "set_handicap": ("188", _HCP), "totals": ("189", _OU)},
    Sport.ICE_HOCKEY: {"1x2": ("1", _THREE), "handicap": ("16", _HCP), "totals": ("18", _OU),
                       "moneyline": ("406", _WIN)},
}
EVENT_STATUS = {EventStatus.NOT_STARTED: "0", EventStatus.LIVE: "1", EventStatus.ENDED: "3",
                EventStatus.CLOSED: "4"}
MARKET_STATUS = {"active": "1", "suspended": "-1", "deactivated": "0", "handed_over": "-2",
                 "settled": "-3", "cancelled": "-4"}
PERIOD_CODES: dict[Sport, dict[str, int]] = {
    Sport.FOOTBALL: {"1h": 6, "2h": 7, "et1": 41, "et2": 42, "pen": 50, "ht": 31,
                     "awaiting_et": 32, "et_ht": 33, "awaiting_pen": 34},
    Sport.BASKETBALL: {"q1": 13, "q2": 14, "q3": 15, "q4": 16, "break": 30, "ht": 31,
                       "awaiting_ot": 32},
    Sport.TENNIS: {"set1": 8, "set2": 9, "set3": 10, "set4": 11, "set5": 12, "break": 30},
    Sport.ICE_HOCKEY: {"p1": 1, "p2": 2, "p3": 3, "so": 50, "break": 30, "awaiting_ot": 32,
                       "awaiting_so": 34},
}
OVERTIME_CODE, NOT_STARTED_CODE, ENDED_CODE = 40, 0, 100
_GAME = {"A": "50"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def uof_view(message: FeedMessage, provider: str) -> FeedMessage:
    """The canonical message as it comes out of UOF (content-hash id included)."""
    body = message.body
    if isinstance(body, OddsBody):
        body = body.model_copy(update={"producer": (
            PREMATCH_PRODUCT if body.producer == "prematch" else LIVE_PRODUCT)})
    elif isinstance(body, BetStopBody):
        body = BetStopBody(market_keys=None, producer=LIVE_PRODUCT, reason="groups=all")
    elif isinstance(body, AliveBody):
        body = AliveBody(producer=LIVE_PRODUCT, subscribed=body.subscribed)
    elif isinstance(body, LiveBody) and message.sport is Sport.TENNIS:
        periods = tuple(PeriodScore(period=p.period, home=p.home, away=p.away)
                        for p in body.score.periods)
        body = body.model_copy(update={"score": body.score.model_copy(update={"periods": periods})})
    # The new body holds values already validated (the same prices, keys and ids).
    view = message.model_copy(update={"body": body})
    message_id = content_message_id(provider, view.sport.value, view.event_id, view.kind.value,
                                    view.provider_ts, view.body)
    return view.model_copy(update={"message_id": message_id})


def _epoch_ms(message: FeedMessage) -> str:
    return str((message.provider_ts - _EPOCH) // timedelta(milliseconds=1))


def _num(value: Decimal) -> str:
    return format(value, "f")


def _market(parent: etree._Element, sport: Sport, key: str) -> tuple[etree._Element, dict[
        str, str]]:
    mtype, _, spec = key.partition("|")
    market_id, outcomes = MARKETS[sport][mtype]
    element = etree.SubElement(parent, "market", id=market_id)
    if spec:
        element.set("specifiers", spec)
    return element, outcomes


def sport_event_status(parent: etree._Element, sport: Sport, body: LiveBody) -> None:
    """``<sport_event_status>`` of a live body (codes per ``PERIOD_CODES``)."""
    codes = PERIOD_CODES[sport]
    if body.period is None:
        match_status = NOT_STARTED_CODE if body.status is EventStatus.NOT_STARTED else ENDED_CODE
    elif body.period.startswith("ot"):
        match_status = OVERTIME_CODE
    else:
        match_status = codes[body.period]
    status = etree.SubElement(parent, "sport_event_status", {
        "status": EVENT_STATUS[body.status], "match_status": str(match_status),
        "home_score": str(body.score.home), "away_score": str(body.score.away),
    })
    if sport is Sport.TENNIS:
        if body.server is not None:
            status.set("current_server", "1" if body.server == "home" else "2")
        if body.game is not None:
            status.set("home_gamescore", _GAME.get(body.game.home, body.game.home))
            status.set("away_gamescore", _GAME.get(body.game.away, body.game.away))
    if body.clock is not None:
        clock = etree.SubElement(status, "clock",
                                 match_time=f"{body.clock.seconds // 60}:{body.clock.seconds % 60:02d}")
        if body.clock.stoppage_seconds is not None:
            s = body.clock.stoppage_seconds
            clock.set("stoppage_time", f"{s // 60}:{s % 60:02d}")
        if not body.clock.running:
            clock.set("stopped", "true")
    if body.score.periods:
        holder = etree.SubElement(status, "period_scores")
        for number, p in enumerate(body.score.periods, start=1):
            code = OVERTIME_CODE if p.period.startswith("ot") else codes[p.period]
            etree.SubElement(holder, "period_score", match_status_code=str(code),
                             number=str(number), home_score=str(p.home), away_score=str(p.away))


def _fixture(message: FeedMessage, body: FixtureBody) -> etree._Element:
    root = etree.Element(f"{{{NAMESPACE}}}fixtures_fixture",
                         nsmap={None: NAMESPACE},  # type: ignore[dict-item]  # default ns
                         generated_at=iso(message.provider_ts))
    fixture = etree.SubElement(root, f"{{{NAMESPACE}}}fixture", id=message.event_id)
    if body.start_time is not None:
        fixture.set("start_time", iso(body.start_time))
    if body.status is not None:
        fixture.set("status", body.status.value)
    if body.competition is not None:
        if body.competition.season:
            etree.SubElement(fixture, f"{{{NAMESPACE}}}season", year=body.competition.season)
        tournament = etree.SubElement(fixture, f"{{{NAMESPACE}}}tournament",
                                      id=body.competition.id, name=body.competition.name)
        etree.SubElement(tournament, f"{{{NAMESPACE}}}sport",
                         id=f"sr:sport:{SPORT_IDS[message.sport]}")
        if body.competition.country:
            etree.SubElement(tournament, f"{{{NAMESPACE}}}category",
                             name=body.competition.country)
    competitors = etree.SubElement(fixture, f"{{{NAMESPACE}}}competitors")
    for side in ("home", "away"):
        who = getattr(body, side)
        if who is not None:
            etree.SubElement(competitors, f"{{{NAMESPACE}}}competitor", id=who.id,
                             name=who.name, qualifier=side)
    if body.best_of is not None:
        extra = etree.SubElement(fixture, f"{{{NAMESPACE}}}extra_info")
        etree.SubElement(extra, f"{{{NAMESPACE}}}info", key="best_of", value=str(body.best_of))
    return root


def uof_document(message: FeedMessage) -> bytes:
    """One canonical message (in its :func:`uof_view` form) as a UOF XML document."""
    body, sport = message.body, message.sport
    head = {"event_id": message.event_id, "timestamp": _epoch_ms(message)}
    if isinstance(body, FixtureBody):
        root = _fixture(message, body)
    elif isinstance(body, LiveBody):
        root = etree.Element("odds_change", head, product=LIVE_PRODUCT)
        sport_event_status(root, sport, body)
    elif isinstance(body, OddsBody):
        root = etree.Element("odds_change", head, product=body.producer or LIVE_PRODUCT)
        odds = etree.SubElement(root, "odds")
        for market in body.markets:
            element, ids = _market(odds, sport, market.market_key)
            element.set("status", MARKET_STATUS[market.status.value])
            for o in market.outcomes:
                outcome = etree.SubElement(element, "outcome", id=ids.get(o.id, o.id),
                                           active="1" if o.active else "0")
                if o.price is not None:
                    outcome.set("odds", _num(o.price))
    elif isinstance(body, BetStopBody):
        root = etree.Element("bet_stop", head, product=body.producer or LIVE_PRODUCT,
                             groups="all")
    elif isinstance(body, SettlementBody):
        root = etree.Element("bet_settlement", head, product=LIVE_PRODUCT,
                             certainty="2" if body.certainty == "confirmed" else "1")
        holder = etree.SubElement(root, "outcomes")
        for settled in body.markets:
            element, ids = _market(holder, sport, settled.market_key)
            for s in settled.outcomes:
                outcome = etree.SubElement(element, "outcome", id=ids.get(s.outcome_id,
                                           s.outcome_id), result="1" if s.result == "won" else "0")
                if s.void_factor:
                    outcome.set("void_factor", _num(s.void_factor))
                if s.dead_heat_factor is not None:
                    outcome.set("dead_heat_factor", _num(s.dead_heat_factor))
    elif isinstance(body, AliveBody):
        root = etree.Element("alive", product=body.producer or LIVE_PRODUCT,
                             timestamp=head["timestamp"], subscribed="1" if body.subscribed else "0")
    else:
        raise ValueError(f"the generator does not emit {message.kind.value} over UOF")
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, standalone=True))
