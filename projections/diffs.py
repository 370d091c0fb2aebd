"""Word diffs between two versions of a text, for the edit histories, in bounded time.

The thread view computes each version's diff once, when the edit is applied, and stores it. Diffing is
diff-match-patch's Myers algorithm over words (each distinct word or run of spaces stands for one
character), cut off by a deadline: repetitive text can make a diff arbitrarily slow, and an edit must
not stall the views. Past the token cap or the deadline the version is shown as rewritten: its shared
beginning and end kept, the rest removed and added whole.
"""

from __future__ import annotations

import re
import time

from diff_match_patch import diff_match_patch

SAME, REMOVED, ADDED = "same", "removed", "added"
# Words and runs of whitespace, on both sides together, left to compare once the shared start and end are set aside.
MAX_TOKENS = 12_000
# CPU a single diff may take; a normal edit takes a few milliseconds.
SECONDS = 0.25

Change = tuple[str, str]


def word_changes(old: str, new: str, *, max_tokens: int = MAX_TOKENS, seconds: float = SECONDS) -> list[Change]:
    """A word-level diff as (kind, text) pieces, kind one of same, removed, added; templates escape the text."""
    before, after = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    start = _shared_start(before, after)
    end = _shared_start(before[start:][::-1], after[start:][::-1])
    middle_before, middle_after = before[start:len(before) - end], after[start:len(after) - end]
    head, tail = "".join(before[:start]), "".join(before[len(before) - end:])
    middle = None
    if len(middle_before) + len(middle_after) <= max_tokens:
        middle = _diff(middle_before, middle_after, seconds)
    if middle is None:
        middle = [(REMOVED, "".join(middle_before)), (ADDED, "".join(middle_after))]
    pieces = [(SAME, head), *middle, (SAME, tail)]
    return [(kind, text) for kind, text in pieces if text]


def _shared_start(a: list[str], b: list[str]) -> int:
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


def _diff(before: list[str], after: list[str], seconds: float) -> list[Change] | None:
    """The pieces between the shared start and end, or None when the deadline passed first."""
    codes: dict[str, str] = {}
    tokens: list[str] = []

    def encode(words: list[str]) -> str:
        for word in words:
            if word not in codes:
                codes[word] = chr(len(tokens))
                tokens.append(word)
        return "".join(codes[word] for word in words)

    text1, text2 = encode(before), encode(after)
    differ = diff_match_patch()
    deadline = time.time() + seconds
    diffs = differ.diff_main(text1, text2, checklines=False, deadline=deadline)
    # Past the deadline diff-match-patch gives up on the rest and answers a coarse diff; call it rewritten.
    if time.time() > deadline:
        return None
    differ.diff_cleanupSemantic(diffs)
    kinds = {differ.DIFF_EQUAL: SAME, differ.DIFF_DELETE: REMOVED, differ.DIFF_INSERT: ADDED}
    return [(kinds[op], "".join(tokens[ord(code)] for code in data)) for op, data in diffs]

