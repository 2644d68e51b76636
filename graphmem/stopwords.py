"""The English stopword list shared by keyword search and query analysis."""

from __future__ import annotations

# Words that carry no topic: they would make every document match a keyword query
# and never make a name on their own. A word list reads best as text.
ENGLISH_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don didn doesn isn wasn aren weren won ll ve re d m o y""".split()  # noqa: SIM905
)
