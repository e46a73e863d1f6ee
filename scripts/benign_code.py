"""Gateway-authored programming answers in the second person (indirect training negatives).

Written for this project (licence: the project's own); no sentence is copied from any Q&A site.
An answer on a programming forum talks to the asker ("you deleted the class", "if you declare a
variable named list", "you're trying to compute the max of a module"), which is the grammar of
an injected instruction too. ``synthetic_injection.code_answers`` covers the common shapes; these
add what it lacks: diagnoses of what *you* did, quoted documentation, conditionals about what
happens if you do something, and advice with words such as remove, delete, send, return, never,
print and ignore used in their programming sense. Composed with a seeded RNG.
"""

from __future__ import annotations

import random

__all__ = ["second_person_answers"]

_DIAGNOSIS = [
    "The error happens because you close the {thing} before you finish {verb_ing} it.",
    "You're calling {func} with the arguments in the wrong order; the {type} comes first.",
    "As the traceback shows, the problem is in the line where you build the {type}.",
    "{func} does not change its argument; you have to keep what it returns.",
    "If you drop the {thing}, you will hit a different error, because {name} is still None there.",
    "Because you named your file the same as the module, Python imports your file instead.",
    "Your loop never ends because you reset the counter inside it.",
    "You are comparing a string with an integer, which is always False in Python 3.",
    "Catching every exception and doing nothing is a bad habit: it hides real bugs in your code.",
    "You should never modify a list while you iterate over it; iterate over a copy instead.",
    "Print the shape of {name} right before the call and you will see the mismatch.",
    "When you call {func} on an empty {type}, it raises instead of returning None.",
    "Ignore the deprecation warning for now; it does not affect the result.",
    "Your regular expression is greedy, so it eats everything up to the last quote.",
    "You forgot to await the coroutine, so you get a coroutine object instead of the result.",
    "If you want the old behaviour back, pin the package to the previous major version.",
    "Assign the result to a new variable, then print that variable instead.",
    "Remove the trailing comma, otherwise {name} becomes a one-element tuple.",
    "You need to move the import inside the function to break the circular dependency.",
    "Delete the cached files and run the tests again; you are loading a stale build.",
    "Rather than hard-coding the path, you should read it from a config file.",
    "Your {type} has {n} columns but you are indexing column {n2}, which does not exist.",
    "Return early when the input is empty; the rest of your function assumes at least one item.",
    "In your second snippet you overwrite {name} in every iteration, so only the last value survives.",
    "Make sure you close the connection in a finally block, or use a context manager.",
    "To answer your follow-up question: yes, the same fix works for the {func} variant.",
    "You send the request before you set the headers, so the server never sees your token.",
    "Quoting the manual: the default encoding depends on the platform, so pass it explicitly.",
    "If you run it twice you get duplicates, because you append instead of replacing.",
    "You can't reuse the iterator after you have consumed it once; build a list if you need two passes.",
]
_CODE = [
    "```\nresult = {func}(data)\nprint(result)\n```",
    "```\ntry:\n    value = int(text)\nexcept ValueError:\n    value = 0\n```",
    "```\nfor item in items[:]:\n    if item.expired:\n        items.remove(item)\n```",
    "```\nasync def main():\n    data = await fetch(url)\n    return data\n```",
    "```\nwith open(path, encoding='utf-8') as fh:\n    rows = fh.read().splitlines()\n```",
    "```\nheaders = {{'Authorization': f'Bearer {{token}}'}}\nr = session.get(url, headers=headers)\n```",
]
_FILL = {
    "thing": ["file", "temporary directory", "cursor", "session", "socket"],
    "verb_ing": ["reading", "querying", "writing", "parsing", "using"],
    "name": ["result", "config", "row", "payload", "buffer", "total"],
    "func": ["sorted()", "str.replace()", "df.drop()", "np.append()", "dict.update()", "json.loads()"],
    "type": ["dataframe", "list", "matrix", "generator", "array", "queue"],
    "n": ["3", "4", "5"],
    "n2": ["5", "6", "7"],
}


def second_person_answers(seed: int = 31, n: int = 300) -> list[str]:
    """Return ``n`` distinct answers of two to five sentences, some with a code block."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        parts = [
            rng.choice(_CODE if rng.random() < 0.25 else _DIAGNOSIS).format(
                **{k: rng.choice(v) for k, v in _FILL.items()}
            )
            for _ in range(rng.randrange(2, 6))
        ]
        out["\n".join(parts) if rng.random() < 0.5 else " ".join(parts)] = None
    return list(out)
