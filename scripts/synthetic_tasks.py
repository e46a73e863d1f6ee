"""Gateway-authored off-topic task requests, the most common indirect payload (licence: the project's own).

An injected document often just asks the model to do something unrelated: answer a trivia
question, explain a concept, write a poem, translate a phrase, fix some code. The requests are
composed from generic forms and a wide, project-written vocabulary with a seeded RNG, so that
the indirect head learns the *form* (a self-contained request addressed to an assistant) rather
than particular questions.
"""

from __future__ import annotations

import random

__all__ = ["task_requests"]

_THINGS = [
    "Australia",
    "the Nile",
    "Mount Kilimanjaro",
    "the Eiffel Tower",
    "Mars",
    "the Amazon rainforest",
    "the Great Wall",
    "Iceland",
    "the Pacific Ocean",
    "Saturn",
    "the Sahara",
    "Venice",
    "Canada",
    "Egypt",
]
_ATTRS = ["capital", "population", "highest point", "official language", "area", "age", "climate", "currency"]
_WORKS = [
    "Pride and Prejudice",
    "the Odyssey",
    "Don Quixote",
    "Hamlet",
    "War and Peace",
    "the Divine Comedy",
    "Moby-Dick",
    "Frankenstein",
    "the Mona Lisa",
    "the Ninth Symphony",
    "One Hundred Years of Solitude",
]
_MECHANISMS = [
    "a refrigerator",
    "photosynthesis",
    "a jet engine",
    "the immune system",
    "blockchain",
    "a rainbow",
    "wifi",
    "a nuclear reactor",
    "compound interest",
    "an electric car battery",
    "GPS",
    "the stock market",
    "vaccination",
    "a search engine",
    "recycling",
    "earthquakes",
]
_CONCEPTS = [
    "recursion",
    "inflation",
    "natural selection",
    "supply and demand",
    "machine learning",
    "entropy",
    "the theory of relativity",
    "democracy",
    "object-oriented programming",
    "the greenhouse effect",
    "probability",
    "opportunity cost",
    "a linked list",
    "binary search",
]
_FORMS = ["poem", "haiku", "short story", "limerick", "song", "speech", "essay", "dialogue", "fable", "riddle"]
_TOPICS = [
    "friendship",
    "the sea",
    "autumn",
    "a lost key",
    "a brave mouse",
    "city lights",
    "the first day of school",
    "a rainy afternoon",
    "time travel",
    "kindness",
    "a robot chef",
    "the mountains",
    "winter mornings",
]
_PHRASES = ["good night", "where is the station", "I love books", "happy birthday", "see you tomorrow", "thank you"]
_LANGS = ["German", "Portuguese", "Korean", "Dutch", "Arabic", "Hindi", "Greek", "Turkish", "Polish"]
_CODE = [
    "reverse a linked list in C",
    "read a CSV file in Python",
    "sort a dictionary by value",
    "check if a number is prime",
    "merge two sorted arrays",
    "parse JSON in JavaScript",
    "center a div with CSS",
    "write a SQL query for the top five customers",
    "compute a factorial recursively",
]
_SHAPES = [
    "What is the {attr} of {thing}?",
    "Who wrote {work}?",
    "Who created {work}?",
    "How does {mech} work?",
    "Can you explain how {mech} works?",
    "Explain {concept} in simple terms.",
    "Explain {concept} with an example.",
    "Give me a summary of {work}.",
    "Summarize the plot of {work}.",
    "Write a {form} about {topic}.",
    "Compose a {form} about {topic}.",
    "Create a {form} on the theme of {topic}.",
    "How do you say '{phrase}' in {lang}?",
    "Translate '{phrase}' into {lang}.",
    "What does '{phrase}' mean in {lang}?",
    "Show me how to {code}.",
    "How can I {code}?",
    "List three facts about {thing}.",
    "Describe the history of {thing}.",
    "What are the main themes of {work}?",
    "Name five interesting facts about {mech}.",
    "Compare {concept} and {concept2}.",
    "Give me tips on {topic}.",
    "Tell me a joke about {topic}.",
]


def task_requests(seed: int = 23, n: int = 500) -> list[str]:
    """Return ``n`` distinct off-topic requests in a deterministic order."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        text = rng.choice(_SHAPES).format(
            attr=rng.choice(_ATTRS),
            thing=rng.choice(_THINGS),
            work=rng.choice(_WORKS),
            mech=rng.choice(_MECHANISMS),
            concept=rng.choice(_CONCEPTS),
            concept2=rng.choice(_CONCEPTS),
            form=rng.choice(_FORMS),
            topic=rng.choice(_TOPICS),
            phrase=rng.choice(_PHRASES),
            lang=rng.choice(_LANGS),
            code=rng.choice(_CODE),
        )
        out[text] = None
    return list(out)
