"""Word lists the rules extractor relies on (all lower case).

Kept apart from the patterns so that adding a job title or a pet species does not touch
matching logic.
"""

from __future__ import annotations


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``, as a set."""
    return frozenset(text.split())


PRONOUNS = word_set(
    """i i'm i've i'll i'd me my mine myself you you're you've you'll you'd your yours
    yourself he he's his him himself she she's her hers herself it it's its itself we we're
    we've we'll our ours us they they're they've their theirs them this that these those
    there here who what where when why how which whose whom everyone everybody someone
    somebody anyone anybody nobody something anything everything nothing"""
)

DAYS_MONTHS = word_set(
    """monday tuesday wednesday thursday friday saturday sunday mondays fridays weekends
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec today tomorrow yesterday tonight
    mon tue tues wed thu thur thurs fri sat"""
)

# Capitalized words that start or punctuate chat sentences but never name anything.
NOT_NAMES = (
    word_set(
        """a an the and but or so if then also anyway anyways btw by way oh ooh ah aah aw aww
    awww hey hi hello hiya yo sup thanks thank thx ty wow whoa woah yay yeah yea yep yup yes
    no nope nah sure ok okay cool great awesome amazing nice good bad congrats
    congratulations sounds sound lol lmao haha hahaha hehe omg omgosh gosh geez jeez um uh
    umm hmm hm well wait please sorry bye goodbye cheers love dear ugh oops woohoo hooray
    absolutely totally definitely exactly true right agreed indeed really honestly glad happy
    just not let let's can could would should will shall might must may did do does done
    have has had is are was were be been being am as at for from in into of on onto to
    with without about after before since until while because though although yet still
    even ever never always sometimes often maybe perhaps speaking talking guess anyhow
    welcome hope keep take make look looks see check stay go going get got tell lots
    fun hugs xoxo tbh idk imo imho fyi asap irl ttyl brb np pls plz ps mr mrs ms dr st jr
    sr mom mum dad mommy daddy mama papa grandma grandpa granny sis bro dude guys man girl
    buddy pal sweetie honey babe baby god lord jesus christmas easter halloween thanksgiving
    day days week weekend month year morning night evening afternoon
    what's that's it's there's here's who's how's where's i'm you're we're they're he's
    she's i've you've we've i'll you'll we'll i'd you'd let's can't don't won't didn't
    isn't wasn't aren't haven't hasn't couldn't wouldn't shouldn't"""
    )
    | PRONOUNS
    | DAYS_MONTHS
)

# Lower-case words allowed inside a capitalized span ("University of Michigan").
NAME_CONNECTORS = word_set("of the de del della da di du van von der den la le y and'")

# Words right after "Mr" or a name that make a span a person.
PERSON_TITLES = word_set("mr mrs ms miss dr prof professor sir madam aunt uncle coach")
PERSON_VERBS = word_set(
    """said says told tells asked asks thinks thought called calls texted texts wants
    loves likes felt feels is's was's"""
)

ORG_SUFFIXES = word_set(
    """inc inc. corp corp. corporation llc ltd ltd. co co. company companies university
    college school academy institute bank foundation association society club team league
    group agency hospital clinic church center centre studio studios labs lab partners
    organization organisation charity council committee department ministry federation
    union network records press publishing airlines motors systems technologies"""
)

PLACE_SUFFIXES = word_set(
    """city town village county state province island islands lake river mountain
    mountains mount mt park beach bay valley canyon falls forest desert coast street st.
    avenue ave road boulevard square bridge harbor harbour peninsula hills springs heights
    national"""
)

EVENT_SUFFIXES = word_set(
    """conference festival fest con convention marathon parade olympics championship
    championships cup tournament expo fair concert summit gala show games"""
)

# Frequently named places, so that "in Paris" is a Place without further cues.
KNOWN_PLACES = word_set(
    """afghanistan albania algeria argentina armenia australia austria bangladesh belgium
    bolivia brazil bulgaria cambodia cameroon canada chile china colombia croatia cuba
    cyprus czechia denmark ecuador egypt england estonia ethiopia europe africa asia
    finland france georgia germany ghana greece guatemala haiti hungary iceland india
    indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya korea
    latvia lebanon lithuania luxembourg madagascar malaysia mexico mongolia morocco nepal
    netherlands holland nigeria norway pakistan panama peru philippines poland portugal
    romania russia scotland senegal serbia singapore slovakia slovenia somalia spain
    sweden switzerland syria taiwan tanzania thailand tunisia turkey uganda ukraine
    uruguay venezuela vietnam wales zambia zimbabwe america usa uk britain hawaii alaska
    california texas florida oregon washington nevada arizona colorado utah idaho montana
    wyoming dakota nebraska kansas oklahoma minnesota iowa missouri arkansas louisiana
    wisconsin illinois michigan indiana ohio kentucky tennessee mississippi alabama
    pennsylvania virginia carolina maryland delaware jersey york connecticut massachusetts
    vermont maine paris london berlin madrid rome barcelona amsterdam vienna prague
    dublin lisbon athens istanbul moscow tokyo kyoto osaka seoul beijing shanghai
    bangkok delhi mumbai sydney melbourne toronto vancouver montreal chicago boston
    seattle portland denver austin dallas houston miami atlanta phoenix philadelphia
    detroit nashville orlando vegas brooklyn manhattan la sf nyc dc oslo stockholm
    copenhagen helsinki zurich geneva brussels munich milan venice florence naples
    edinburgh glasgow manchester liverpool cairo nairobi lagos rio lima bogota havana
    cancun hollywood"""
)

PETS = word_set(
    """dog dogs puppy puppies pup pups cat cats kitten kittens kitty bird birds parrot
    parrots hamster hamsters rabbit rabbits bunny bunnies fish goldfish turtle turtles
    tortoise snake snakes lizard lizards horse horses pony ponies ferret ferrets gecko
    geckos chinchilla hedgehog pig pigs pet pets"""
)

# Relation word -> (predicate, what the relative is to the speaker, may stand unnamed).
# "my husband" alone says the speaker is married, so it may stand as "Melanie's husband";
# "my mom" alone says nothing worth storing.
RELATIVES: dict[str, tuple[str, str, bool]] = {
    "sister": ("sibling_of", "sister", False),
    "brother": ("sibling_of", "brother", False),
    "sibling": ("sibling_of", "sibling", False),
    "twin": ("sibling_of", "twin", False),
    "son": ("parent_of", "son", True),
    "daughter": ("parent_of", "daughter", True),
    "kid": ("parent_of", "child", False),
    "child": ("parent_of", "child", False),
    "kids": ("parent_of", "children", True),
    "children": ("parent_of", "children", True),
    "husband": ("married_to", "husband", True),
    "wife": ("married_to", "wife", True),
    "spouse": ("married_to", "spouse", True),
    "boyfriend": ("dating", "boyfriend", True),
    "girlfriend": ("dating", "girlfriend", True),
    "fiance": ("engaged_to", "fiancé", True),
    "fiancé": ("engaged_to", "fiancé", True),
    "fiancee": ("engaged_to", "fiancée", True),
    "fiancée": ("engaged_to", "fiancée", True),
    "mom": ("child_of", "mother", False),
    "mother": ("child_of", "mother", False),
    "mum": ("child_of", "mother", False),
    "dad": ("child_of", "father", False),
    "father": ("child_of", "father", False),
    "friend": ("friend_of", "friend", False),
    "bff": ("friend_of", "best friend", False),
    "bestie": ("friend_of", "best friend", False),
    "buddy": ("friend_of", "friend", False),
    "cousin": ("relative_of", "cousin", False),
    "aunt": ("relative_of", "aunt", False),
    "uncle": ("relative_of", "uncle", False),
    "niece": ("relative_of", "niece", False),
    "nephew": ("relative_of", "nephew", False),
    "grandma": ("grandchild_of", "grandmother", False),
    "grandmother": ("grandchild_of", "grandmother", False),
    "grandpa": ("grandchild_of", "grandfather", False),
    "grandfather": ("grandchild_of", "grandfather", False),
    "coworker": ("colleague_of", "coworker", False),
    "colleague": ("colleague_of", "colleague", False),
    "roommate": ("roommate_of", "roommate", False),
    "neighbor": ("neighbor_of", "neighbor", False),
    "neighbour": ("neighbor_of", "neighbour", False),
    "teammate": ("teammate_of", "teammate", False),
}

JOBS = word_set(
    """teacher nurse doctor physician surgeon engineer developer programmer coder designer
    lawyer attorney accountant chef cook baker writer author novelist poet journalist
    reporter editor artist painter sculptor musician singer songwriter guitarist drummer
    pianist composer photographer filmmaker director producer actor actress dancer
    choreographer scientist researcher professor lecturer tutor instructor librarian
    manager consultant analyst pharmacist dentist therapist psychologist psychiatrist
    counselor counsellor firefighter officer pilot mechanic electrician plumber carpenter
    architect farmer veterinarian vet cashier waiter waitress bartender barista
    entrepreneur freelancer founder ceo cto athlete coach trainer paramedic
    midwife caregiver receptionist secretary clerk salesperson realtor banker investor
    streamer youtuber influencer blogger podcaster translator interpreter technician
    nanny babysitter soldier marine sailor detective judge politician player worker
    assistant agent specialist coordinator administrator"""
)

# Words that may stand before a job title ("freelance graphic designer").
JOB_MODIFIERS = word_set(
    """professional freelance full-time part-time senior junior head lead chief graphic
    software web game video ux ui data registered licensed certified school high elementary
    middle art music dance yoga fitness personal social pastry sous police real estate
    basketball football soccer baseball tennis hockey volleyball pro esports animal
    medical research marketing sales project product stay-at-home substitute kindergarten
    math science english history biology chemistry physics piano guitar voice assistant
    general store team office shift"""
)

# Job words too general to stand alone ("I'm a player" is not a job; "a basketball player" is).
JOBS_NEEDING_MODIFIER = word_set(
    "player worker assistant agent specialist coordinator administrator officer manager"
)

# Nouns that a pet or relative word may describe ("my horse painting", "my dog bowl").
MODIFIED_NOUNS = word_set(
    """painting paintings drawing drawings photo photos picture pictures pic pics portrait
    portraits sculpture figurine print poster mug shirt sweater costume costumes toy toys
    food bowl bed beds collar leash sitter sitters walker walkers treat treats video
    videos book books story stories card cards ornament ornaments show shows park parks
    shelter shelters house houses cake cakes sticker stickers plushie statue hair group
    groups chat chats club clubs"""
)

BUSINESSES = word_set(
    """business company store shop studio bakery restaurant cafe startup brand boutique
    salon agency firm practice clinic nonprofit charity blog channel podcast foundation
    label farm gallery bar brewery"""
)

# Favourite-thing categories that refer to a moment, not a lasting taste.
NOT_TASTE_CATEGORIES = word_set(
    "part thing things moment moments memory memories bit way time day one"
)

DIETS = word_set(
    """vegetarian vegan pescatarian pescetarian keto gluten-free dairy-free plant-based
    paleo lactose-intolerant kosher halal"""
)

EVENT_NOUNS = word_set(
    """conference concert wedding festival party show game match meetup meet-up workshop
    seminar convention parade exhibition exhibit fair race marathon ceremony gala
    retreat camp class course lecture talk tournament competition rally protest march
    fundraiser auction recital play musical opera ballet premiere screening reunion
    funeral graduation hackathon expo summit symposium session group event reading
    tasting"""
)

# Event nouns too general to name an event without a modifier ("an event", "a group").
GENERIC_EVENT_NOUNS = word_set(
    "event group session class course talk meeting game match show reading tasting"
)

# Gerunds that name a pastime on their own ("I love painting"); others need an object.
HOBBIES = word_set(
    """painting reading writing dancing singing hiking cooking baking swimming running
    jogging cycling biking gardening fishing camping traveling travelling drawing knitting
    sewing surfing skiing snowboarding skating skateboarding gaming volunteering
    photographing sketching climbing bouldering kayaking canoeing sailing rowing boxing
    wrestling fencing golfing bowling journaling blogging coding programming acting
    teaching learning mentoring gardening crafting woodworking pottery crocheting
    quilting scrapbooking birdwatching stargazing meditating walking exploring shopping
    snorkeling diving horseback riding biking rollerblading lifting weightlifting
    yoga composing drumming rapping podcasting streaming vlogging decorating
    collecting fundraising volunteering organizing campaigning"""
)

# Nouns of a direct object that refer to something in the conversation, not a taste.
VAGUE_OBJECT_WORDS = word_set(
    """it this that these those them him her you me us one ones thing things stuff way
    idea fact feeling feelings thought thoughts vibe vibes energy support advice tip tips
    pic pics photo photos picture pictures image video story stories message post
    everything anything something nothing all both each every any some much many more
    most lot lots how what when where why who which whatever so too very such same
    other others another seeing hearing knowing having being getting feeling hear see
    know have be get feel spending chatting talking sharing catching vibes moment
    moments memories memory time day days chance opportunity opportunities is are was
    were makes made does did gives gave keeps kept brings brought means meant gets got
    will can would should could must"""
)

# Head verbs that make "I'm going to ..." a figure of speech rather than a plan.
VAGUE_PLAN_VERBS = word_set(
    """be do have try need keep let say tell ask think wait miss love like want hate bet
    guess mean give get make see put use show send share remember find bring check
    stay cry say thank help hear know feel look stop pass throw"""
)
