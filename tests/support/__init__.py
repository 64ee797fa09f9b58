"""What the tests share and test nothing themselves: the actors, crafted
tokens, the fake clock, the command runners, API clients and reference
oracles (the straightforward spellings the hot path is compared with)."""
