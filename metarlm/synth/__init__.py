"""Synthesis: the search over partial programs, its rule generators, domain plugins and ranking;
``search.synthesize`` is the entry point."""
