"""Gateway-authored ordinary documents (indirect training negatives): what a RAG pipeline retrieves.

Written for this project (licence: the project's own). The dev data holds few benign documents
(BIPIA e-mails, code answers), so the indirect head read lines addressed to *you* ("what you will
do", "you must", "bring your badge") as requests to the model; ordinary documents are full of
them. Kinds: job postings, product pages, second-person marketing copy, policies, onboarding
guides, HR e-mails, syllabi, API docs, recipes, travel guides, minutes, forum threads,
newsletters, manuals. Each kind has titles, genre lines with slots and closings; a seeded RNG
picks one filling per document, a title, four to seven lines and a layout (lines, bullets,
numbers or one paragraph). Statements and instructions only: a question line is also the shape
of many injected payloads (BIPIA's), and questions in documents are covered by the dev e-mails.
Nothing is copied from ``tests/unit/guards/injection/test_injection_documents*.py`` (the check).
"""

from __future__ import annotations

import random
from typing import NamedTuple

__all__ = ["ordinary_documents"]


class _Kind(NamedTuple):
    titles: tuple[str, ...]
    lines: tuple[str, ...]
    closings: tuple[str, ...]


_KINDS: tuple[_Kind, ...] = (
    _Kind(  # job postings
        ("Job opening: {role}", "We're hiring: {role} ({city})", "{role} - full time, {city}", "Careers at {company}"),
        (
            "About the role: you will work with a small team on {product_area}.",
            "What you'll be doing: planning releases, talking to customers and improving {product_area}.",
            "Your responsibilities include {duty}, {duty2} and mentoring junior colleagues.",
            "You'll report to the head of {dept}.",
            "What we look for: {years}+ years of experience in {skill} and clear written communication.",
            "You are curious, you like solving problems, and you take ownership of your work.",
            "You have shipped {product_area} to real users and you care about quality.",
            "Bonus points if you know {skill2}.",
            "You enjoy working in a team and you give and take feedback well.",
            "What we offer: {perk}, {perk2} and a yearly learning budget.",
            "The salary range for this position is {salary} per year.",
            "This is a {mode} role; the team meets in {city} once a month.",
            "Our interview process: a call with the recruiter, a take-home task, and a final interview.",
            "We welcome applicants of every background.",
        ),
        (
            "Apply by sending your CV to careers@{domain}.",
            "To apply, fill in the form on our careers page.",
            "Applications close on {date}.",
        ),
    ),
    _Kind(  # product pages
        ("{product}", "{product} - product details", "Introducing the {product}", "Shop: {product}"),
        (
            "Made from {material}, it is built to last for years.",
            "Dimensions: {n} x {n2} cm, weight {n3} g.",
            "Charge it once and use it for up to {n} hours.",
            "Choose from {n3} colours to match your style.",
            "Simply plug it in, press the button, and you are ready to go.",
            "Compatible with all major phones and laptops.",
            "Machine washable at 30 degrees.",
            "Customers say it is the best purchase they made this year.",
            "Keep it away from direct heat and do not submerge it in water.",
            "Free delivery on orders over {price}.",
            "In stock: ships within {n} working days.",
            "Price: {price}, including VAT.",
        ),
        ("Add to cart to get it by {date}.", "Our team is happy to help with this product.", ""),
    ),
    _Kind(  # marketing copy in the second person
        (
            "You deserve {benefit}",
            "Say hello to {product}",
            "This {season}, treat yourself",
            "Your new favourite {thing}",
        ),
        (
            "You will love how easy it is to {task}.",
            "You are going to wonder how you ever managed without it.",
            "Give yourself the gift of {benefit}.",
            "Take the stress out of {task} and spend more time on what matters to you.",
            "Join {n}0,000 happy customers who have already made the switch.",
            "Try it free for {n} days; cancel anytime.",
            "Discover a smarter way to {task}.",
            "Don't wait: the offer ends on {date}.",
            "Use the code {code} at checkout for {n}0% off.",
            "Make every {season} morning feel special.",
            "You enjoy your day, we help you {task}.",
            "See for yourself why everyone is talking about it.",
        ),
        ("Shop now.", "Order yours today.", "Sign up in under a minute.", ""),
    ),
    _Kind(  # company policies and terms
        ("{policy} policy", "Policy: {policy}", "Terms and conditions", "Code of conduct", "Acceptable use policy"),
        (
            "This policy applies to all employees, contractors and interns.",
            "Employees must {rule} and keep a record of it.",
            "You must not share your login details with anyone, including colleagues.",
            "Managers are responsible for making sure their team follows this policy.",
            "Requests must be submitted at least {n} working days in advance.",
            "Any breach of this policy may lead to disciplinary action.",
            "You may {allowed} as long as it does not affect your work.",
            "We reserve the right to update these terms; changes take effect on {date}.",
            "Personal data is stored for no longer than {n} years.",
            "You agree not to use the service for anything unlawful.",
            "If you have a question about this policy, speak to your manager or to {dept}.",
            "Exceptions need written approval from the head of {dept}.",
            "The policy is reviewed once a year.",
        ),
        ("Last updated: {date}.", "Owner: {dept}.", ""),
    ),
    _Kind(  # onboarding guides
        ("Onboarding: your first month", "New starter guide", "Welcome to {company}!", "Your first day at {company}"),
        (
            "Before you start, you will receive an e-mail with your accounts and a link to the handbook.",
            "On your first day, come to reception at {time} and ask for {person}.",
            "Your manager will set up a weekly one-to-one with you.",
            "Read the handbook and the security guidelines in your first week.",
            "Install the password manager and store all work passwords in it.",
            "Join the #{channel} channel to meet the rest of the team.",
            "Book a coffee with someone from {dept} to learn how they work.",
            "By the end of the month you should have shipped your first small change.",
            "Don't hesitate to ask for help: everyone was new once.",
            "Your buddy, {person}, can answer the questions you don't want to ask your manager.",
            "Fill in your profile on the intranet and add a photo.",
            "Complete the mandatory trainings before {date}.",
        ),
        ("We are glad to have you with us.", "Enjoy your first weeks!", ""),
    ),
    _Kind(  # HR and office e-mails
        ("Subject: {hr_topic}", "From: hr@{domain}\nSubject: {hr_topic}", "Subject: Update on {hr_topic}"),
        (
            "Dear {person},",
            "Hi team,",
            "We are writing to let you know that {hr_topic} opens on {date}.",
            "Please log in to the HR portal and check that your details are correct.",
            "You will find the new forms attached to this message.",
            "If you want to change your choice, you can do so until {date}.",
            "Your manager has already approved your request.",
            "Please complete the short survey; it takes about {n} minutes.",
            "As a reminder, the office is closed on {date}.",
            "Reply to this e-mail if anything is unclear.",
            "We will confirm your booking by e-mail within {n} days.",
            "Thank you for your patience while we update the system.",
        ),
        ("Kind regards, {person} ({dept})", "Best wishes, the {dept} team", "Thanks, {person}"),
    ),
    _Kind(  # course syllabi
        ("Syllabus: {course}", "{course} - course information", "Module handbook: {course}"),
        (
            "Instructor: Dr. {surname}. Office hours by appointment.",
            "By the end of this course you will be able to {outcome}.",
            "Lectures take place on {weekday}s at {time} in room {room}.",
            "Attendance is expected; let the instructor know if you miss a session.",
            "Assignments are submitted through the course website.",
            "Week {n}: {topic}. Week {n2}: {topic2}.",
            "Grading: coursework {n}0%, final exam {n2}0%.",
            "Read the assigned chapter before each seminar and bring one question.",
            "Plagiarism is taken seriously; cite every source you use.",
            "Students who need accommodations should contact the disability office.",
            "Required reading: the course reader, available from the library.",
        ),
        ("The schedule may change; check the course page weekly.", ""),
    ),
    _Kind(  # API and developer docs
        ("API reference: {endpoint}", "{endpoint}", "Developer guide: {feature}", "SDK docs: {feature}"),
        (
            "Use this endpoint to {api_task}.",
            "All requests must include an Authorization header with a bearer token.",
            "Pass the page parameter to fetch the next set of results.",
            "The response is a JSON object with the fields id, status and created_at.",
            "Returns 400 if a required field is missing.",
            "Rate limit: {n}00 requests per minute per key.",
            "Set the timeout to at least {n}0 seconds for large exports.",
            "Call client.{method}() and pass the id of the {resource}.",
            "The call is idempotent: sending the same request twice has the same effect as once.",
            "Deprecated: use {endpoint} instead; this field will be removed in v{n}.",
            "Example: client.{method}(id='abc123', limit={n}0)",
            "You can filter by status, for example status=active.",
        ),
        ("See also: the changelog and the authentication guide.", ""),
    ),
    _Kind(  # recipes
        ("{dish}", "Recipe: {dish}", "{dish} (serves {n})", "Easy weeknight {dish}"),
        (
            "Ingredients: {ingredient}, {ingredient2}, salt, pepper and a little olive oil.",
            "Heat the oil in a large pan over medium heat.",
            "Add the {ingredient} and cook for {n} minutes, stirring now and then.",
            "Season to taste and finish with fresh herbs.",
            "Let it rest for {n} minutes before serving.",
            "Preheat the oven to {n}80 C and line a tray with baking paper.",
            "Whisk together the {ingredient2} and a pinch of salt.",
            "Keep leftovers in the fridge for up to {n} days.",
            "Tip: you can swap the {ingredient} for {ingredient2}.",
            "Serve warm with a green salad.",
            "Prep time {n}0 minutes, cooking time {n2}0 minutes.",
        ),
        ("Enjoy!", ""),
    ),
    _Kind(  # travel guides
        ("{place} travel guide", "A weekend in {place}", "{place}: what to see", "Getting around {place}"),
        (
            "The best time to visit is between {month} and {month2}.",
            "Take the train from the airport to the city centre; it runs every {n}0 minutes.",
            "Buy a day pass if you plan to use the buses more than twice.",
            "Don't miss the old town, especially early in the morning.",
            "Book museum tickets online to skip the queue.",
            "Try the local {dish} at one of the small family restaurants.",
            "Carry some cash: smaller shops don't always take cards.",
            "Pack comfortable shoes; the streets are steep and cobbled.",
            "For a quieter evening, walk along the river at sunset.",
            "The hike to the viewpoint takes about {n} hours return.",
            "Tipping is not expected, but rounding up is appreciated.",
        ),
        ("Have a great trip!", ""),
    ),
    _Kind(  # meeting minutes
        ("Minutes: {meeting}", "{meeting} - notes", "Meeting notes, {date}"),
        (
            "Present: {person}, {person2}, {surname} (chair).",
            "Apologies: {person2}.",
            "The minutes of the last meeting were approved.",
            "{person} gave an update on the {project}: on schedule.",
            "Action: {person2} to circulate the draft budget by {date}.",
            "It was agreed to postpone the decision on {project} until more data is available.",
            "Any other business: none.",
            "{person} will contact the supplier and report back.",
            "The group discussed the survey results; attendance is up {n}0%.",
            "Vote on the proposal: carried, {n} in favour, {n2} against.",
        ),
        ("Next meeting: {date} at {time}.", "The meeting closed at {time}."),
    ),
    _Kind(  # forum threads
        ("Forum: {forum_q}", "Thread: {forum_q}", "[{forum}] {forum_q}"),
        (
            "posted by {user}: Title says it all. I have tried everything I can think of.",
            "reply by {user2}: Same thing happened to me. Try to {fix} first.",
            "reply by {user}: Thanks, that helped a bit, but not completely.",
            "reply by {user2}: You could also {fix}; it worked for my neighbour.",
            "reply by {user3}: Make sure you {fix} before anything else.",
            "reply by {user3}: Don't buy a new one yet, it is usually something simple.",
            "reply by {user}: Update: fixed it! It was the {part}.",
            "reply by {user2}: Glad you sorted it. Mark the thread as solved.",
        ),
        ("",),
    ),
    _Kind(  # newsletters and announcements
        ("{company} newsletter - {month}", "News from {company}", "Announcement: {announcement}"),
        (
            "This month we are excited to share {announcement}.",
            "Thanks to everyone who came to the open day; we counted {n}00 visitors.",
            "Save the date: the summer party is on {date}.",
            "Meet our new colleague {person}, who joins the {dept} team.",
            "Read the full story on our blog.",
            "We have listened to your feedback and made search faster.",
            "Volunteers are needed for the charity run; sign up at reception.",
        ),
        ("See you next month!", "Until next time, the {company} team", ""),
    ),
    _Kind(  # manuals and safety instructions
        ("User manual: {product}", "Safety instructions", "Quick start guide: {product}", "Care instructions"),
        (
            "Read all instructions before using the appliance for the first time.",
            "Unpack the device and remove all protective film.",
            "Connect the power cable and wait until the light turns green.",
            "Press and hold the power button for {n} seconds to reset the device.",
            "Do not use the device near water or in the bath.",
            "Clean the filter every {n} weeks with warm water.",
            "Keep small parts away from children under {n} years.",
            "If the display shows error E{n}, switch the device off and on again.",
            "Never open the housing; there are no user-serviceable parts inside.",
            "Dispose of batteries at a collection point, not with household waste.",
        ),
        ("Keep this manual for future reference.", ""),
    ),
)


def _v(values: str) -> tuple[str, ...]:
    return tuple(values.split("|"))


# slot values, "|"-separated (one filling per document)
_FILL: dict[str, tuple[str, ...]] = {
    "role": _v(
        "Frontend developer|Customer success manager|Payroll specialist|Nurse (night shifts)|"
        "Site reliability engineer|Marketing coordinator|Bakery assistant|Data engineer"
    ),
    "company": _v("Lumen Labs|Northfield Health|Bricks & Co|Orbit Travel|Greenleaf Foods|Atlas Insurance"),
    "domain": _v("lumenlabs.example|northfield.example|orbit.example|greenleaf.example"),
    "city": _v("Leeds|Lyon|Porto|Gdansk|Austin|Utrecht|Remote (EU)"),
    "product_area": _v("our mobile app|the booking system|internal tools|the payments platform|our data pipeline"),
    "duty": _v("writing technical specs|running the on-call rota|onboarding new clients|keeping the backlog tidy"),
    "duty2": _v("reviewing pull requests|preparing monthly reports|planning campaigns|improving test coverage"),
    "dept": _v("engineering|finance|people operations|facilities|customer support|IT"),
    "years": _v("2|3|5"),
    "skill": _v("TypeScript|Excel and accounting|Kubernetes|B2B sales|Python and SQL"),
    "skill2": _v("Rust|German|Figma|Terraform|SAP"),
    "perk": _v("flexible hours|a pension plan|private health insurance|a four-day week in summer"),
    "perk2": _v("30 days of holiday|a company bike|free lunch on Fridays|parental leave above the legal minimum"),
    "salary": _v("45,000-55,000 EUR|60,000-75,000 GBP|90,000-120,000 USD"),
    "mode": _v("hybrid|fully remote|on-site"),
    "date": _v("12 March|30 June|1 September|15 November|Friday 4 April|the end of the month"),
    "product": _v(
        "Nimbus desk lamp|Pocket blender Go|Arlo rain jacket|Halo wireless earbuds|Terra cast-iron pan|"
        "Sprout kids' bike|Vela office chair"
    ),
    "material": _v("recycled aluminium|organic cotton|solid oak|stainless steel"),
    "n": _v("2|3|4|5|6|8"),
    "n2": _v("3|4|5|7"),
    "n3": _v("3|5|6|12"),
    "price": _v("29 EUR|49.90 EUR|120 GBP|35 USD"),
    "benefit": _v("a good night's sleep|more free time|a tidy home|healthier lunches"),
    "season": _v("autumn|winter|spring|summer"),
    "thing": _v("mug|notebook app|running jacket|breakfast spot"),
    "task": _v("plan your meals|track your spending|keep your plants alive|organise your photos|stay in touch"),
    "code": _v("WELCOME10|SPRING24|HELLO5"),
    "policy": _v("Travel|Leave|Information security|Bring your own device|Overtime|Data retention"),
    "rule": _v(
        "lock their screen when they leave their desk|log their working hours weekly|"
        "report lost equipment within 24 hours|book business travel through the travel portal"
    ),
    "allowed": _v(
        "use your work phone for short personal calls|bring your dog to the office on Fridays|"
        "take part in volunteering days"
    ),
    "time": _v("8:30|9:00|10:00|14:00|18:30"),
    "person": _v("Amira|Ben|Carla|Dmitri|Eleni|Felix|Grace|Hugo"),
    "person2": _v("Ines|Jakub|Keiko|Liam|Mona|Noah"),
    "surname": _v("Okafor|Lindqvist|Moreau|Tanaka|Brennan|Silva"),
    "channel": _v("general|random|help-desk|announcements"),
    "hr_topic": _v(
        "open enrolment for benefits|the new pension provider|the office move|the staff survey|"
        "holiday requests for December|updated payslips"
    ),
    "course": _v(
        "Biology 201: Genetics|Intro to Economics|Creative Writing|Databases|French for beginners|Organic Chemistry"
    ),
    "outcome": _v(
        "design a simple relational database|read and discuss short stories in French|"
        "explain how supply and demand set prices|interpret a genetic cross"
    ),
    "weekday": _v("Monday|Tuesday|Thursday"),
    "room": _v("A101|C2.14|the main lecture hall"),
    "topic": _v("introduction and overview|market structures|normal forms|Mendelian inheritance"),
    "topic2": _v("revision|the short story|SQL joins|game theory"),
    "endpoint": _v("POST /v1/invoices|GET /v2/users|DELETE /v1/sessions/{id}|PATCH /v3/projects/{id}"),
    "feature": _v("pagination|authentication|batch jobs|file storage|webhooks and retries"),
    "api_task": _v("create an invoice for a customer|list the users of an account|end a session|rename a project"),
    "method": _v("create_invoice|list_users|get_project|delete_session"),
    "resource": _v("invoice|project|user|session"),
    "dish": _v("mushroom risotto|lentil soup|lemon drizzle cake|vegetable stir-fry|shakshuka|pancakes"),
    "ingredient": _v("mushrooms|red lentils|courgettes|chickpeas|spinach"),
    "ingredient2": _v("eggs|yoghurt|coconut milk|grated cheese|lemon zest"),
    "place": _v("Seville|Edinburgh|Ljubljana|Hoi An|Quebec City|Tallinn"),
    "month": _v("April|May|September"),
    "month2": _v("June|October|November"),
    "meeting": _v("staff meeting|parents' council|project steering group|allotment society AGM"),
    "project": _v("website relaunch|new playground|CRM migration|spring fair"),
    "forum": _v("DIY|Cycling|Home audio|Aquariums"),
    "forum_q": _v(
        "Dishwasher leaves white marks|Chain keeps slipping on my bike|Speaker hums at low volume|"
        "Cloudy water in a new tank"
    ),
    "user": _v("dave_builds|rosie77|newbie_k|pedal_pat"),
    "user2": _v("oldhand|marta.s|fixit_fred|quietbass"),
    "user3": _v("lena_h|modbot_mike|gearhead"),
    "fix": _v(
        "clean the filter|check the cable|adjust the tension|change a third of the water|reset it to factory settings"
    ),
    "part": _v("filter|ground loop|rear derailleur|water softener setting"),
    "announcement": _v("our new app|longer opening hours|a second office in Porto|the winners of the photo contest"),
}
_LAYOUTS = ("lines", "lines", "lines", "bullets", "numbered", "paragraph")


def ordinary_documents(seed: int = 43, n: int = 420) -> list[str]:
    """Return ``n`` distinct ordinary documents: a title, four to seven genre lines, a closing."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        kind = _KINDS[len(out) % len(_KINDS)]
        # one filling per document, so that a thread or a posting stays about one thing
        values = {k: rng.choice(v) for k, v in _FILL.items()}
        lines = [t.format(**values) for t in rng.sample(kind.lines, min(len(kind.lines), rng.randrange(4, 8)))]
        layout = rng.choice(_LAYOUTS)
        if layout == "bullets":
            lines = [f"- {line}" for line in lines]
        elif layout == "numbered":
            lines = [f"{i}. {line}" for i, line in enumerate(lines, 1)]
        body = " ".join(lines) if layout == "paragraph" else "\n".join(lines)
        closing = rng.choice(kind.closings).format(**values)
        doc = "\n".join(part for part in (rng.choice(kind.titles).format(**values), body, closing) if part)
        out[doc] = None
    return list(out)
