"""The domain grammars (``core.lark`` and one file per built-in domain), installed as
``metarlm.grammar``."""
