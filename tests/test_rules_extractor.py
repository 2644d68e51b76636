"""The offline rules extractor: entities, typed facts, endings, and what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem.extraction.base import ExtractionRequest, Extractor, KnownEntity
from graphmem.extraction.models import ExtractedEntity, ExtractedFact, Extraction
from graphmem.extraction.rules import RulesExtractor
from graphmem.models.records import Episode

# Monday 8 May 2023, 13:56 UTC.
SAID_AT = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
PAIR = ("Melanie", "Caroline")


def day(year: int, month: int, dom: int) -> datetime:
    return datetime(year, month, dom, tzinfo=UTC)


def turn(line: str, when: datetime = SAID_AT) -> Episode:
    """ "Name: text" -> an episode said by Name."""
    speaker, _, text = line.partition(": ")
    return Episode(content=text, name=speaker, valid_at=when)


def extract(
    *lines: str,
    speakers: tuple[str, ...] = PAIR,
    known: tuple[KnownEntity, ...] = (),
    recent: tuple[str, ...] = (),
) -> Extraction:
    request = ExtractionRequest(
        episodes=[turn(line) for line in lines],
        recent=[turn(line) for line in recent],
        known_entities=list(known),
        speakers=list(speakers),
    )
    return RulesExtractor().extract(request).extraction


def triples(extraction: Extraction) -> set[tuple[str, str, str]]:
    return {(f.subject, f.predicate, f.object) for f in extraction.facts}


def only_fact(line: str) -> ExtractedFact:
    facts = extract(line).facts
    assert len(facts) == 1, [f.fact for f in facts]
    return facts[0]


def entity(extraction: Extraction, name: str) -> ExtractedEntity:
    found = [e for e in extraction.entities if e.name == name]
    assert found, f"{name} not among {[e.name for e in extraction.entities]}"
    return found[0]


# --- the protocol --------------------------------------------------------------------


def test_is_an_offline_extractor() -> None:
    extractor = RulesExtractor()
    assert isinstance(extractor, Extractor)
    assert extractor.name == "rules"
    outcome = extractor.extract(ExtractionRequest(episodes=[turn("Melanie: I live in Paris.")]))
    assert outcome.usage.input_tokens == 0
    assert outcome.usage.output_tokens == 0


def test_empty_batch_gives_an_empty_extraction() -> None:
    assert RulesExtractor().extract(ExtractionRequest(episodes=[])).extraction == Extraction()


# --- statement families --------------------------------------------------------------


def test_lives_in() -> None:
    fact = only_fact("Melanie: I live in Paris.")
    assert (fact.subject, fact.predicate, fact.object) == ("Melanie", "lives_in", "Paris")
    assert fact.fact == "Melanie lives in Paris."
    assert fact.valid_at == SAID_AT
    assert fact.invalid_at is None
    assert fact.episode == 0
    assert 0.5 < fact.confidence <= 1.0


def test_moved_to_is_lives_in_dated_by_the_sentence() -> None:
    fact = only_fact("Melanie: We moved to New York City last year!")
    assert (fact.predicate, fact.object, fact.fact) == (
        "lives_in", "New York City", "Melanie moved to New York City."
    )  # fmt: skip
    assert fact.valid_at == day(2022, 1, 1)
    assert only_fact("Melanie: I moved to Denver two years ago.").valid_at == day(2021, 5, 8)


def test_work_and_study() -> None:
    got = extract(
        "Melanie: I work at Acme Corp as a nurse.",
        "Caroline: I'm a software engineer at Google.",
        "Melanie: I'm studying at Stanford University.",
    )
    assert triples(got) == {
        ("Melanie", "works_at", "Acme Corp"),
        ("Melanie", "works_as", "nurse"),
        ("Caroline", "works_at", "Google"),
        ("Caroline", "works_as", "software engineer"),
        ("Melanie", "studies_at", "Stanford University"),
    }
    sentences = {f.fact for f in got.facts}
    assert "Melanie works as a nurse." in sentences
    assert "Caroline works as a software engineer." in sentences
    assert entity(got, "Acme Corp").type == "Organization"
    assert [f.episode for f in got.facts if f.object == "Google"] == [1]


def test_a_common_noun_workplace_is_not_an_entity() -> None:
    assert extract("Melanie: I work at a bakery downtown.").facts == []


def test_tastes() -> None:
    got = extract(
        "Melanie: I love painting and I really enjoy hiking.",
        "Caroline: I like sushi. I hate country music!",
        "Melanie: I'm a big fan of pottery.",
    )
    assert triples(got) == {
        ("Melanie", "loves", "painting"),
        ("Melanie", "enjoys", "hiking"),
        ("Caroline", "likes", "sushi"),
        ("Caroline", "dislikes", "country music"),
        ("Melanie", "likes", "pottery"),
    }


def test_tastes_about_the_conversation_are_not_facts() -> None:
    for line in (
        "Melanie: I love that!",
        "Melanie: I love you!",
        "Melanie: I love the colors.",
        "Melanie: I love your painting!",
        "Melanie: I love how you did it.",
        "Melanie: I love seeing this.",
        "Melanie: I love making this cake with raspberries.",
        "Melanie: Connecting with the things I love makes writing more fun.",
    ):
        assert extract(line).facts == [], line


def test_quoted_title_and_favorites() -> None:
    got = extract(
        'Caroline: I loved "Becoming Nicole" by Amy Ellis Nutt.',
        "Melanie: My favorite book is 'The Hobbit'.",
    )
    assert triples(got) == {
        ("Caroline", "likes", "Becoming Nicole"),
        ("Melanie", "favorite_book", "The Hobbit"),
    }
    assert entity(got, "Becoming Nicole").type == "Work"
    assert "Melanie's favorite book is The Hobbit." in {f.fact for f in got.facts}


def test_pets() -> None:
    got = extract(
        "Melanie: My dog Max loves the beach.",
        "Caroline: I have two cats named Luna and Oliver.",
        "Melanie: I got a puppy last week!",
    )
    assert triples(got) == {
        ("Melanie", "has_pet", "Max"),
        ("Caroline", "has_pet", "Luna"),
        ("Caroline", "has_pet", "Oliver"),
        ("Melanie", "has_pet", "Melanie's puppy"),
    }
    assert entity(got, "Max").type == "Animal"
    facts = {f.object: f for f in got.facts}
    assert facts["Max"].fact == "Max is Melanie's dog."
    assert facts["Luna"].fact == "Luna is Caroline's cat."
    assert facts["Melanie's puppy"].fact == "Melanie has a puppy."
    assert facts["Melanie's puppy"].valid_at == day(2023, 5, 1)


def test_family_and_partners() -> None:
    got = extract(
        "Melanie: My sister Anna is visiting with my daughter Emma.",
        "Caroline: My husband John says hi. I have two kids.",
        "Melanie: My boyfriend Sam cooked dinner.",
        "Caroline: I'm engaged to Priya.",
    )
    assert triples(got) == {
        ("Melanie", "sibling_of", "Anna"),
        ("Melanie", "parent_of", "Emma"),
        ("Caroline", "married_to", "John"),
        ("Caroline", "parent_of", "Caroline's children"),
        ("Melanie", "dating", "Sam"),
        ("Caroline", "engaged_to", "Priya"),
    }
    sentences = {f.fact for f in got.facts}
    assert {"Anna is Melanie's sister.", "Emma is Melanie's daughter.",
            "John is Caroline's husband.", "Caroline has two children."} <= sentences  # fmt: skip
    assert entity(got, "Anna").type == "Person"


def test_unnamed_relatives_only_where_the_mention_says_something() -> None:
    assert triples(extract("Melanie: My husband made pancakes.")) == {
        ("Melanie", "married_to", "Melanie's husband")
    }
    assert only_fact("Melanie: My husband made pancakes.").fact == "Melanie is married."
    assert triples(extract("Melanie: My son loves soccer.")) == {
        ("Melanie", "parent_of", "Melanie's son")
    }
    # Everybody has a mother; "my friend" alone names nobody.
    assert extract("Melanie: My mom called. My friend says hi.").facts == []


def test_relatives_are_not_dated_by_unrelated_time_words() -> None:
    fact = only_fact("Melanie: That trip last year was for my daughter Sara's birthday.")
    assert (fact.predicate, fact.object, fact.valid_at) == ("parent_of", "Sara", SAID_AT)


def test_named_relatives_can_be_subjects() -> None:
    got = extract("Melanie: My sister Anna lives in Berlin.")
    assert triples(got) == {
        ("Melanie", "sibling_of", "Anna"),
        ("Anna", "lives_in", "Berlin"),
    }
    assert extract("Melanie: My sister lives in Berlin.").facts == []


def test_origins_age_and_diet() -> None:
    got = extract(
        "Melanie: I was born in Dublin. I'm originally from Ireland.",
        "Caroline: I'm 32 and I'm vegetarian.",
        "Melanie: I just turned 40 last week.",
        "Caroline: I eat fish now.",
        "Melanie: I'm allergic to peanuts.",
    )
    assert triples(got) == {
        ("Melanie", "born_in", "Dublin"),
        ("Melanie", "hometown", "Ireland"),
        ("Caroline", "age", "32"),
        ("Caroline", "diet", "vegetarian"),
        ("Melanie", "age", "40"),
        ("Caroline", "diet", "eats fish"),
        ("Melanie", "allergic_to", "peanuts"),
    }
    ages = {f.object: f for f in got.facts if f.predicate == "age"}
    assert ages["32"].fact == "Caroline is 32 years old."
    assert ages["40"].valid_at == day(2023, 5, 1)


def test_numbers_that_are_not_ages() -> None:
    for line in ("Melanie: I'm 100% sure.", "Melanie: I'm 5 minutes away."):
        assert extract(line).facts == [], line


def test_plans() -> None:
    got = extract(
        "Melanie: I'm planning to visit Rome next month.",
        "Caroline: I'm going to a transgender conference this month.",
    )
    facts = {f.subject: f for f in got.facts}
    assert (facts["Melanie"].predicate, facts["Melanie"].object) == ("plans_to", "visit Rome")
    assert facts["Melanie"].fact == "Melanie plans to visit Rome."
    assert facts["Melanie"].valid_at == day(2023, 6, 1)
    assert facts["Caroline"].object == "go to a transgender conference"


def test_vague_plans_are_not_facts() -> None:
    for line in ("Melanie: I'm going to try.", "Melanie: I'm gonna be fine.",
                 "Melanie: I want to see it.", "Melanie: I'm going to do that."):  # fmt: skip
        assert extract(line).facts == [], line


def test_visits_events_groups_and_things() -> None:
    got = extract(
        "Melanie: I went to the Grand Canyon last week.",
        "Caroline: I went to a LGBTQ support group yesterday.",
        "Melanie: I attended the Women in Tech conference.",
        "Caroline: I joined a book club.",
        "Melanie: I bought a new car.",
        "Caroline: I started my own online clothing store.",
    )
    assert triples(got) == {
        ("Melanie", "visited", "Grand Canyon"),
        ("Caroline", "attended", "LGBTQ support group"),
        ("Melanie", "attended", "Women in Tech conference"),
        ("Caroline", "member_of", "book club"),
        ("Melanie", "owns", "car"),
        ("Caroline", "founded", "online clothing store"),
    }
    by_object = {f.object: f for f in got.facts}
    assert by_object["Grand Canyon"].valid_at == day(2023, 5, 1)
    assert by_object["LGBTQ support group"].valid_at == day(2023, 5, 7)
    assert by_object["LGBTQ support group"].fact == "Caroline attended a LGBTQ support group."
    assert entity(got, "Grand Canyon").type == "Place"


def test_used_to_facts_have_ended() -> None:
    fact = only_fact("Melanie: I used to live in Boston.")
    assert (fact.predicate, fact.object) == ("lives_in", "Boston")
    assert fact.fact == "Melanie used to live in Boston."
    assert fact.invalid_at == SAID_AT
    assert fact.valid_at is None
    dated = only_fact("Melanie: I used to work at Initech in 2019.")
    assert (dated.valid_at, dated.invalid_at) == (day(2019, 1, 1), SAID_AT)


# --- endings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "predicate", "obj"),
    [
        ("Melanie: I no longer live in Paris.", "lives_in", "Paris"),
        ("Melanie: I no longer work there.", "works_at", None),
        ("Melanie: I don't work at Google anymore.", "works_at", "Google"),
        ("Melanie: I quit my job at Acme Corp.", "works_at", "Acme Corp"),
        ("Melanie: I quit my job!", "works_at", None),
        ("Melanie: I left Initech Inc. in March.", "works_at", "Initech Inc"),
        ("Melanie: I was laid off.", "works_at", None),
        ("Melanie: I lost my job at Door Dash this month.", "works_at", "Door Dash"),
        ("Melanie: I moved out of Boston.", "lives_in", "Boston"),
        ("Melanie: I broke up with Sam.", "dating", "Sam"),
        ("Melanie: I broke up with my boyfriend.", "dating", None),
        ("Melanie: We broke up last month.", "dating", None),
        ("Melanie: I got divorced.", "married_to", None),
        ("Melanie: I graduated last week!", "studies_at", None),
        ("Melanie: I'm not vegetarian anymore.", "diet", "vegetarian"),
    ],
)
def test_endings(line: str, predicate: str, obj: str | None) -> None:
    got = extract(line)
    assert [(e.subject, e.predicate, e.object) for e in got.endings] == [
        ("Melanie", predicate, obj)
    ]
    assert got.facts == [] or predicate == "studies_at"


def test_ending_time_comes_from_the_sentence() -> None:
    [ending] = extract("Melanie: I quit my job at Acme Corp yesterday.").endings
    assert ending.ended_at == day(2023, 5, 7)
    assert ending.episode == 0
    [ending] = extract("Melanie: I broke up with Sam.").endings
    assert ending.ended_at == SAID_AT


def test_moving_from_one_place_to_another() -> None:
    got = extract("Melanie: I moved from Boston to Denver in 2019.")
    assert [(e.predicate, e.object, e.ended_at) for e in got.endings] == [
        ("lives_in", "Boston", day(2019, 1, 1))
    ]
    assert [(f.predicate, f.object, f.fact) for f in got.facts] == [
        ("lives_in", "Denver", "Melanie moved from Boston to Denver.")
    ]


def test_leaving_a_place_is_not_leaving_a_job() -> None:
    assert extract("Melanie: I left Paris in a hurry.").endings == []


def test_looking_back_at_an_ending_closes_nothing_unnamed() -> None:
    assert extract("Melanie: Since I lost my job, things have been tough.").endings == []


# --- what must not become a fact -----------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Melanie: Do you live in Paris?",
        "Melanie: I live in Paris?",
        "Melanie: Do I work at Google or not",
        "Melanie: If I moved to London, I would be happy.",
        "Melanie: I would love to visit Rome.",
        "Melanie: I wish I lived in Paris.",
        "Melanie: Maybe I'll join a book club.",
        "Melanie: I don't work at Google.",
        "Melanie: I never liked sushi.",
        "Melanie: I don't think I live in Paris.",
        "Melanie: I'm not a nurse.",
        "Melanie: She said I work at Google.",
        "Melanie: If I quit my job at Google, I'd travel.",
        "Melanie: Did you quit your job at Google?",
    ],
)
def test_questions_hypotheticals_negations_and_hearsay_give_nothing(line: str) -> None:
    got = extract(line)
    assert got.facts == [], [f.fact for f in got.facts]
    assert got.endings == []


def test_a_negated_clause_does_not_block_the_next_one() -> None:
    assert triples(extract("Melanie: I don't drive, but I live in Paris.")) == {
        ("Melanie", "lives_in", "Paris")
    }


def test_recent_turns_are_context_only() -> None:
    got = extract("Caroline: Cool!", recent=("Melanie: I live in Paris.",))
    assert got.facts == []
    assert [e.name for e in got.entities] == ["Caroline"]


# --- speakers and "you" --------------------------------------------------------------


def test_speakers_are_people_with_their_episodes() -> None:
    got = extract("Melanie: Hi!", "Caroline: Hey Mel!", "Melanie: I live in Paris.")
    melanie = entity(got, "Melanie")
    assert melanie.type == "Person"
    assert melanie.episodes == [0, 1, 2]  # spoke in 0 and 2, called "Mel" in 1
    assert "Mel" in melanie.aliases
    assert entity(got, "Caroline").episodes == [1]


def test_your_named_relative_belongs_to_the_other_speaker() -> None:
    got = extract("Melanie: Say hi to your husband John!")
    assert triples(got) == {("Caroline", "married_to", "John")}
    assert got.facts[0].fact == "John is Caroline's husband."


def test_you_is_unclear_with_three_speakers() -> None:
    got = extract("Melanie: Say hi to your husband John!", speakers=("Melanie", "Caroline", "Ann"))
    assert got.facts == []


def test_you_falls_back_to_who_spoke_in_the_window() -> None:
    got = extract(
        "Melanie: Say hi to your husband John!", speakers=(), recent=("Caroline: Hello!",)
    )
    assert triples(got) == {("Caroline", "married_to", "John")}


def test_nameless_turns_take_names_from_their_role() -> None:
    extractor = RulesExtractor()
    user = Episode(content="I live in Oslo.", role="user", valid_at=SAID_AT)
    bot = Episode(content="I work at Anthropic.", role="assistant", valid_at=SAID_AT)
    got = extractor.extract(ExtractionRequest(episodes=[user, bot])).extraction
    assert triples(got) == {("User", "lives_in", "Oslo"), ("Assistant", "works_at", "Anthropic")}
    named = extractor.extract(ExtractionRequest(episodes=[user], user_name="Maya")).extraction
    assert triples(named) == {("Maya", "lives_in", "Oslo")}


# --- entities ------------------------------------------------------------------------


def test_proper_nouns_titles_and_known_names() -> None:
    known = (KnownEntity("Acme Corp", "Organization", aliases=("Acme",)),)
    got = extract(
        "Melanie: Ha! We watched 'Harry Potter' with Oliver's kids in London.",
        "Caroline: Sounds fun. I heard acme is hiring.",
        known=known,
    )
    names = {e.name: e for e in got.entities}
    assert names["Oliver"].episodes == [0]
    assert names["Harry Potter"].type == "Work"
    assert names["London"].type == "Place"
    assert names["Acme Corp"].type == "Organization"
    assert names["Acme Corp"].episodes == [1]
    # Sentence-initial capitals prove nothing, and interjections are never names.
    assert "Sounds" not in names
    assert "We" not in names


def test_sentence_initial_name_counts_when_seen_mid_sentence() -> None:
    got = extract("Melanie: Luna is so sweet.", recent=("Melanie: I adopted a cat named Luna.",))
    assert "Luna" in {e.name for e in got.entities}
    assert "Luna" not in {e.name for e in extract("Melanie: Luna is so sweet.").entities}


def test_entity_types_from_cues() -> None:
    got = extract(
        "Melanie: Dr. Smith works at the University of Michigan.",
        "Caroline: I visited Lake Tahoe with Mark and I loved it.",
    )
    names = {e.name: e.type for e in got.entities}
    assert names["Dr. Smith"] == "Person"
    assert names["University of Michigan"] == "Organization"
    assert names["Lake Tahoe"] == "Place"


def test_my_name_is_becomes_an_alias() -> None:
    got = extract("User: Hi, my name is Maya Chen.", speakers=())
    assert entity(got, "User").aliases == ["Maya Chen"]


# --- robustness ----------------------------------------------------------------------


def test_same_input_same_output() -> None:
    lines = (
        "Melanie: I live in Paris and my dog Max loves it 🐶. I quit my job at Acme Corp!",
        "Caroline: I'm going to a pride parade next Friday with my sister Anna.",
    )
    first = extract(*lines)
    assert all(extract(*lines) == first for _ in range(3))
    assert first.facts
    assert first.endings


def test_odd_input_does_not_break_it() -> None:
    odd = (
        "Melanie: 🙂🙂🙂",
        "Melanie: Ich wohne in München. J'habite à Paris. 我住在北京。",
        "Melanie: \"\"\"'' ''' \"unterminated",
        "Melanie: I I I I my my my your your",
        "Melanie: I'm",
        "Melanie: " + "I live in Paris and I love painting. " * 500,
        "Melanie: " + "A" * 5000,
        "Melanie: my dog " + "Max " * 300,
        "Melanie: \n\n\t  \u200b I live in   Rome\u00a0now.",
    )
    got = extract(*odd)
    assert ("Melanie", "lives_in", "Paris") in triples(got)
    assert ("Melanie", "lives_in", "Rome") in triples(got)
    assert all(len(e.name) <= 200 for e in got.entities)


def test_a_wedding_is_not_dating() -> None:
    got = extract("Melanie: My girlfriend and I had our wedding ceremony last week!")
    assert "dating" not in {f.predicate for f in got.facts}


def test_a_time_expression_dates_its_own_clause() -> None:
    got = extract("Melanie: I went to Rome last year and I live in Paris now.")
    dates = {f.predicate: f.valid_at for f in got.facts}
    assert dates == {"visited": day(2022, 1, 1), "lives_in": SAID_AT}
    early = extract("Melanie: Last week, I went to a pottery workshop.")
    assert [f.valid_at for f in early.facts] == [day(2023, 5, 1)]


def test_employer_names_that_look_like_events_and_trailing_time_words() -> None:
    employer = only_fact("Melanie: I work at Orbit Games now, on their new puzzle game.")
    assert (employer.subject, employer.predicate, employer.object) == (
        "Melanie", "works_at", "Orbit Games")
    assert only_fact("Melanie: I'm vegetarian these days, so dinner is on me.").object == (
        "vegetarian")
