"""Pure pricing maths: goal models, markets, margins, in-play, the tennis chain (no I/O).

One copy, used by the feed generator and the platform alike. Modules, small and
importable alone (importing this package imports none of them, so the generator never
pays for scipy or penaltyblog):

- :mod:`~shared.pricing.event`: the entry point — a sport's parameters and live state
  in, every market of ``shared.rules`` out (``price_event``, ``state_from_live``).
- Sports: :mod:`~shared.pricing.football` (score grid, in-play time profile),
  :mod:`~shared.pricing.football_fit` (Dixon-Coles / Poisson fitted on results),
  :mod:`~shared.pricing.ice_hockey`, :mod:`~shared.pricing.basketball`,
  :mod:`~shared.pricing.tennis` (on :mod:`~shared.pricing.tennis_chain`).
- Building blocks: :mod:`~shared.pricing.dist` (distributions), :mod:`~shared.pricing.grid`
  (the score grid, Dixon-Coles τ), :mod:`~shared.pricing.lines` (Asian lines, pushes,
  settlement), :mod:`~shared.pricing.outlook`, :mod:`~shared.pricing.markets`.
- Prices: :mod:`~shared.pricing.margins` (apply and remove margins, five methods),
  :mod:`~shared.pricing.prices` (``Decimal`` prices for the canonical model).

See ``docs/pricing.md``.
"""
