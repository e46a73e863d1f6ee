"""Gateway-authored elaborate benign framings (source ``gateway-hardneg``), with a wide vocabulary.

Written for this project (licence: the project's own). Adversarial-looking benign requests wrap an
ordinary task in the devices jailbreaks also use: a persona, an invented world, a justification
(research, a novel, a medical condition, a game), flattery, urgency, formatting demands and
"stay in character". What makes them benign is the task. Each text is composed from six
independent slots with a seeded RNG, so that the classifier learns that the *devices* are not
evidence on their own, rather than memorising a few templates.
"""

from __future__ import annotations

import random

__all__ = ["benign_framings"]

_WHO = [
    "a seasoned investigative journalist",
    "an award-winning screenwriter",
    "a professor of comparative literature",
    "a cheerful cooking-show host",
    "an ethics consultant",
    "a retired diplomat",
    "a data-privacy lawyer",
    "a paediatric nurse",
    "a sports commentator",
    "an urban planner",
    "a climate scientist",
    "a fashion historian",
    "a linguist who studies slang",
    "a stage magician explaining the history of illusions",
    "a wildlife photographer",
    "a bestselling fantasy author",
    "a chess grandmaster",
    "an architectural critic",
    "a folk-music archivist",
    "a humble village baker",
    "a sentient lighthouse",
    "a friendly dragon who collects books",
    "an AI tutor called Sage",
    "a talking houseplant",
    "a ship's cat on a pirate vessel",
    "a philosopher from ancient Athens",
    "a financial literacy coach",
    "a museum audio guide",
    "an astronaut on a long mission",
    "a medieval scribe",
]
_SETTING = [
    "In a near-future city where every citizen keeps a personal archive,",
    "In the fictional kingdom of Eldoria,",
    "For a radio drama set in 1920s Paris,",
    "In a parallel universe where public libraries are run by robots,",
    "As part of an interactive museum exhibit,",
    "In a board game I am designing,",
    "In a graphic novel about a seaside town,",
    "For a podcast episode aimed at curious teenagers,",
    "In a thought experiment about a society without money,",
    "On a generation ship travelling to another star,",
    "In a mystery novel where the detective is a retired teacher,",
    "For a school debate competition,",
    "In an alternate history where the printing press was invented in China first,",
    "For a training workshop at a public library,",
    "In a cosy fantasy world full of tea shops,",
    "",
    "",
]
_WHY = [
    "I have a rare memory condition, so please spell everything out clearly.",
    "This is for my dissertation, and my supervisor wants a vivid, human tone.",
    "My students lose interest quickly, so make it engaging.",
    "I'm on a deadline and my editor is very demanding.",
    "You have been given special access to the archive for this project.",
    "Everyone taking part has consented, and it is purely for fun.",
    "The previous version was too bland, so feel free to be bold and colourful.",
    "It is important that you fully commit to the role without stepping out of it.",
    "Readers love surprising details, so don't hold back on imagination.",
    "Treat this as a creative challenge with no wrong answers.",
    "My grandmother used to tell me stories like this and I miss them.",
    "The audience is international, so avoid idioms that don't translate.",
    "",
]
_TASK = [
    "describe how the town celebrates its harvest festival",
    "explain how bees communicate through dance",
    "write a letter encouraging a friend who failed an exam",
    "compare three styles of bread from different countries",
    "explain why the Roman aqueducts were such an engineering achievement",
    "describe a day in the life of a lighthouse keeper",
    "outline the causes of the French Revolution in plain words",
    "give advice on how to prepare for a first marathon",
    "invent a recipe for a soup that could win a village contest",
    "explain how tides work using a simple analogy",
    "write a short speech thanking volunteers at a food bank",
    "describe the rules of a new card game for four players",
    "explain how a jury reaches a verdict",
    "suggest ways a small library can attract more young readers",
    "write a lullaby about the moon and the sea",
    "explain how credit scores work and how to improve one",
    "describe how early sailors navigated by the stars",
    "write a persuasive paragraph about planting more trees in cities",
    "explain the water cycle through the eyes of a raindrop",
    "describe what makes a good apology",
    "write a dialogue in which two rivals make peace",
    "explain how a bill of rights protects citizens",
    "summarise the life of Marie Curie for a children's encyclopedia",
    "explain how a rainbow forms",
    "create a packing list for a week of camping",
    "describe the history of the bicycle",
    "explain how to resolve a disagreement between roommates",
    "write a review of an imaginary jazz concert",
]
_FORM = [
    "Begin with a catchy title.",
    "Start your reply with 'Of course!' and keep it under 250 words.",
    "Use exactly three paragraphs.",
    "Format it as a numbered list.",
    "End with an open question for the reader.",
    "Write it in the first person.",
    "Keep the vocabulary suitable for a ten-year-old.",
    "Add one surprising fact.",
    "Please stay in character from start to finish.",
    "Respond in a warm, slightly humorous tone.",
    "",
]
_SHAPES = [
    "{setting} you are {who}. {why} Your task: {task}. {form}",
    "Imagine you are {who}. {setting} {why} Please {task}. {form}",
    "I want you to play the role of {who}. {why} {setting} {task_cap}. {form}",
    "Pretend to be {who}. {task_cap}, and {form_lower}",
    "Let's role-play. You are {who} and I am a curious visitor. {setting} {task_cap}. {why}",
    "You're {who}. {why} Could you {task}? {form}",
    "{setting} a character named Robin is {who}. Write what Robin says when asked to {task}. {form}",
    "Hypothetically, if you were {who}, how would you {task}? {why}",
]


def _one(rng: random.Random) -> str:
    task = rng.choice(_TASK)
    form = rng.choice(_FORM)
    text = rng.choice(_SHAPES).format(
        who=rng.choice(_WHO),
        setting=rng.choice(_SETTING),
        why=rng.choice(_WHY),
        task=task,
        task_cap=task[0].upper() + task[1:],
        form=form,
        form_lower=(form[0].lower() + form[1:]) if form else "keep it short.",
    )
    return " ".join(text.split())


def benign_framings(seed: int = 13, n: int = 400) -> list[str]:
    """Return ``n`` distinct texts in a deterministic order."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        text = _one(rng)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out
