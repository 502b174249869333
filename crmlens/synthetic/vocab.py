"""Fixed vocabularies of the synthetic CRM: names, industries, titles, sources.

Everything here is a tuple (ordered, hashable) so that sampling with a seeded
generator is reproducible. Weights sit next to the values they weigh, and the
effect sizes that drive the causal model live in the modules that use them.
"""

from __future__ import annotations

import itertools
import json

REGIONS = ("NA", "EMEA", "APAC", "LATAM")
# Share of accounts per region.
REGION_WEIGHTS = (0.45, 0.30, 0.15, 0.10)
COUNTRIES = {
    "NA": (("US", 0.85), ("CA", 0.15)),
    "EMEA": (("GB", 0.30), ("DE", 0.25), ("FR", 0.20), ("NL", 0.10), ("SE", 0.08), ("ES", 0.07)),
    "APAC": (("AU", 0.35), ("JP", 0.25), ("SG", 0.20), ("IN", 0.20)),
    "LATAM": (("BR", 0.45), ("MX", 0.35), ("AR", 0.10), ("CL", 0.10)),
}
PHONE_PREFIX = {
    "US": "+1",
    "CA": "+1",
    "GB": "+44",
    "DE": "+49",
    "FR": "+33",
    "NL": "+31",
    "SE": "+46",
    "ES": "+34",
    "AU": "+61",
    "JP": "+81",
    "SG": "+65",
    "IN": "+91",
    "BR": "+55",
    "MX": "+52",
    "AR": "+54",
    "CL": "+56",
}

# Industry, share of accounts, fit with the product (a logit contribution).
INDUSTRIES = (
    ("Software", 0.16, 0.50),
    ("Financial Services", 0.10, 0.30),
    ("Healthcare", 0.09, 0.00),
    ("Manufacturing", 0.11, -0.10),
    ("Retail", 0.09, -0.30),
    ("Professional Services", 0.10, 0.30),
    ("Education", 0.05, -0.40),
    ("Media", 0.05, 0.10),
    ("Telecommunications", 0.05, 0.20),
    ("Logistics", 0.06, -0.10),
    ("Real Estate", 0.05, -0.20),
    ("Government", 0.03, -0.60),
    ("Energy", 0.06, 0.00),
)

NAME_PARTS_A = (
    "Blue", "North", "Bright", "Silver", "Red", "Green", "Iron", "Summit", "Peak", "Clear",
    "Swift", "True", "Prime", "Bold", "Stone", "River", "Oak", "Pine", "Harbor", "Cedar",
    "Golden", "Apex", "Nova", "Vertex", "Atlas", "Orion", "Polar", "Coastal", "Urban", "Quantum",
    "Solid", "Rapid", "Bay", "Lake", "Sky", "Sun", "Star", "Maple", "Falcon", "Eagle",
    "Granite", "Copper", "Crystal", "Emerald", "Metro", "Pioneer", "Liberty", "Titan", "Zen", "Vivid",
)  # fmt: skip
NAME_PARTS_B = (
    "Systems", "Labs", "Works", "Dynamics", "Solutions", "Analytics", "Logistics", "Health",
    "Capital", "Foods", "Networks", "Energy", "Media", "Retail", "Partners", "Robotics",
    "Software", "Industries", "Consulting", "Ventures", "Holdings", "Tech", "Data", "Cloud",
    "Motors", "Pharma", "Finance", "Studios", "Supply", "Digital",
)  # fmt: skip
# Legal suffix and the variants a sloppy re-entry of the same company produces.
NAME_SUFFIXES = ("Corp", "Inc", "Ltd", "LLC", "GmbH", "Group", "Co")
SUFFIX_VARIANTS = {
    "Corp": ("Corporation", "Corp."),
    "Inc": ("Incorporated", "Inc."),
    "Ltd": ("Limited", "Ltd."),
    "LLC": ("L.L.C.", "LLC."),
    "GmbH": ("G.m.b.H.", "GmbH."),
    "Group": ("Grp", "Group."),
    "Co": ("Company", "Co."),
}

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Margaret", "Steven", "Sandra", "Paul", "Ashley", "Andrew", "Emily", "Joshua", "Donna",
    "Kenneth", "Michelle", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Timothy",
    "Deborah", "Ronald", "Stephanie", "Jason", "Rebecca", "Edward", "Laura", "Jeffrey", "Sharon",
    "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Anna",
    "Lukas", "Sophie", "Hannah", "Felix", "Emma", "Noah", "Lea", "Mateo", "Lucia", "Hugo",
    "Chloe", "Liam", "Olivia", "Yuki", "Haruto", "Aiko", "Priya", "Arjun", "Ananya", "Wei",
    "Mei", "Chen", "Gabriel", "Isabela", "Rafael", "Camila", "Diego", "Valentina", "Lars",
    "Ingrid", "Sven", "Astrid", "Pierre", "Camille", "Jan", "Femke",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Muller", "Schmidt", "Schneider",
    "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Dubois", "Laurent", "Bernard", "Moreau",
    "Jansen", "de Vries", "Bakker", "Visser", "Andersson", "Johansson", "Karlsson", "Nilsson",
    "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Patel", "Sharma", "Singh", "Kumar",
    "Gupta", "Wang", "Li", "Zhang", "Liu", "Silva", "Santos", "Oliveira", "Souza", "Pereira",
    "O'Brien", "O'Connor", "Murphy", "Kelly", "Walsh", "Byrne", "Ryan", "Fernandez", "Alvarez",
    "Romero", "Navarro",
)  # fmt: skip

SENIORITY_WEIGHTS = (
    ("c_level", 0.06),
    ("vp", 0.10),
    ("director", 0.16),
    ("manager", 0.26),
    ("individual_contributor", 0.34),
    ("unknown", 0.08),
)
# Logit contribution of the lead's seniority to its fit.
SENIORITY_FIT = {
    "c_level": 0.55,
    "vp": 0.65,
    "director": 0.45,
    "manager": 0.10,
    "individual_contributor": -0.45,
    "unknown": -0.25,
}
TITLES = {
    "c_level": ("CEO", "CFO", "CTO", "COO", "Chief Revenue Officer", "Founder & CEO"),
    "vp": ("VP Sales", "VP, Sales", "VP Marketing", "VP Operations", "VP, Customer Success"),
    "director": (
        "Director of Sales",
        "Director of Marketing",
        "Sales Operations Director",
        "Director, Revenue Operations",
        "IT Director",
    ),
    "manager": (
        "Sales Manager",
        "Marketing Manager",
        "RevOps Manager",
        "IT Manager",
        "Customer Success Manager",
        "Operations Manager",
    ),
    "individual_contributor": (
        "Account Executive",
        "Sales Development Representative",
        "Marketing Specialist",
        "Data Analyst",
        "Software Engineer",
        "Operations Analyst",
        "Office Administrator",
    ),
    # Titles that do not reveal a level; seniority stays "unknown".
    "unknown": ("Consultant", "Partner", "Intern", "Associate"),
}

# Lead sources: share of non-campaign leads and fit (logit contribution).
LEAD_SOURCE_FIT = {
    "referral": 0.80,
    "partner": 0.60,
    "event": 0.40,
    "webinar": 0.30,
    "web": 0.20,
    "content": 0.00,
    "email": 0.00,
    "paid_search": -0.10,
    "direct_mail": -0.20,
    "outbound": -0.30,
    "social": -0.50,
}
ORGANIC_SOURCES = (("web", 0.50), ("referral", 0.15), ("outbound", 0.25), ("partner", 0.10))
# Which lead source a campaign channel produces.
CHANNEL_SOURCE = {
    "email": "email",
    "paid_search": "paid_search",
    "social": "social",
    "webinar": "webinar",
    "event": "event",
    "content": "content",
    "direct_mail": "direct_mail",
    "partner": "partner",
    "telemarketing": "outbound",
    "other": "web",
}
# Channel, share of campaigns, cost range (low, high), length in days (low, high).
CAMPAIGN_CHANNELS = (
    ("email", 0.28, (500, 3_000), (1, 7)),
    ("paid_search", 0.14, (5_000, 40_000), (20, 60)),
    ("social", 0.10, (3_000, 25_000), (14, 45)),
    ("webinar", 0.14, (1_000, 6_000), (10, 21)),
    ("event", 0.08, (15_000, 90_000), (3, 10)),
    ("content", 0.12, (2_000, 12_000), (30, 90)),
    ("direct_mail", 0.04, (4_000, 20_000), (14, 30)),
    ("partner", 0.06, (2_000, 15_000), (30, 60)),
    ("telemarketing", 0.04, (5_000, 20_000), (14, 30)),
)
CAMPAIGN_TOPICS = (
    "Forecasting 101",
    "Pipeline Hygiene",
    "Revenue Operations Summit",
    "Customer Retention Playbook",
    "AI for Sales Teams",
    "Quarter-End Close",
    "Product Launch",
    "Partner Spotlight",
    "Sales Analytics Benchmark",
    "Spring Promotion",
)

DISQUALIFY_REASONS = (
    "no_budget",
    "not_a_fit",
    "no_response",
    "competitor_chosen",
    "student_or_job_seeker",
    "duplicate",
)
LOST_REASONS = ("price", "no_decision", "timing", "product_fit", "budget", "went_dark")
COMPETITORS = ("Salesforce", "HubSpot", "Pipedrive", "Zoho", "Microsoft Dynamics")
PRODUCT_LINES = ("Starter", "Professional", "Enterprise", "Analytics Add-on")
# Plan and list price per seat and month.
PLAN_PRICE = {"Starter": 25.0, "Professional": 55.0, "Enterprise": 95.0, "Analytics Add-on": 30.0}
CANCEL_REASONS = (
    "low_usage",
    "switched_to_competitor",
    "price",
    "budget_cuts",
    "poor_support",
    "company_acquired",
)
LANGUAGES = (("en", 0.62), ("de", 0.1), ("fr", 0.08), ("es", 0.1), ("pt", 0.05), ("ja", 0.05))
TIMELINES = ("this_quarter", "next_quarter", "this_year", "unknown")

WEB_PATHS = (
    "/",
    "/product",
    "/features/forecasting",
    "/features/lead-scoring",
    "/customers",
    "/blog/pipeline-hygiene",
    "/blog/churn-signals",
    "/docs/getting-started",
    "/about",
    "/careers",
)
REFERRERS = ("google", "direct", "linkedin", "newsletter", "bing", "partner")
FEATURES = (
    "pipeline_board",
    "forecast",
    "reports",
    "dashboards",
    "email_sync",
    "lead_scoring",
    "integrations",
    "admin",
)
CONTENT_ASSETS = ("ebook-forecasting", "whitepaper-revops", "template-qbr", "report-benchmark")


def _props(**choices: tuple[object, ...]) -> tuple[str, ...]:
    """Every combination of the given property values, as compact JSON objects."""
    keys = sorted(choices)
    return tuple(
        json.dumps(dict(zip(keys, combo, strict=True)), separators=(",", ":"))
        for combo in itertools.product(*(choices[k] for k in keys))
    )


_CLIENTS = ("gmail", "outlook", "apple_mail", "other")
# The `properties` JSON of each event type; an event picks one of its type's strings.
EVENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "page_view": _props(path=WEB_PATHS, referrer=REFERRERS),
    "pricing_view": _props(path=("/pricing",), plan=("starter", "professional", "enterprise")),
    "email_open": _props(client=_CLIENTS),
    "email_click": _props(client=_CLIENTS, url=("/pricing", "/product", "/blog", "/webinar")),
    "email_reply": _props(client=_CLIENTS),
    "form_submit": _props(form=("contact_us", "newsletter", "trial_signup", "gated_content")),
    "demo_request": _props(form=("demo",), preferred_time=("morning", "afternoon", "any")),
    "content_download": _props(asset=CONTENT_ASSETS),
    "webinar_attend": _props(minutes_watched=tuple(range(5, 65, 5))),
    "login": _props(method=("sso", "password", "google")),
    "feature_use": _props(feature=FEATURES),
}
