"""The processors' pure domain: states, rules, decisions and batch plans. No I/O here."""
