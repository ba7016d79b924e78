"""Divisions and clubs: the one place where football-data's names become stable ids.

A club keeps one id across seasons, divisions and files (``fd:team:man-united``),
whatever spelling a file uses: every spelling seen is listed under the club. A name
not listed still imports, with an id made from the name itself (so a new club needs
no code change; a new spelling of a known club does: add it to :data:`CLUBS`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from shared.footballdata.model import Team

TEAM_PREFIX = "fd:team:"
COMPETITION_PREFIX = "fd:competition:"


@dataclass(frozen=True, slots=True)
class Division:
    """A football-data division code's competition."""

    code: str
    name: str
    country: str
    tiebreak: str = "goal_difference"  # or "head_to_head": points, then the games between the tied


_D = Division
DIVISIONS: dict[str, Division] = {d.code: d for d in (
    _D("E0", "Premier League", "England"),
    _D("E1", "Championship", "England"),
    _D("E2", "League One", "England"),
    _D("E3", "League Two", "England"),
    _D("EC", "National League", "England"),
    _D("SC0", "Premiership", "Scotland"),
    _D("SC1", "Championship", "Scotland"),
    _D("SC2", "League One", "Scotland"),
    _D("SC3", "League Two", "Scotland"),
    _D("D1", "Bundesliga", "Germany"),
    _D("D2", "2. Bundesliga", "Germany"),
    _D("SP1", "La Liga", "Spain", "head_to_head"),
    _D("SP2", "Segunda Division", "Spain", "head_to_head"),
    _D("I1", "Serie A", "Italy", "head_to_head"),
    _D("I2", "Serie B", "Italy", "head_to_head"),
    _D("F1", "Ligue 1", "France"),
    _D("F2", "Ligue 2", "France"),
    _D("N1", "Eredivisie", "Netherlands"),
    _D("B1", "First Division A", "Belgium"),
    _D("P1", "Primeira Liga", "Portugal"),
    _D("T1", "Super Lig", "Turkey"),
    _D("G1", "Super League", "Greece"),
)}


def division(code: str) -> Division:
    """The division of a code; an unknown code is a competition named by the code."""
    return DIVISIONS.get(code) or Division(code, code, "")


def competition_id(code: str) -> str:
    """The stable competition id of a division code (``fd:competition:E0``)."""
    return COMPETITION_PREFIX + code


# slug -> (display name, other spellings). The display name is football-data's own.
CLUBS: dict[str, tuple[str, tuple[str, ...]]] = {
    # England
    "arsenal": ("Arsenal", ()),
    "aston-villa": ("Aston Villa", ()),
    "bournemouth": ("Bournemouth", ("AFC Bournemouth",)),
    "brentford": ("Brentford", ()),
    "brighton": ("Brighton", ("Brighton & Hove Albion", "Brighton and Hove Albion")),
    "burnley": ("Burnley", ()),
    "cardiff": ("Cardiff", ("Cardiff City",)),
    "chelsea": ("Chelsea", ()),
    "crystal-palace": ("Crystal Palace", ()),
    "everton": ("Everton", ()),
    "fulham": ("Fulham", ()),
    "huddersfield": ("Huddersfield", ("Huddersfield Town",)),
    "hull": ("Hull", ("Hull City",)),
    "leeds": ("Leeds", ("Leeds United",)),
    "leicester": ("Leicester", ("Leicester City",)),
    "liverpool": ("Liverpool", ()),
    "luton": ("Luton", ("Luton Town",)),
    "man-city": ("Man City", ("Manchester City",)),
    "man-united": ("Man United", ("Manchester United", "Man Utd", "Manchester Utd")),
    "middlesbrough": ("Middlesbrough", ("Middlesboro",)),
    "newcastle": ("Newcastle", ("Newcastle United", "Newcastle Utd")),
    "norwich": ("Norwich", ("Norwich City",)),
    "nottm-forest": ("Nott'm Forest", ("Nottingham Forest", "Nottingham")),
    "qpr": ("QPR", ("Queens Park Rangers", "Q.P.R.")),
    "reading": ("Reading", ()),
    "sheffield-united": ("Sheffield United", ("Sheffield Utd", "Sheff Utd")),
    "sheffield-weds": ("Sheffield Weds", ("Sheffield Wednesday", "Sheff Wed")),
    "southampton": ("Southampton", ()),
    "stoke": ("Stoke", ("Stoke City",)),
    "sunderland": ("Sunderland", ()),
    "swansea": ("Swansea", ("Swansea City",)),
    "tottenham": ("Tottenham", ("Tottenham Hotspur", "Spurs")),
    "watford": ("Watford", ()),
    "west-brom": ("West Brom", ("West Bromwich Albion", "West Bromwich")),
    "west-ham": ("West Ham", ("West Ham United",)),
    "wigan": ("Wigan", ("Wigan Athletic",)),
    "wolves": ("Wolves", ("Wolverhampton", "Wolverhampton Wanderers")),
    # Spain
    "alaves": ("Alaves", ("Deportivo Alaves",)),
    "almeria": ("Almeria", ("UD Almeria",)),
    "ath-bilbao": ("Ath Bilbao", ("Athletic Bilbao", "Athletic Club")),
    "ath-madrid": ("Ath Madrid", ("Atletico Madrid", "Atl. Madrid", "Atletico")),
    "barcelona": ("Barcelona", ("FC Barcelona",)),
    "betis": ("Betis", ("Real Betis",)),
    "cadiz": ("Cadiz", ("Cadiz CF",)),
    "celta": ("Celta", ("Celta Vigo",)),
    "eibar": ("Eibar", ()),
    "elche": ("Elche", ()),
    "espanol": ("Espanol", ("Espanyol",)),
    "getafe": ("Getafe", ()),
    "girona": ("Girona", ()),
    "granada": ("Granada", ()),
    "huesca": ("Huesca", ()),
    "la-coruna": ("La Coruna", ("Deportivo La Coruna", "Deportivo")),
    "leganes": ("Leganes", ()),
    "levante": ("Levante", ()),
    "mallorca": ("Mallorca", ("RCD Mallorca",)),
    "osasuna": ("Osasuna", ()),
    "real-madrid": ("Real Madrid", ()),
    "sevilla": ("Sevilla", ("Seville",)),
    "sociedad": ("Sociedad", ("Real Sociedad",)),
    "sp-gijon": ("Sp Gijon", ("Sporting Gijon",)),
    "valencia": ("Valencia", ()),
    "valladolid": ("Valladolid", ("Real Valladolid",)),
    "vallecano": ("Vallecano", ("Rayo Vallecano",)),
    "villarreal": ("Villarreal", ()),
    # Germany
    "augsburg": ("Augsburg", ("FC Augsburg",)),
    "bayern-munich": ("Bayern Munich", ("Bayern Munchen", "FC Bayern")),
    "dortmund": ("Dortmund", ("Borussia Dortmund",)),
    "ein-frankfurt": ("Ein Frankfurt", ("Eintracht Frankfurt",)),
    "fortuna-dusseldorf": ("Fortuna Dusseldorf", ("Dusseldorf",)),
    "freiburg": ("Freiburg", ("SC Freiburg",)),
    "hannover": ("Hannover", ("Hannover 96",)),
    "hertha": ("Hertha", ("Hertha Berlin", "Hertha BSC")),
    "hoffenheim": ("Hoffenheim", ("TSG Hoffenheim",)),
    "fc-koln": ("FC Koln", ("Koln", "Cologne")),
    "leverkusen": ("Leverkusen", ("Bayer Leverkusen",)),
    "mgladbach": ("M'gladbach", ("Monchengladbach", "Borussia Monchengladbach", "Mgladbach")),
    "mainz": ("Mainz", ("Mainz 05",)),
    "nurnberg": ("Nurnberg", ("Nuremberg",)),
    "rb-leipzig": ("RB Leipzig", ("Leipzig",)),
    "schalke-04": ("Schalke 04", ("Schalke",)),
    "stuttgart": ("Stuttgart", ("VfB Stuttgart",)),
    "union-berlin": ("Union Berlin", ()),
    "werder-bremen": ("Werder Bremen", ("Bremen",)),
    "wolfsburg": ("Wolfsburg", ("VfL Wolfsburg",)),
    # France
    "amiens": ("Amiens", ()),
    "angers": ("Angers", ()),
    "bordeaux": ("Bordeaux", ()),
    "caen": ("Caen", ()),
    "dijon": ("Dijon", ()),
    "guingamp": ("Guingamp", ()),
    "lille": ("Lille", ()),
    "lyon": ("Lyon", ("Olympique Lyonnais",)),
    "marseille": ("Marseille", ("Olympique Marseille",)),
    "monaco": ("Monaco", ("AS Monaco",)),
    "montpellier": ("Montpellier", ()),
    "nantes": ("Nantes", ()),
    "nice": ("Nice", ()),
    "nimes": ("Nimes", ()),
    "paris-sg": ("Paris SG", ("PSG", "Paris Saint-Germain", "Paris Saint Germain")),
    "reims": ("Reims", ()),
    "rennes": ("Rennes", ()),
    "st-etienne": ("St Etienne", ("Saint-Etienne", "Saint Etienne")),
    "strasbourg": ("Strasbourg", ()),
    "toulouse": ("Toulouse", ()),
    # Italy
    "atalanta": ("Atalanta", ()),
    "bologna": ("Bologna", ()),
    "cagliari": ("Cagliari", ()),
    "chievo": ("Chievo", ("Chievo Verona",)),
    "empoli": ("Empoli", ()),
    "fiorentina": ("Fiorentina", ()),
    "frosinone": ("Frosinone", ()),
    "genoa": ("Genoa", ()),
    "inter": ("Inter", ("Internazionale", "Inter Milan")),
    "juventus": ("Juventus", ()),
    "lazio": ("Lazio", ()),
    "milan": ("Milan", ("AC Milan",)),
    "napoli": ("Napoli", ()),
    "parma": ("Parma", ()),
    "roma": ("Roma", ("AS Roma",)),
    "sampdoria": ("Sampdoria", ()),
    "sassuolo": ("Sassuolo", ()),
    "spal": ("Spal", ("SPAL 2013",)),
    "torino": ("Torino", ()),
    "udinese": ("Udinese", ()),
}

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _fold(name: str) -> str:
    """Lower case ASCII letters and digits only, single dashes (``Nott'm Forest`` -> ``nottm-forest``)."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower().replace("'", "")).strip("-")


_LOOKUP: dict[str, str] = {}
for _slug, (_display, _others) in CLUBS.items():
    for _spelling in (_display, *_others):
        _LOOKUP.setdefault(_fold(_spelling), _slug)


@lru_cache(maxsize=4096)
def team(file_name: str) -> Team:
    """The club a file's team name stands for (an unlisted name is its own club)."""
    folded = _fold(file_name)
    slug = _LOOKUP.get(folded)
    if slug is not None:
        return Team(id=TEAM_PREFIX + slug, name=CLUBS[slug][0], file_name=file_name)
    return Team(id=TEAM_PREFIX + (folded[:50] or "unnamed"), name=file_name, file_name=file_name)


@lru_cache(maxsize=4096)
def known_team(file_name: str) -> bool:
    """True when the name is one of the listed spellings."""
    return _fold(file_name) in _LOOKUP
