"""The index behind ``ToolRegistry.search_tools``: substring search over the registered tools.

A search word matches a tool when it occurs (as a substring, after lowercasing) in the
tool's name, category, tags (joined by spaces) or description; a tool's score is the sum,
over the words (repeats included), of the weights of the fields the word occurs in (name 4,
category 2, tags 2, description 1). Tools matching every word are returned by score, high to
low, ties by name.

The index is one vocabulary over all four fields. Each token (a run of letters and digits:
``weather``, ``get``, ``forecast`` in ``weather_get-forecast``) maps each *field mask* (which
of the four fields of a tool hold the token) to the names of the tools with that mask, and
every substring of one to three characters of a token maps to the tokens holding it. A word
made of letters and digits occurs in a field exactly when it occurs in one of the field's
tokens: the tokens holding a word of up to three characters are listed under it, and those
holding a longer word are among the tokens holding all its three-character pieces (then
checked). So a word's matches come out already split into groups of equal score (one set
per field mask), and the words are combined by intersecting those groups: set operations
whose cost follows the smaller side, never a loop over the tools registered. A word with
other characters (``_``, ``-``, ``.``, a combining mark) is looked for by its letter-and-digit
parts, then checked in each candidate's text.

The index work and memory one tool brings are bounded, whatever its text: a tool whose four
lowercased fields together are longer than :data:`MOST_INDEXED_CHARS` characters, or hold a
token longer than :data:`LONGEST_INDEXED_TOKEN`, is not split into tokens and pieces (a spec
author controls a description's length; a single 2 MB token would otherwise add some six
million entries). Such a tool is kept aside and read by every search instead: each word is
looked for in its lowercased fields directly, so it is found and scored exactly like the
others, at the cost of a substring test over its text per search word.

There is no cache of answers: every search works from the index, which changes only when a
tool is added or removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from typing import Final, NamedTuple

from agentkit.tools._tool import Tool

__all__ = ["SearchIndex"]

#: How much a word found in each searched field of a tool counts, with the field's bit in a
#: field mask: name, category, tags, description.
FIELD_WEIGHTS: Final = ((1, 4), (2, 2), (4, 2), (8, 1))
#: The score a word earns in a tool from each field mask (the sum of the masked weights).
_MASK_SCORE: Final = tuple(
    sum(weight for bit, weight in FIELD_WEIGHTS if mask & bit) for mask in range(16)
)

_SEPARATORS: Final = re.compile(r"[\W_]+")

#: The most characters a tool's four lowercased fields may hold together for the tool to be
#: split into the index; a longer one is read by every search instead. Indexing a tool adds
#: at most about four entries per character (its tokens and their 1-3 character pieces).
MOST_INDEXED_CHARS: Final = 8_192
#: The longest token (run of letters and digits) a tool split into the index may hold; a tool
#: with a longer one is read by every search instead.
LONGEST_INDEXED_TOKEN: Final = 64

#: Names of tools, grouped by score: a list of (score, names), the name sets disjoint. A set
#: may be one of the index's own: read it, never change it.
_Groups = list[tuple[int, "set[str] | frozenset[str]"]]


class SearchIndex:
    """What ``search_tools`` needs, kept in step with the registry's tools by :meth:`add`
    and :meth:`remove`. See the module's docstring for how it works."""

    __slots__ = (
        "_grams",
        "_holders",
        "_joined",
        "_masked",
        "_masks",
        "_order",
        "_postings",
        "_texts",
        "_tools",
        "_unsplit",
    )

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        self._texts: dict[str, tuple[str, str, str, str]] = {}  # name -> lowercased fields
        self._joined: dict[str, str] = {}  # name -> the fields joined by newlines
        # token -> field mask -> names of the tools whose fields holding the token are those
        self._postings: dict[str, dict[int, set[str]]] = {}
        # token -> the names of every tool holding it (for a token with one field mask, the
        # very set in _postings) and the token's field mask (_MIXED: more than one)
        self._holders: dict[str, set[str]] = {}
        self._masks: dict[str, int] = {}
        # field mask (_MIXED too) -> the tokens with it
        self._masked: dict[int, set[str]] = {mask: set() for mask in range(16)}
        self._grams: dict[str, set[str]] = {}  # 1-3 character substring -> tokens with it
        self._order: list[str] | None = None  # the names sorted, kept until the next change
        # names of the tools not split into the index (too much text): every search reads them
        self._unsplit: set[str] = set()

    def __len__(self) -> int:
        return len(self._tools)

    def entries(self) -> int:
        """How many entries the index holds: (token, tool) pairs and (piece, token) pairs.
        Its memory follows this count; :meth:`add` adds at most about four per character of
        a tool's text (none for a tool kept aside)."""
        held = sum(len(names) for posting in self._postings.values() for names in posting.values())
        return held + sum(map(len, self._grams.values()))

    def add(self, tool: Tool) -> None:
        """Index *tool* (no tool of its name is indexed)."""
        name = tool.name
        texts = (
            name.lower(),
            tool.category.lower(),
            " ".join(tool.tags).lower(),
            tool.description.lower(),
        )
        self._tools[name] = tool
        self._order = None
        self._texts[name] = texts
        self._joined[name] = "\n".join(texts)
        if sum(map(len, texts)) > MOST_INDEXED_CHARS:
            self._unsplit.add(name)
            return
        token_masks = _token_masks(texts)
        if max(map(len, token_masks), default=0) > LONGEST_INDEXED_TOKEN:
            self._unsplit.add(name)
            return
        postings = self._postings
        holders = self._holders
        grams = self._grams
        for token, mask in token_masks.items():
            posting = postings.get(token)
            if posting is None:
                holders[token] = names = {name}
                postings[token] = {mask: names}
                self._masks[token] = mask
                self._masked[mask].add(token)
                for gram in _pieces(token):
                    tokens = grams.get(gram)
                    if tokens is None:
                        grams[gram] = {token}
                    else:
                        tokens.add(token)
                continue
            held = posting.get(mask)
            if held is not None:
                held.add(name)
                if len(posting) > 1:
                    holders[token].add(name)
                continue
            posting[mask] = {name}
            if len(posting) == 2:  # held in different fields by different tools from now on
                holders[token] = set().union(*posting.values())
                self._masked[self._masks[token]].discard(token)
                self._masked[_MIXED].add(token)
                self._masks[token] = _MIXED
            else:
                holders[token].add(name)

    def remove(self, name: str) -> None:
        """Forget the tool called *name* (indexed before)."""
        del self._tools[name]
        del self._joined[name]
        self._order = None
        if name in self._unsplit:
            self._unsplit.remove(name)
            del self._texts[name]
            return
        postings = self._postings
        holders = self._holders
        grams = self._grams
        for token, mask in _token_masks(self._texts.pop(name)).items():
            posting = postings[token]
            names = posting[mask]
            names.discard(name)
            if len(posting) > 1:
                holders[token].discard(name)
            if names:
                continue
            del posting[mask]
            if len(posting) == 1:  # the tools left hold it in the same fields
                ((left, names),) = posting.items()
                holders[token] = names
                self._masks[token] = left
                self._masked[_MIXED].discard(token)
                self._masked[left].add(token)
                continue
            if posting:
                continue
            del postings[token]
            del holders[token]
            self._masked[self._masks.pop(token)].discard(token)
            for gram in _pieces(token):
                tokens = grams[gram]
                tokens.discard(token)
                if not tokens:
                    del grams[gram]

    def search(self, words: list[str]) -> list[Tool]:
        """The tools matching every one of *words* (lowercased, none empty, at least one),
        best first: by score from high to low, then by name."""
        counted = Counter(words)
        found = self._found(counted)
        if self._unsplit:
            found.extend(self._read_aside(counted))
        by_score: dict[int, list[set[str] | frozenset[str]]] = {}
        for score, names in found:
            held = by_score.get(score)
            if held is None:
                by_score[score] = [names]
            else:
                held.append(names)
        tools = self._tools
        ordered: list[Tool] = []
        for score in sorted(by_score, reverse=True):
            sets = by_score[score]
            names = sets[0] if len(sets) == 1 else set().union(*sets)
            ordered.extend(map(tools.__getitem__, self._sorted(names)))
        return ordered

    def _found(self, counted: Counter[str]) -> _Groups:
        """The tools split into the index that match every one of the *counted* words, by
        score."""
        plans: list[_Plan] = []
        for word, repeats in counted.items():
            plan = self._plan(word, repeats)
            if plan is None:
                return []
            plans.append(plan)
        # Start from the word found in the fewest tools: each further word only narrows it.
        plans.sort(key=_reach)
        first = plans[0]
        if first.tokens is None:
            found = self._checked([(0, first.candidates)], first)
        else:
            found = self._token_groups(first.tokens, first.repeats)
        for plan in plans[1:]:
            size = sum(len(names) for _, names in found)
            tokens = plan.tokens
            if tokens is None or (
                len(tokens) > 1 and plan.reach + len(tokens) > _CHECK_COST * size
            ):
                # Reading the few tools found so far costs less than gathering the word's.
                found = self._checked(found, plan)
            else:
                groups = self._token_groups(tokens, plan.repeats)
                if len(groups) == 1 and len(groups[0][1]) == len(self._tools) - len(self._unsplit):
                    # Every tool holds the word in the same fields (``the``, ``item``).
                    more = groups[0][0]
                    found = [(score + more, names) for score, names in found]
                    continue
                narrowed: _Groups = []
                for score, names in found:
                    for more, others in groups:
                        both = names & others  # costs the smaller set
                        if both:
                            narrowed.append((score + more, both))
                found = narrowed
            if not found:
                return []
        return found

    def _read_aside(self, counted: Counter[str]) -> _Groups:
        """The tools kept out of the index that match every one of the *counted* words, by
        score: each word is looked for in their texts."""
        found: _Groups = [(0, self._unsplit)]
        for word, repeats in counted.items():
            found = self._checked(found, _Plan(word, repeats, 0, None, _NOTHING))
            if not found:
                break
        return found

    def _plan(self, word: str, repeats: int) -> _Plan | None:
        """How to find *word*, or None when no tool can hold it."""
        holders = self._holders
        parts = _SEPARATORS.split(word)
        if len(parts) == 1:  # letters and digits only: found through the tokens
            tokens = self._tokens_with(word)
            if not tokens:
                return None
            return _Plan(word, repeats, _reach_of(holders, tokens), tokens, _NOTHING)
        # Any tool holding the word holds each part in a token: the tools holding the rarest
        # part are the candidates, whose texts are then read.
        reach = len(self._tools)  # a word of separators only: any tool may hold it
        rarest: set[str] | frozenset[str] = _NOTHING
        exact: list[set[str]] = []  # the holders of the parts that are in one token only
        for part in parts:
            if part:
                tokens = self._tokens_with(part)
                if not tokens:
                    return None
                part_reach = _reach_of(holders, tokens)
                if part_reach < reach or not rarest:
                    reach, rarest = part_reach, tokens
                if len(tokens) == 1:
                    exact.extend(map(holders.__getitem__, tokens))
        candidates: set[str] | frozenset[str] | Iterable[str]
        if rarest:
            candidates = set().union(*map(holders.__getitem__, rarest))
            if exact:
                candidates = candidates.intersection(*exact)
                reach = len(candidates)
        elif self._unsplit:  # the tools kept aside are read apart
            candidates = self._tools.keys() - self._unsplit
        else:
            candidates = self._tools
        return _Plan(word, repeats, reach, None, candidates)

    def _checked(self, found: Iterable[tuple[int, Iterable[str]]], plan: _Plan) -> _Groups:
        """The tools of *found* whose text holds the plan's word, by their new scores."""
        word = plan.word
        repeats = plan.repeats
        joined = self._joined
        texts = self._texts
        by_score: dict[int, set[str]] = {}
        for score, names in found:
            for name in names:
                if word in joined[name]:
                    name_text, category, tags, description = texts[name]
                    mask = (
                        (word in name_text)
                        | (word in category) << 1
                        | (word in tags) << 2
                        | (word in description) << 3
                    )
                    total = score + _MASK_SCORE[mask] * repeats
                    held = by_score.get(total)
                    if held is None:
                        by_score[total] = {name}
                    else:
                        held.add(name)
        return list(by_score.items())

    def _sorted(self, names: set[str] | frozenset[str]) -> list[str]:
        """*names* (indexed ones) sorted: picked from all the names in order when they are
        most of them, which is cheaper than sorting them."""
        if 2 * len(names) <= len(self._tools):
            return sorted(names)
        order = self._order
        if order is None:
            self._order = order = sorted(self._tools)
        return [name for name in order if name in names]

    def _tokens_with(self, part: str) -> set[str] | frozenset[str]:
        """The indexed tokens containing *part* (letters and digits, not empty). The answer
        may be the index's own set: read it, never change it."""
        grams = self._grams
        if len(part) <= 3:
            return grams.get(part, _NOTHING)
        postings: list[set[str]] = []
        for piece in {part[at : at + 3] for at in range(len(part) - 2)}:
            tokens = grams.get(piece)
            if tokens is None:
                return _NOTHING
            postings.append(tokens)
        postings.sort(key=len)
        return {token for token in postings[0].intersection(*postings[1:]) if part in token}

    def _token_groups(self, tokens: set[str] | frozenset[str], repeats: int) -> _Groups:
        """The tools holding any of *tokens* (at least one), by the score of the fields
        holding them (times *repeats*)."""
        postings = self._postings
        if len(tokens) == 1:
            (token,) = tokens
            return [(_MASK_SCORE[mask] * repeats, names) for mask, names in postings[token].items()]
        mask = self._masks[next(iter(tokens))]
        if mask != _MIXED and tokens <= self._masked[mask]:
            # Every tool holding them holds them in the same fields.
            holders = set().union(*map(self._holders.__getitem__, tokens))
            return [(_MASK_SCORE[mask] * repeats, holders)]
        # A tool may hold one token in its name and another in its description: its mask for
        # the word is the union. Split the holders by each field in turn.
        held_by = self._holders
        in_fields: dict[int, list[set[str]]] = {bit: [] for bit, _ in FIELD_WEIGHTS}
        for mask, masked in self._masked.items():
            some = tokens & masked  # costs the smaller side: most masks have few tokens
            if not some:
                continue
            if mask == _MIXED:
                held = [item for token in some for item in postings[token].items()]
            else:
                held = [(mask, set().union(*map(held_by.__getitem__, some)))]
            for each, names in held:
                for bit, sets in in_fields.items():
                    if each & bit:
                        sets.append(names)
        groups: dict[int, set[str]] = {0: set().union(*map(held_by.__getitem__, tokens))}
        for bit, sets in in_fields.items():
            if not sets:
                continue
            in_field = set().union(*sets)
            split: dict[int, set[str]] = {}
            for mask, names in groups.items():
                inside = names & in_field
                if inside:
                    split[mask | bit] = inside
                    if len(inside) < len(names):
                        split[mask] = names - inside
                else:
                    split[mask] = names
            groups = split
        return [(_MASK_SCORE[mask] * repeats, names) for mask, names in groups.items()]


_NOTHING: Final[frozenset[str]] = frozenset()
#: Reading one tool's text for a word costs about this many set operations: a word found in
#: more tools than this many times the tools found so far is read in those tools instead.
_CHECK_COST: Final = 8
#: Tokens whose holders are counted to estimate how many tools hold a word; past them, the
#: count is extrapolated.
_COUNTED_TOKENS: Final = 32


class _Plan(NamedTuple):
    """How to find one search word: in the tokens, or by reading candidates' texts."""

    word: str
    repeats: int
    reach: int  # about how many (tool, token) pairs hold the word
    tokens: set[str] | frozenset[str] | None  # the tokens holding it; None: read the texts
    candidates: Iterable[str]  # with tokens None: the tools that may hold it


def _reach(plan: _Plan) -> int:
    return plan.reach


def _reach_of(holders: dict[str, set[str]], tokens: set[str] | frozenset[str]) -> int:
    """About how many tools hold *tokens*, counted (with repeats) without walking them all."""
    if len(tokens) <= _COUNTED_TOKENS:
        return sum(map(len, map(holders.__getitem__, tokens)))
    counted = sum(map(len, map(holders.__getitem__, islice(tokens, _COUNTED_TOKENS))))
    return counted * len(tokens) // _COUNTED_TOKENS


#: The field mask of a token that different tools hold in different fields.
_MIXED: Final = 0


def _token_masks(texts: tuple[str, str, str, str]) -> dict[str, int]:
    """Each token of the four field texts, with the mask of the fields holding it."""
    masks: dict[str, int] = {}
    for (bit, _), text in zip(FIELD_WEIGHTS, texts, strict=True):
        for token in _SEPARATORS.split(text):
            if token:
                masks[token] = masks.get(token, 0) | bit
    return masks


def _pieces(token: str) -> set[str]:
    """Every substring of *token* one to three characters long."""
    size = len(token)
    return {token[at : at + width] for width in (1, 2, 3) for at in range(size - width + 1)}
