"""The pure core: strategies and staking, settlement maths, model recency, the engine."""
