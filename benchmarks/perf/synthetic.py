"""Deterministic synthetic workload: users, Zipf entity popularity, multi-hop chains.

The same generator feeds graphmem and the Mem0 peer. Fact sentences, chat turns and
queries are plain text; the large-scale stores also get synthetic unit vectors (random
directions mixed with per-type centroids) so that a million facts can be written
without embedding a million sentences. Query vectors are taken near the vector of the
fact the query asks about, so vector search has a real answer to find.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

DIM = 384
Matrix = npt.NDArray[np.float32]

_FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Klara",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Walt",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bianca",
    "Caleb",
    "Dora",
    "Emil",
    "Fiona",
    "Gabe",
    "Hanna",
    "Ivan",
    "Julia",
    "Karl",
    "Lena",
    "Marco",
    "Nina",
    "Oscar",
    "Petra",
    "Rafael",
    "Sara",
    "Tomas",
    "Ulla",
    "Victor",
    "Wanda",
]
_LAST = [
    "Keller",
    "Novak",
    "Rossi",
    "Larsen",
    "Moreau",
    "Silva",
    "Weber",
    "Costa",
    "Fischer",
    "Dubois",
    "Jansen",
    "Berg",
    "Lopez",
    "Meyer",
    "Horvat",
    "Nagy",
    "Varga",
    "Kowalski",
    "Ortiz",
    "Petrov",
    "Sato",
    "Tanaka",
    "Kim",
    "Chen",
    "Singh",
    "Patel",
    "Okafor",
    "Mensah",
    "Haddad",
    "Farah",
    "Ibsen",
    "Lind",
    "Holm",
    "Strand",
    "Vogel",
    "Brandt",
    "Krause",
    "Frank",
    "Lang",
    "Roth",
]
_ORG_HEAD = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Cyberdyne",
    "Tyrell",
    "Soylent",
    "Wonka",
    "Aperture",
    "Gringotts",
    "Oscorp",
    "Monarch",
    "Pied",
    "Piper",
    "Nakatomi",
    "Dunder",
    "Sterling",
]
_ORG_TAIL = [
    "Labs",
    "Systems",
    "Foods",
    "Logistics",
    "Health",
    "Robotics",
    "Media",
    "Energy",
    "Bank",
    "Studio",
]
_CITIES = [
    "Lisbon",
    "Berlin",
    "Denver",
    "Oslo",
    "Madrid",
    "Paris",
    "Vienna",
    "Prague",
    "Dublin",
    "Austin",
    "Boston",
    "Seattle",
    "Toronto",
    "Sydney",
    "Tokyo",
    "Seoul",
    "Nairobi",
    "Lagos",
    "Cairo",
    "Lima",
    "Bogota",
    "Warsaw",
    "Helsinki",
    "Zurich",
    "Milan",
    "Munich",
    "Hamburg",
    "Lyon",
    "Porto",
    "Seville",
    "Krakow",
    "Riga",
    "Tallinn",
    "Vilnius",
    "Athens",
    "Sofia",
    "Bucharest",
]
_PROJECT = [
    "Apollo",
    "Borealis",
    "Cobalt",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Helix",
    "Iris",
    "Juno",
    "Kepler",
    "Lumen",
]
_TOPIC = ["Migration", "Redesign", "Rollout", "Audit", "Launch", "Pilot", "Upgrade", "Study"]
_TYPES = ("Person", "Organization", "Place", "Project")


@dataclass(frozen=True, slots=True)
class Triple:
    """One fact of the workload, as text."""

    subject: str
    subject_type: str
    predicate: str
    object: str
    object_type: str
    sentence: str


@dataclass(slots=True)
class UserData:
    """Everything one user says or knows."""

    user_id: str
    triples: list[Triple] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Query:
    """A search: its user, its text, and the index of the fact it asks about."""

    user_id: str
    text: str
    fact_index: int


def _zipf_weights(n: int, exponent: float) -> npt.NDArray[np.float64]:
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    result: npt.NDArray[np.float64] = weights / weights.sum()
    return result


def _names(rng: np.random.Generator) -> dict[str, list[str]]:
    """Global name pools, in a fixed random order that defines their popularity rank."""
    pools = {
        "Person": [f"{f} {last}" for f in _FIRST for last in _LAST],
        "Organization": [f"{h} {t}" for h in _ORG_HEAD for t in _ORG_TAIL],
        "Place": list(_CITIES),
        "Project": [f"{p} {t}" for p in _PROJECT for t in _TOPIC],
    }
    for names in pools.values():
        rng.shuffle(names)
    return pools


def user_sizes(total_facts: int, users: int, exponent: float = 1.0) -> list[int]:
    """Facts per user: Zipf-distributed activity (a few heavy users, a long tail)."""
    raw = _zipf_weights(users, exponent) * total_facts
    sizes = np.maximum(np.floor(raw).astype(np.int64), 3)
    sizes[0] += total_facts - int(sizes.sum())
    return [int(s) for s in sizes]


def generate(total_facts: int, users: int, seed: int = 7) -> list[UserData]:
    """``total_facts`` facts over ``users`` users, in chains person -> org -> city."""
    rng = np.random.default_rng(seed)
    pools = _names(rng)
    popularity = {kind: _zipf_weights(len(names), 1.1) for kind, names in pools.items()}
    result = []
    for index, size in enumerate(user_sizes(total_facts, users)):
        user = UserData(f"u{index:05d}")

        def pick(kind: str, n: int) -> list[str]:
            names = pools[kind]
            wanted = min(n, len(names))
            chosen = rng.choice(len(names), size=wanted, replace=False, p=popularity[kind])
            return [names[i] for i in chosen]

        people = pick("Person", max(4, size // 4))
        orgs = pick("Organization", max(2, size // 12))
        cities = pick("Place", max(2, size // 20))
        projects = pick("Project", max(2, size // 15))
        local = {
            k: _zipf_weights(len(v), 1.0)
            for k, v in (("p", people), ("o", orgs), ("c", cities), ("j", projects))
        }
        while len(user.triples) < size:
            p = people[rng.choice(len(people), p=local["p"])]
            q = people[rng.choice(len(people), p=local["p"])]
            o = orgs[rng.choice(len(orgs), p=local["o"])]
            c = cities[rng.choice(len(cities), p=local["c"])]
            j = projects[rng.choice(len(projects), p=local["j"])]
            chain = [
                Triple(p, "Person", "works_at", o, "Organization", f"{p} works at {o}."),
                Triple(o, "Organization", "located_in", c, "Place", f"{o} is located in {c}."),
                Triple(p, "Person", "manages", j, "Project", f"{p} manages the {j} project."),
                Triple(j, "Project", "part_of", o, "Organization", f"{j} is a project of {o}."),
                Triple(p, "Person", "knows", q, "Person", f"{p} knows {q}."),
                Triple(q, "Person", "lives_in", c, "Place", f"{q} lives in {c}."),
            ]
            if p == q:
                chain = chain[:4]
            user.triples.extend(chain[: size - len(user.triples)])
        result.append(user)
    return result


_QUESTIONS = {
    "works_at": "Where does {s} work?",
    "located_in": "In which city is {s}?",
    "manages": "What project does {s} lead?",
    "part_of": "Which company runs {s}?",
    "knows": "Who is a friend of {s}?",
    "lives_in": "Which city does {s} live in?",
}
_MULTI_HOP = "Which city is the company of {s} in?"


def queries(data: list[UserData], count: int, seed: int = 11) -> list[Query]:
    """Queries about facts of users drawn in proportion to their activity."""
    rng = np.random.default_rng(seed)
    sizes = np.array([len(u.triples) for u in data], dtype=np.float64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    result = []
    for _ in range(count):
        u = int(rng.choice(len(data), p=sizes / sizes.sum()))
        local = int(rng.integers(len(data[u].triples)))
        triple = data[u].triples[local]
        template = _QUESTIONS[triple.predicate]
        if triple.predicate == "works_at" and rng.random() < 0.5:
            template = _MULTI_HOP
        result.append(
            Query(data[u].user_id, template.format(s=triple.subject), int(offsets[u]) + local)
        )
    return result


_TURNS = (
    "I work at {o} as an engineer.",
    "I live in {c} these days.",
    "My sister {f} lives in {c2}.",
    "{p} works at {o} now, we met there.",
    "I visited {c2} last week with {f}.",
    "We are starting the {j} project next month.",
    "My manager is {p}.",
    "I no longer live in {c2}.",
)


def chat_turns(count: int, users: int, seed: int = 5) -> list[tuple[str, str]]:
    """``(user_id, text)`` chat turns the offline extractor turns into facts."""
    rng = np.random.default_rng(seed)
    pools = _names(rng)
    turns = []
    for i in range(count):
        template = _TURNS[i % len(_TURNS)]
        text = template.format(
            o=pools["Organization"][int(rng.integers(60))],
            c=_CITIES[int(rng.integers(len(_CITIES)))],
            c2=_CITIES[int(rng.integers(len(_CITIES)))],
            f=_FIRST[int(rng.integers(len(_FIRST)))],
            p=pools["Person"][int(rng.integers(300))],
            j=pools["Project"][int(rng.integers(len(pools["Project"])))],
        )
        turns.append((f"chat{i % users:03d}", text))
    return turns


def sessions(turns: list[tuple[str, str]], size: int) -> list[tuple[str, list[str]]]:
    """The turns grouped per user into conversations of up to ``size`` turns."""
    by_user: dict[str, list[str]] = {}
    for user, text in turns:
        by_user.setdefault(user, []).append(text)
    return [
        (user, texts[i : i + size])
        for user, texts in by_user.items()
        for i in range(0, len(texts), size)
    ]


class VectorSpace:
    """Synthetic unit vectors: per-type centroid + per-name direction + noise."""

    def __init__(self, seed: int = 3) -> None:
        self._rng = np.random.default_rng(seed)
        self._centroids = {t: self._unit(self._rng.standard_normal(DIM)) for t in _TYPES}
        self._cache: dict[str, Matrix] = {}

    @staticmethod
    def _unit(v: npt.NDArray[np.float64]) -> Matrix:
        out: Matrix = (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)
        return out

    def name(self, name: str, kind: str) -> Matrix:
        """The vector of an entity name (the same for every user)."""
        found = self._cache.get(name)
        if found is None:
            seeded = np.random.default_rng(zlib.crc32(name.encode()))
            found = self._unit(0.4 * self._centroids[kind] + seeded.standard_normal(DIM) / 20)
            self._cache[name] = found
        return found

    def facts(self, triples: list[Triple]) -> Matrix:
        """Fact vectors: subject + object directions, with noise."""
        subj = np.stack([self.name(t.subject, t.subject_type) for t in triples])
        obj = np.stack([self.name(t.object, t.object_type) for t in triples])
        noise = self._rng.standard_normal((len(triples), DIM)) * 0.03
        return self._unit(subj + obj + noise)

    def near(self, vectors: Matrix, noise: float = 0.04) -> Matrix:
        """Query vectors close to ``vectors``."""
        return self._unit(vectors + self._rng.standard_normal(vectors.shape) * noise)


def iter_chunks(data: list[UserData], facts_per_chunk: int) -> Iterator[list[UserData]]:
    """Groups of whole users holding about ``facts_per_chunk`` facts each."""
    chunk: list[UserData] = []
    held = 0
    for user in data:
        chunk.append(user)
        held += len(user.triples)
        if held >= facts_per_chunk:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk
