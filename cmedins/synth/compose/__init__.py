"""Write one visit: structured fields plus the free-text sections, with identifiers and events placed as pieces.

Phrasings are drawn from many alternatives per sentence slot (and slots are optional or reordered), so no section
comes from one template. EMR quirks are applied per piece: full-width digits, half-width punctuation, stray spaces.

One module per part of the record: `writer` (shared state and phrase helpers), `structured`, `complaint` (主诉,
现病史), `history`, `exam`, `discharge`; `composer` runs them in order. Phrase tables are in `vocab_phrases`.
"""

from cmedins.synth.compose.composer import Composer
from cmedins.synth.compose.writer import Draft, Visit, copy_section

__all__ = ["Composer", "Draft", "Visit", "copy_section"]
